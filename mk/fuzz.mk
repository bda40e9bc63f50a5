# Coverage-guided fuzzing of the pipeline entry on the stable toolchain (fuzz/README.md).
# libfuzzer-sys builds libFuzzer itself; the SanitizerCoverage instrumentation it needs comes
# from stable codegen flags. `--target` keeps those flags off build scripts and proc macros.
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 60
FUZZ_MAX_LEN ?= 65536
FUZZ_RSS_MB ?= 2048
FUZZ_TIMEOUT ?= 10
FUZZ_TRIPLE ?= $(shell rustc -vV | sed -n 's/^host: //p')
FUZZ_TARGET_DIR := fuzz/target
FUZZ_BIN := $(FUZZ_TARGET_DIR)/$(FUZZ_TRIPLE)/release/pipeline
FUZZ_CORPUS := fuzz/corpus/pipeline
# New inputs found by a run go here, never into the committed corpus.
FUZZ_SCRATCH ?= fuzz/scratch/pipeline
FUZZ_ARTIFACTS := fuzz/artifacts/pipeline/
FUZZ_RUSTFLAGS := -Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks
FUZZ_FLAGS = -rss_limit_mb=$(FUZZ_RSS_MB) -max_len=$(FUZZ_MAX_LEN) -timeout=$(FUZZ_TIMEOUT) \
  -dict=fuzz/pipeline.dict -artifact_prefix=$(FUZZ_ARTIFACTS) -print_final_stats=1

.PHONY: fuzz-build
fuzz-build: ## Build the instrumented fuzz target (stable toolchain, fuzz/target).
	RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) build --manifest-path fuzz/Cargo.toml --release \
	  --target $(FUZZ_TRIPLE) --target-dir $(FUZZ_TARGET_DIR) --bin pipeline

# FUZZ_FORK=N runs N fuzzing processes (libFuzzer -fork) that go on past a crash
# (-ignore_crashes=1), to find more than the first; the run still fails when it wrote any
# crash, timeout or out-of-memory input to fuzz/artifacts/.
FUZZ_FORK ?=
.PHONY: fuzz
fuzz: fuzz-build ## Fuzz the pipeline entry for FUZZ_SECONDS (default 600); fails on a crash or leak.
	mkdir -p $(FUZZ_SCRATCH) $(FUZZ_ARTIFACTS)
	touch fuzz/artifacts/.run-start
	status=0; $(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	  $(if $(FUZZ_FORK),-fork=$(FUZZ_FORK) -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) \
	  $(FUZZ_SCRATCH) $(FUZZ_CORPUS) || status=$$?; \
	found=$$(find $(FUZZ_ARTIFACTS) -type f -newer fuzz/artifacts/.run-start | sort); \
	if [ -n "$$found" ]; then \
	  echo "fuzz: failing inputs (reproduce with: make fuzz-repro FUZZ_INPUT=<file>):"; \
	  echo "$$found"; exit 1; \
	fi; \
	$(if $(FUZZ_FORK),true,exit $$status)

.PHONY: fuzz-smoke
fuzz-smoke: ## Fuzz the pipeline entry for about a minute (FUZZ_SMOKE_SECONDS).
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# `make fuzz-repro FUZZ_INPUT=fuzz/artifacts/pipeline/crash-...` runs one input and prints
# the panic message.
.PHONY: fuzz-repro
fuzz-repro: fuzz-build ## Run the fuzz target on one input (FUZZ_INPUT=file).
	$(FUZZ_BIN) $(FUZZ_INPUT)

# Adds to the committed corpus the inputs of fuzz/scratch that reach code it does not
# (edge coverage only, the smallest set: -set_cover_merge=1 -use_counters=0 -use_cmp=0),
# so that the corpus stays small (about 1 MB) and keeps its hand-made seeds.
.PHONY: fuzz-cmin
fuzz-cmin: fuzz-build ## Merge fuzz/scratch into fuzz/corpus/pipeline, new edges only.
	mkdir -p $(FUZZ_SCRATCH)
	$(FUZZ_BIN) -set_cover_merge=1 -use_counters=0 -use_cmp=0 -rss_limit_mb=$(FUZZ_RSS_MB) \
	  -max_len=$(FUZZ_MAX_LEN) -timeout=$(FUZZ_TIMEOUT) $(FUZZ_CORPUS) $(FUZZ_SCRATCH)
