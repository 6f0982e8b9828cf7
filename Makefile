# news-ingest: the two commands that matter are `make demo` and `make test`.
# Everything is installed into .venv by this file; nothing else is needed but
# Python 3.11+, a C compiler and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= sources.example.yml
PYTEST_ARGS ?= -n 2

.PHONY: help install demo test fuzz browser run lint bench airflow clean

help:
	@echo "make demo            offline demo: embedded PostgreSQL, demo news site, the DAG through Airflow"
	@echo "make test            the whole test suite"
	@echo "make fuzz            tests/test_fuzz.py long and random: HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py (about ten minutes)"
	@echo "make run CONFIG=...  one pass over a real sources file (default $(CONFIG))"
	@echo "make airflow         Airflow on 127.0.0.1:8080 with the DAGs unpaused (PAUSED=1 keeps them paused; Ctrl-C stops)"
	@echo "make lint            ruff and mypy"
	@echo "make bench           the benchmarks under bench/"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "news-ingest needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/news-ingest demo

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The property tests with far more (and random) inputs than `make test` gives them.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py -p no:cacheprovider --hypothesis-show-statistics

# The UI test drives Debian's Chromium; install it when missing and we may (root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
	       || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }; } \
	  || echo "chromium not installed: the browser test will be skipped"; }

run: $(STAMP)
	$(BIN)/news-ingest run --config $(CONFIG)

# Every listener on 127.0.0.1; the DAGs unpaused unless PAUSED=1 (make airflow PAUSED=1).
airflow: $(STAMP)
	NEWS_INGEST_AIRFLOW_PAUSED=$(PAUSED) $(BIN)/news-ingest airflow

lint: $(STAMP)
	$(BIN)/ruff check ingest dags plugins tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/extraction.py

clean:
	rm -rf $(VENV) .news-ingest .pytest_cache .mypy_cache .ruff_cache *.egg-info
