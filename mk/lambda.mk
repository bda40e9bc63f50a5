# The `archiver` Lambda function on this machine: `make watch` serves it with
# `cargo lambda watch` (writing to a local moto S3 server by default), `make invoke` sends
# it an event file, `make objects` lists what it wrote.

CARGO_LAMBDA := $(abspath $(VENV))/bin/cargo-lambda
LAMBDA_PORT ?= 9000
MOTO_PORT ?= 5055
ARCHIVE_BUCKET ?= dmd-archive
EVENT ?= events/dynamodb-batch.json
# moto (default): a local S3 on 127.0.0.1:$(MOTO_PORT), started and stopped with the watch.
# aws: the bucket ARCHIVE_BUCKET in AWS, with your usual AWS credentials and region.
WATCH_S3 ?= moto

.PHONY: watch
watch: venv ## Serve the archiver function on 127.0.0.1:LAMBDA_PORT (9000), writing to moto (WATCH_S3=aws: to AWS).
ifeq ($(WATCH_S3),moto)
	DMD_MOTO_PORT=$(MOTO_PORT) tests/with-servers.sh bash -c '\
	  $(PY) -c "import boto3, os; boto3.client(\"s3\").create_bucket(Bucket=\"$(ARCHIVE_BUCKET)\", \
	    CreateBucketConfiguration={\"LocationConstraint\": os.environ[\"AWS_REGION\"]})" && \
	  echo "watch: S3 is moto on $$AWS_ENDPOINT_URL_S3, bucket $(ARCHIVE_BUCKET)" && \
	  PATH="$(abspath $(VENV))/bin:$$PATH" ARCHIVE_BUCKET=$(ARCHIVE_BUCKET) \
	  cargo lambda watch --package dmd-lambda --bin archiver --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT)'
else ifeq ($(WATCH_S3),aws)
	PATH="$(abspath $(VENV))/bin:$$PATH" ARCHIVE_BUCKET=$(ARCHIVE_BUCKET) \
	  cargo lambda watch --package dmd-lambda --bin archiver --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT)
else
	@echo "WATCH_S3 must be moto or aws, not $(WATCH_S3)" >&2; exit 2
endif

.PHONY: invoke
invoke: ## Send EVENT=events/....json to the function that `make watch` serves; print its answer.
	@test -f "$(EVENT)" || { echo "invoke: no event file $(EVENT)" >&2; exit 2; }
	$(CARGO_LAMBDA) lambda invoke archiver --data-file $(EVENT) \
	  --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT) --output-format json

.PHONY: objects
objects: ## List the objects in the moto bucket of `make watch`.
	@AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(MOTO_PORT) AWS_ACCESS_KEY_ID=dmd-test AWS_SECRET_ACCESS_KEY=dmd-test \
	  AWS_REGION=eu-west-1 $(PY) -c 'import boto3; \
	  pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket="$(ARCHIVE_BUCKET)"); \
	  [print(o["Size"], o["Key"], sep="\t") for p in pages for o in p.get("Contents", [])]'
