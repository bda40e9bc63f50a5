# Benchmarks: whole-process runs against the Python baseline and the parsing floor, the
# records per Avro file, and the criterion benchmarks of the in-memory pipeline.
BASELINE ?= bench/py_baseline.py
BENCH_RUNS ?= 5
# The workload and the archive live in memory when /dev/shm exists, so that the figures
# measure the programs rather than the disk (the Lambda reads its batch from memory).
BENCH_WORK ?= $(if $(wildcard /dev/shm/.),/dev/shm/dmd-bench,.bench)

# Run with moto's S3 (tests/with-servers.sh), for the archiver's time per invocation.
.PHONY: bench
bench: venv ## Release builds, generated workload, records/s on all cores and on one, memory, invocations against their bound, cost by memory size (root, for a cgroup) -> docs/performance.md.
	$(CARGO) build --release -p dmd-cli -p dmd-bench-floor -p dmd-functions
	tests/with-servers.sh $(PY) bench/run.py --dmd $(TARGET_DIR)/release/dmd --floor $(TARGET_DIR)/release/floor \
	  --archiver $(TARGET_DIR)/release/archiver --baseline $(BASELINE) --python $(abspath $(PY)) \
	  --work $(BENCH_WORK) --runs $(BENCH_RUNS) --out docs/performance.md
	$(PY) bench/invocation_bound.py --archiver $(TARGET_DIR)/release/archiver --dmd $(TARGET_DIR)/release/dmd \
	  --out docs/performance.md
	$(PY) bench/cpu_share.py --archiver $(TARGET_DIR)/release/archiver --dmd $(TARGET_DIR)/release/dmd \
	  --out docs/performance.md

.PHONY: bench-stages
bench-stages: ## Criterion benchmarks of the in-memory pipeline, by stage.
	$(CARGO) bench -p dmd-archive --bench pipeline

# Records per file depend on the workload, not on the speed of the build: the debug dmd will do.
.PHONY: bench-files
bench-files: ## Records per Avro file by batch size and batching window -> docs/performance.md.
	$(CARGO) build --bin dmd
	$(PYTHON) bench/records_per_file.py --dmd $(DMD) --work $(BENCH_WORK)/files --out docs/performance.md

# The debug dmd is used unless a release one is built (DMD_BIN is cleared so that the script
# picks target/release/dmd when it exists); the figures say which.
.PHONY: bench-compact
bench-compact: venv ## Compact a day of 1,000,000 records; one partition's query over Avro vs Parquet (DuckDB) -> docs/performance.md.
	$(CARGO) build --bin dmd
	DMD_BIN= DMD_PYTHON=$(abspath $(PY)) bench/compact_bench.sh $(BENCH_WORK)/compact docs/performance.md

# The figures of docs/performance.md, "Auditing against the stream", come from this run.
.PHONY: bench-audit
bench-audit: venv ## dmd audit of 100,000 changes over 4 Kinesis shards on moto: time and peak memory.
	$(CARGO) build --release --bin dmd
	DMD_BIN=$(TARGET_DIR)/release/dmd tests/with-servers.sh $(PY) bench/audit_time.py 100000 4

# The figures of docs/performance.md, "One build for every function": each function's start
# and the archiver's invocations, from the bootstrap that `sam build` makes.
.PHONY: bench-functions
bench-functions: venv sam-build ## Cold start and resident set of each function, archiver invocations (one core, moto).
	$(CARGO) build --bin dmd
	rm -rf $(BENCH_WORK)/functions
	$(DMD) generate --records 1000 --batch 1000 --seed 1 --out $(BENCH_WORK)/functions
	tests/with-servers.sh $(PY) bench/functions_start.py --bootstrap $(SAM_BOOTSTRAP) \
	  --batch $(BENCH_WORK)/functions/batch-00000.json --runs 50 --label "sam build"

# The figures of docs/performance.md, "Invocation time against its bound": the archiver as
# `sam build` builds it, on one core, against a loopback S3 that answers each PUT late.
.PHONY: bench-bound
bench-bound: venv sam-build ## Archiver invocations against cpu + 2 x PUT latency (40 and 100 ms, a slow tail), 1 to 28 files.
	$(CARGO) build --bin dmd
	$(PY) bench/invocation_bound.py --archiver $(SAM_BOOTSTRAP) --dmd $(DMD) --out docs/performance.md

# How long the archiver takes to answer a batch it cannot write (docs/deploy.md, the retry
# defaults).
.PHONY: bench-failing
bench-failing: sam-build ## The archiver's failing invocation when S3 refuses, sheds load, or never answers.
	$(PYTHON) bench/failing_invocation.py --archiver $(SAM_BOOTSTRAP) --batch events/dynamodb-batch.json

# The figures of docs/performance.md, "Memory size and cost": the archiver in a CPU cgroup
# limited to each memory size's share of a core (needs root, for the cgroup).
.PHONY: bench-cpu
bench-cpu: venv sam-build ## The archiver at 128 to 1,769 MB of CPU share: billed duration and cost per million changes.
	$(CARGO) build --bin dmd
	$(PY) bench/cpu_share.py --archiver $(SAM_BOOTSTRAP) --dmd $(DMD) --out docs/performance.md
