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
run: bins ## Archive the sample events into ./archive and show what was written.
	rm -rf $(OUT)
	$(DMD) archive --out $(OUT) $(EVENTS)
	@echo; echo "== files written under $(OUT)/"; find $(OUT) -type f | sort
	@echo; echo "== one record of each type (dmd cat)"
	@for t in demand notification event sale; do \
	  f=$$(find $(OUT)/data/$$t -name '*.avro' | sort | head -n 1); \
	  [ -n "$$f" ] && $(DMD) cat "$$f" | head -n 1; \
	done
	@echo; echo "== error file entries (error_type, record_type, message)"
	@cat $(OUT)/errors/dt=*/*.json | $(PYTHON) -c 'import sys, json; [print(d["error_type"], d["record_type"] or "-", d["message"], sep="\t") for d in map(json.loads, sys.stdin)]'
	@echo; echo "== the archive against its manifests (dmd verify)"
	@$(DMD) verify --out $(OUT)

.PHONY: bins
bins: ## Build the binaries (debug).
	$(CARGO) build --workspace --bins

$(VENV)/.installed: tests/py/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the test-side tools (fastavro, ...).

.PHONY: lint
lint: ## cargo fmt --check and clippy with warnings as errors.
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Binaries and tests are built in one go, so that both get the same features and the
# tests compile nothing again.
.PHONY: test
test: venv lint ## Install what the tests need, start the servers, run every test.
	$(CARGO) build --workspace --bins --tests
	$(MAKE) sam-build
	DMD_BOOTSTRAP=$(abspath $(SAM_BOOTSTRAP)) tests/with-servers.sh $(CARGO) test --workspace --no-fail-fast
	$(MAKE) test-deploy TEST_BINS=
	$(MAKE) fuzz-smoke

# Further targets by topic (deployment, benchmarks, ...).
include $(sort $(wildcard mk/*.mk))

.PHONY: clean
clean: ## Remove build output (target/, .aws-sam/), the virtualenv and ./archive.
	$(CARGO) clean
	rm -rf $(VENV) $(OUT) .aws-sam
