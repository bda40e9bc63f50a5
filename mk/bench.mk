# Benchmarks: whole-process runs against the Python baseline and the parsing floor, the
# records per Avro file, and the criterion benchmarks of the in-memory pipeline.
BASELINE ?= bench/py_baseline.py
BENCH_RUNS ?= 5
# The workload and the archive live in memory when /dev/shm exists, so that the figures
# measure the programs rather than the disk (the Lambda reads its batch from memory).
BENCH_WORK ?= $(if $(wildcard /dev/shm/.),/dev/shm/dmd-bench,.bench)

# Run with moto's S3 (tests/with-servers.sh), for the archiver's time per invocation.
.PHONY: bench
bench: venv ## Release builds, generated workload, records/s on all cores and on one, memory, invocations -> docs/performance.md.
	$(CARGO) build --release -p dmd-cli -p dmd-bench-floor -p dmd-lambda
	tests/with-servers.sh $(PY) bench/run.py --dmd $(TARGET_DIR)/release/dmd --floor $(TARGET_DIR)/release/floor \
	  --archiver $(TARGET_DIR)/release/archiver --baseline $(BASELINE) --python $(abspath $(PY)) \
	  --work $(BENCH_WORK) --runs $(BENCH_RUNS) --out docs/performance.md

.PHONY: bench-stages
bench-stages: ## Criterion benchmarks of the in-memory pipeline, by stage.
	$(CARGO) bench -p dmd-archive --bench pipeline

# Records per file depend on the workload, not on the speed of the build: the debug dmd will do.
.PHONY: bench-files
bench-files: ## Records per Avro file by batch size and batching window -> docs/performance.md.
	$(CARGO) build --bin dmd
	$(PYTHON) bench/records_per_file.py --dmd $(DMD) --work $(BENCH_WORK)/files --out docs/performance.md
