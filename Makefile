# The README's commands. Every target sets up the virtualenv itself on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet
RUN_STAMP := $(VENV)/.run-stamp
TEST_STAMP := $(VENV)/.test-stamp
# The locks (uv pip compile --universal --generate-hashes; see README "Dependencies").
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --quiet
RUNTIME_LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt

# Demo-only secrets so `make run` works on a fresh clone; real deployments set their own.
run: export SKK_KEY_PASSPHRASE ?= demo-only-passphrase-not-secret
run: export SKK_NIK_PEPPER ?= demo-only-pepper-not-secret

# What ruff formats and checks: the package, the suite, the benchmarks, the fuzzers and the
# top-level scripts.
PY_SOURCES := verifier tests benchmarks fuzz typings gunicorn.conf.py wsgi.py

.PHONY: setup hooks run test test-fast lint fmt bench fuzz translations lock outdated wheel clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "cannot create a virtualenv: on Debian run 'apt-get install python3-venv'"; exit 1; }

# The service alone, exactly as locked (hashes checked), then the project itself on top.
$(RUN_STAMP): $(RUNTIME_LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r $(RUNTIME_LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

# The test and lock tools besides, from their own lock.
$(TEST_STAMP): $(RUN_STAMP) $(DEV_LOCK)
	$(PIP) install --require-hashes -r $(DEV_LOCK)
	@touch $@

setup: $(RUN_STAMP)

# Git hooks (.pre-commit-config.yaml): the checks of `make lint` on every commit, from .venv.
hooks: $(TEST_STAMP)
	$(BIN)/pre-commit install

# Sets up the database and demo data, prints the demo URLs, then serves them until Ctrl-C.
run: $(RUN_STAMP)
	$(BIN)/skk init
	$(BIN)/skk demo
	@echo "Serving on http://127.0.0.1:8000 - open the URLs above (Ctrl-C stops)."
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(BIN)/mypy benchmarks
	$(BIN)/lint-imports --no-cache

# Rewrite the sources in the house format, then apply ruff's safe fixes (imports, upgrades).
fmt: $(TEST_STAMP)
	$(BIN)/ruff format $(PY_SOURCES)
	$(BIN)/ruff check --fix $(PY_SOURCES)

test: lint
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium is missing, so the browser tests" \
		"will be skipped (apt-get install chromium; .ci/run installs it)."
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered

# The unit tier only (in process, no server, no browser): a quick check while working, on every
# core (pytest-xdist; README "Habits" has the measured gain).
test-fast: lint
	$(BIN)/python -m pytest -m unit -n auto

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_verify.py
	$(BIN)/python benchmarks/bench_qr.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_stores.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_offline.py
	$(BIN)/python benchmarks/bench_crew.py

# Long fuzzing runs (minutes each) of the token parser, the QR payload decoder and the cohort
# reader; `make test` runs the same properties with few examples.
fuzz: $(TEST_STAMP)
	$(BIN)/python fuzz/fuzz_token.py
	$(BIN)/python fuzz/fuzz_qr_payload.py
	$(BIN)/python fuzz/fuzz_cohort_csv.py

# Rebuild the message catalogs after changing a translatable string in templates/ or verifier/.
translations: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o verifier/translations/messages.pot .
	$(BIN)/pybabel update -i verifier/translations/messages.pot -d verifier/translations
	$(BIN)/pybabel compile -d verifier/translations

# The installable product (docs/deploy.md §2): the wheel and the runtime lock beside it.
wheel: $(RUN_STAMP)
	rm -rf dist build
	$(PIP) wheel --no-deps --no-build-isolation --wheel-dir dist .
	cp $(RUNTIME_LOCK) dist/

# Rewrite both locks from pyproject.toml's ranges (newest releases that fit); commit the result.
lock: $(TEST_STAMP)
	$(LOCK) --extra build -o $(RUNTIME_LOCK)
	$(LOCK) --extra build --extra test --extra dev -o $(DEV_LOCK)

# What newer releases exist than the locked ones.
outdated: $(TEST_STAMP)
	$(BIN)/python -m pip list --outdated

clean:
	rm -rf $(VENV) dist build instance .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* .hypothesis
