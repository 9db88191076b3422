# Everything runs inside .venv, created from the pinned constraints on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format typecheck bench clean

install: $(STAMP)

# native/: the compiled CloudTrail column builder, a C extension built from source (needs a C
# compiler); Mamori runs without it, only slower.
$(STAMP): pyproject.toml constraints.txt native/pyproject.toml native/setup.py native/mamori_native.c
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet -c constraints.txt ./native
	touch $(STAMP)

demo: install
	$(BIN)/mamori demo

test: install lint
	bash scripts/test.sh -n auto

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/iam.py
	$(BIN)/python bench/waf.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
