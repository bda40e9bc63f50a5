# The PII detector measured on its corpus (crates/archive/tests/corpus, tools/pii_corpus):
# recall on phone numbers and e-mail addresses by form and encoding, benign strings flagged.
# The corpus's generators run in a virtualenv of their own, outside the project's .venv.
PII_CORPUS_VENV ?= $(or $(TMPDIR),/tmp)/dmd-pii-corpus-venv

.PHONY: pii-recall
pii-recall: ## Recall of the PII detector on its corpus, by form and encoding; fails below 100 %.
	$(CARGO) run --release -p dmd-archive --example pii_recall

$(PII_CORPUS_VENV)/.installed: tools/pii_corpus/requirements.txt
	$(PYTHON) -m venv $(PII_CORPUS_VENV)
	$(PII_CORPUS_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/pii_corpus/requirements.txt
	touch $@

.PHONY: pii-corpus
pii-corpus: $(PII_CORPUS_VENV)/.installed ## Regenerate the PII detector's corpus (phonenumbers, Faker; fixed seeds).
	$(PII_CORPUS_VENV)/bin/python tools/pii_corpus/make_corpus.py
