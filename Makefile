# The README's commands. Every target sets up the virtualenv itself on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Demo-only secrets so `make run` works on a fresh clone; real deployments set their own.
run: export SKK_KEY_PASSPHRASE ?= demo-only-passphrase-not-secret
run: export SKK_NIK_PEPPER ?= demo-only-pepper-not-secret

.PHONY: setup run test lint bench fuzz translations clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "cannot create a virtualenv: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

# Sets up the database and demo data, prints the demo URLs, then serves them until Ctrl-C.
run: $(STAMP)
	$(BIN)/skk init
	$(BIN)/skk demo
	@echo "Serving on http://127.0.0.1:8000 - open the URLs above (Ctrl-C stops)."
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check verifier tests benchmarks fuzz gunicorn.conf.py wsgi.py
	$(BIN)/mypy

test: lint
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium is missing, so the browser tests" \
		"will be skipped (apt-get install chromium; .ci/run installs it)."
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_verify.py
	$(BIN)/python benchmarks/bench_qr.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_stores.py
	$(BIN)/python benchmarks/bench_batch.py

# Long fuzzing runs (minutes each) of the token parser, the QR payload decoder and the cohort
# reader; `make test` runs the same properties with few examples.
fuzz: $(STAMP)
	$(BIN)/python fuzz/fuzz_token.py
	$(BIN)/python fuzz/fuzz_qr_payload.py
	$(BIN)/python fuzz/fuzz_cohort_csv.py

# Rebuild the message catalogs after changing a translatable string in templates/ or verifier/.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o verifier/translations/messages.pot .
	$(BIN)/pybabel update -i verifier/translations/messages.pot -d verifier/translations
	$(BIN)/pybabel compile -d verifier/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis
