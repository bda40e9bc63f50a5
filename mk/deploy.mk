# Deployment with SAM, and the checks of template.yaml and of the Athena tables.
# `build` and `deploy` need cargo-lambda and the SAM CLI (docs/deploy.md); the test
# targets need only what `make venv` and `make bins` install.

SAM ?= sam
# The function's architecture: arm64 (the template's default) or x86_64.
LAMBDA_ARCH ?= arm64
LAMBDA_ARCH_FLAG := $(if $(filter x86_64 x86-64,$(LAMBDA_ARCH)),--x86-64,--arm64)
LAMBDA_TARGET := $(if $(filter x86_64 x86-64,$(LAMBDA_ARCH)),x86_64,aarch64)-unknown-linux-gnu
# What the tests need built first; `make test` builds it itself and sets this empty.
TEST_BINS ?= bins
PYTEST_ATHENA := $(PY) -m pytest -c tests/athena/pytest.ini
# cargo-lambda and zig, its linker, come with `make venv`; an install of your own on
# PATH works too.
LAMBDA_PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: build
build: ## Build the functions' one executable: cargo lambda build --release --arm64 (LAMBDA_ARCH=x86_64 for Intel).
	@export PATH="$(LAMBDA_PATH)"; \
	command -v cargo-lambda >/dev/null || { echo "cargo-lambda is not installed: make venv, or pip install cargo-lambda (docs/deploy.md)" >&2; exit 1; }; \
	if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx '$(LAMBDA_TARGET)'; then \
	  echo "adding the Rust standard library for $(LAMBDA_TARGET) (rustup downloads it)"; \
	  rustup target add $(LAMBDA_TARGET); \
	fi; \
	echo "cargo lambda build --release $(LAMBDA_ARCH_FLAG) --bin dmd-function"; \
	$(CARGO) lambda build --release $(LAMBDA_ARCH_FLAG) --bin dmd-function
	@ls -l $(TARGET_DIR)/lambda/dmd-function/bootstrap

# `make sam-build`: the function as `sam build` makes it for deployment, which `make test`
# serves to tests/bootstrap.rs. For x86_64 by default, the processor of this machine and
# of CI: an arm64 build needs the aarch64 Rust standard library from rustup
# (docs/deploy.md). The template's default for deployment stays arm64.
SAM_BUILD_ARCH ?= x86_64
# One build for every function: the SAM CLI puts it in the first function's folder with
# -Shared (docs/deploy.md).
SAM_BOOTSTRAP := .aws-sam/build/ArchiverFunction-Shared/bootstrap

.PHONY: sam-build
sam-build: venv ## sam build for SAM_BUILD_ARCH (x86_64) into .aws-sam/build, as make test does.
	@export PATH="$(LAMBDA_PATH)" SAM_CLI_TELEMETRY=0; set -x; \
	$(SAM) build --parameter-overrides Architecture=$(SAM_BUILD_ARCH)
	@# The archiver's path of a build per function, for scripts that still use it; the
	@# built template does not name it, so sam deploy ignores it.
	@ln -sfn ArchiverFunction-Shared .aws-sam/build/ArchiverFunction
	@ls -l $(SAM_BOOTSTRAP)

.PHONY: deploy
# The code is built for the Architecture the stack was deployed with (saved in
# samconfig.toml by the first, guided, deploy), else for LAMBDA_ARCH; the guided deploy
# offers the same value, so that the code and the function's processor agree.
deploy: ## sam build and sam deploy (guided the first time; the answers go to samconfig.toml).
	@export PATH="$(LAMBDA_PATH)"; \
	command -v $(SAM) >/dev/null || { echo "the SAM CLI is not installed (docs/deploy.md)" >&2; exit 1; }; \
	command -v cargo-lambda >/dev/null || { echo "cargo-lambda is not installed: make venv, or pip install cargo-lambda (docs/deploy.md)" >&2; exit 1; }; \
	arch=$$(sed -n 's/.*Architecture=\\"\([a-z0-9_]*\)\\".*/\1/p' samconfig.toml | head -n 1); \
	arch=$${arch:-$(LAMBDA_ARCH)}; \
	echo "building for $$arch (the stack's saved Architecture, else LAMBDA_ARCH)"; \
	set -x; $(SAM) build --parameter-overrides Architecture=$$arch; \
	if grep -q '^stack_name' samconfig.toml; then $(SAM) deploy; \
	else $(SAM) deploy --guided --parameter-overrides Architecture=$$arch; fi

.PHONY: glue-tables
glue-tables: ## Regenerate template.yaml's Glue tables and saved queries from the .avsc files and docs/athena.md.
	$(PYTHON) tools/glue_tables.py write

.PHONY: lint-template
lint-template: venv ## cfn-lint template.yaml; check its Glue tables against the .avsc files.
	$(PY) tools/glue_tables.py check
	$(VENV)/bin/cfn-lint template.yaml

.PHONY: test-template
test-template: venv $(TEST_BINS) ## Template: every tests/athena/test_*template.py (cfn-lint before and after the SAM transform, settings, alarms, Glue tables) and projection.
	$(PYTEST_ATHENA) $(sort $(wildcard tests/athena/test_*template.py)) tests/athena/test_projection.py

.PHONY: test-athena
test-athena: venv $(TEST_BINS) ## Athena compatibility: the tables' DDL and docs/athena.md's queries in Spark (Hive SerDe, Parquet).
	$(PYTEST_ATHENA) tests/athena/test_athena_queries.py tests/athena/test_parquet_tables.py

.PHONY: test-deploy
test-deploy: test-template test-athena ## Both of the above (what `make test` runs).
