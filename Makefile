# dmd-pipeline: the two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO  ?= cargo
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Where cargo puts what it builds (CARGO_TARGET_DIR is honoured).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
DMD    := $(TARGET_DIR)/debug/dmd
# `make run`'s dmd: the archive in a folder only (no AWS SDK, no Arrow), built in minutes.
RUN_DMD := $(TARGET_DIR)/quick/dmd
OUT    ?= archive
# Sample events that make up the default run (the payload that is not a stream event is
# there to be refused, so it is left out).
EVENTS := $(filter-out events/not-a-stream-event.json,$(sort $(wildcard events/*.json)))

export DMD_PYTHON := $(abspath $(PY))
export DMD_BIN := $(abspath $(DMD))

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

.PHONY: run
run: run-dmd ## Archive the sample events into ./archive and show what was written.
	rm -rf $(OUT)
	$(RUN_DMD) archive --out $(OUT) $(EVENTS)
	@echo; echo "== files written under $(OUT)/"; find $(OUT) -type f | sort
	@echo; echo "== one record of each type (dmd cat)"
	@for t in demand notification event sale; do \
	  f=$$(find $(OUT)/data/$$t -name '*.avro' | sort | head -n 1); \
	  [ -n "$$f" ] && $(RUN_DMD) cat "$$f" | head -n 1; \
	done
	@echo; echo "== error file entries (error_type, record_type, message)"
	@cat $(OUT)/errors/dt=*/*.json | $(PYTHON) -c 'import sys, json; [print(d["error_type"], d["record_type"] or "-", d["message"], sep="\t") for d in map(json.loads, sys.stdin)]'
	@echo; echo "== the archive against its manifests (dmd verify)"
	@$(RUN_DMD) verify --out $(OUT)

# Only what `make run` runs: the dmd for folders (crates/cli, --no-default-features).
.PHONY: run-dmd
run-dmd:
	$(CARGO) build --profile quick -p dmd-cli --bin dmd --no-default-features

.PHONY: bins
bins: ## Build the binaries (debug).
	$(CARGO) build --workspace --bins

$(VENV)/.installed: tests/py/requirements.txt
	@echo "make venv: installing the test tools into $(VENV) (PySpark, moto, aws-sam-cli, ...): about 10 minutes the first time"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar off --disable-pip-version-check -r tests/py/requirements.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the test-side tools (fastavro, ...).

.PHONY: lint
lint: ## cargo fmt --check and clippy with warnings as errors (and on the dmd of `make run`).
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p dmd-cli --bins --no-default-features -- -D warnings

# Binaries and tests are built in one go, so that both get the same features and the
# tests compile nothing again. Each step's time is printed as it ends and all of them at
# the end (mk/step.sh).
STEP_LOG := $(TARGET_DIR)/test-steps.tsv
STEP := STEP_LOG=$(STEP_LOG) mk/step.sh
.PHONY: test
test: ## Install what the tests need, start the servers, run every test.
	@mkdir -p $(TARGET_DIR) && rm -f $(STEP_LOG)
	@$(STEP) venv $(MAKE) --no-print-directory venv
	@$(STEP) lint $(MAKE) --no-print-directory lint
	@$(STEP) run $(MAKE) --no-print-directory run OUT=$(TARGET_DIR)/run-archive
	@$(STEP) build $(CARGO) build --workspace --bins --tests
	@$(STEP) sam-build $(MAKE) --no-print-directory sam-build
	@$(STEP) tests env DMD_BOOTSTRAP=$(abspath $(SAM_BOOTSTRAP)) tests/with-servers.sh $(CARGO) test --workspace --no-fail-fast
	@$(STEP) test-deploy $(MAKE) --no-print-directory test-deploy TEST_BINS=
	@$(STEP) fuzz-smoke $(MAKE) --no-print-directory fuzz-smoke
	@$(STEP) --report

# Further targets by topic (deployment, benchmarks, ...).
include $(sort $(wildcard mk/*.mk))

.PHONY: clean
clean: ## Remove build output (target/, .aws-sam/), the virtualenv and ./archive.
	$(CARGO) clean
	rm -rf $(VENV) $(OUT) .aws-sam
