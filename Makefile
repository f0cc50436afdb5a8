# The README's commands. Every target sets up the virtualenv itself on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Demo-only secrets so `make run` works on a fresh clone; real deployments set their own.
run: export SKK_KEY_PASSPHRASE ?= demo-only-passphrase-not-secret
run: export SKK_NIK_PEPPER ?= demo-only-pepper-not-secret

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "cannot create a virtualenv: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/skk init
	$(BIN)/skk demo

lint: $(STAMP)
	$(BIN)/ruff check verifier tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_verify.py
	$(BIN)/python benchmarks/bench_qr.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis
