# The Lambda functions on this machine, in their local environment
# ([package.metadata.lambda.env] of crates/functions/Cargo.toml: the bucket of a moto S3
# server on the loopback). `make moto` serves that S3, `make watch` serves it and the
# functions (`cargo lambda watch`), `make invoke` sends the archiver an event file,
# `make objects` lists what it wrote.

CARGO_LAMBDA := $(abspath $(VENV))/bin/cargo-lambda
LAMBDA_PORT ?= 9000
EVENT ?= events/dynamodb-batch.json

# The bucket and moto's port, read from the local environment (so they cannot disagree),
# once.
LOCAL_S3 = $(eval LOCAL_S3 := $(shell $(CARGO) metadata --no-deps --format-version 1 | $(PYTHON) -c 'import json, sys; \
  env = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == "dmd-functions")["metadata"]["lambda"]["env"]; \
  print(env["ARCHIVE_BUCKET"], env["AWS_ENDPOINT_URL_S3"].rsplit(":", 1)[1])'))$(LOCAL_S3)
LOCAL_BUCKET = $(word 1,$(LOCAL_S3))
LOCAL_MOTO_PORT = $(word 2,$(LOCAL_S3))

# Runs $(1) with moto on 127.0.0.1:LOCAL_MOTO_PORT and the bucket LOCAL_BUCKET in it;
# Ctrl-C stops both.
with_local_s3 = DMD_MOTO_PORT=$(LOCAL_MOTO_PORT) tests/with-servers.sh bash -c '\
  $(PY) -c "import boto3, os; boto3.client(\"s3\").create_bucket(Bucket=\"$(LOCAL_BUCKET)\", \
    CreateBucketConfiguration={\"LocationConstraint\": os.environ[\"AWS_REGION\"]})" && \
  echo "S3 is moto on $$AWS_ENDPOINT_URL_S3, bucket $(LOCAL_BUCKET)" && $(1)'

.PHONY: moto
moto: venv ## Serve the functions' local S3 (moto on the loopback, with their bucket) until Ctrl-C.
	$(call with_local_s3,sleep infinity)

.PHONY: watch
watch: venv ## Serve the local S3 and the functions (cargo lambda watch) on 127.0.0.1:LAMBDA_PORT (9000).
	@# Built here, where its progress shows, with the features cargo lambda watch builds
	@# with, so the first `make invoke` finds it built instead of waiting on a silent build.
	$(CARGO) build -p dmd-functions
	$(call with_local_s3,PATH="$(abspath $(VENV))/bin:$$PATH" \
	  cargo lambda watch --package dmd-functions --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT))

.PHONY: invoke
invoke: ## Send EVENT=events/....json to the archiver that `make watch` serves; print its answer.
	@test -f "$(EVENT)" || { echo "invoke: no event file $(EVENT)" >&2; exit 2; }
	$(CARGO_LAMBDA) lambda invoke archiver --data-file $(EVENT) \
	  --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT) --output-format json

.PHONY: objects
objects: ## List the objects in the local S3 bucket of `make moto` and `make watch`.
	@AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(LOCAL_MOTO_PORT) AWS_ACCESS_KEY_ID=dmd-local AWS_SECRET_ACCESS_KEY=dmd-local \
	  AWS_REGION=eu-west-1 $(PY) -c 'import boto3; \
	  pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket="$(LOCAL_BUCKET)"); \
	  [print(o["Size"], o["Key"], sep="\t") for p in pages for o in p.get("Contents", [])]'
