# The two commands: `make run` (set up and start the service) and `make test`.
# Both work from a clean clone with only Python 3.11+ and make installed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# uv installs in ~15 s what pip takes ~80 s to resolve and install; pip is the fallback.
INSTALL = sh -c 'if $(VENV)/bin/uv --version >/dev/null 2>&1; \
	then exec $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) "$$@"; \
	else exec $(PY) -m pip install --quiet --disable-pip-version-check "$$@"; fi' install

.DEFAULT_GOAL := help
.PHONY: help run test lint bench clean translations translations-extract translations-update

help:
	@echo "make run    set up and start the service (web + worker) on http://127.0.0.1:$${PORT:-5000}"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff, mypy and the import contracts"
	@echo "make bench  benchmarks, then one table of their figures and goals (BENCH_QUICK=1: shorter)"
	@echo "make translations-update  extract the page text and merge it into every config/locales/*/.po"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	-$(PY) -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed-run: pyproject.toml setup.py matching/_flow.pyx | $(VENV)/bin/python
	@$(INSTALL) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml setup.py matching/_flow.pyx | $(VENV)/bin/python
	@$(INSTALL) -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

# Page text: gettext catalogues in config/locales/<lang>/LC_MESSAGES/messages.po, compiled to
# .mo (not committed: built here, by run and test). translations-update extracts the English
# text of the code and templates and merges it into every .po for translators to fill.
LOCALES  := config/locales
POT      := $(LOCALES)/messages.pot
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po))

%.mo: %.po | $(VENV)/.installed-run
	@$(VENV)/bin/pybabel compile --statistics -i $< -o $@ 2>&1 | grep -v '^compiling' || true

translations: $(MO_FILES)

translations-extract: $(VENV)/.installed-run
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 -k NNP_:1c,2,3 \
		--no-location --sort-output --no-wrap --project=mutualaid -o $(POT) .

translations-update: translations-extract
	$(VENV)/bin/pybabel update -i $(POT) -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete --no-wrap

run: $(VENV)/.installed-run translations
	$(PY) -m mutualaid.launcher

# The suite runs on four processes (pytest-xdist) even on two cores: the end-to-end tests
# and the races spend much of their time waiting on the services and locks they start,
# which the other processes fill (measured on two cores: 3 processes 7:35, 4 processes
# 7:15). tests/conftest.py deals the long modules out first, one share per process, and
# work stealing evens out the end. PYTEST_ARGS="-n 0" runs it in one.
PYTEST_ARGS ?= -n 4 --dist worksteal

# axe-core for the accessibility browser test, at the version package-lock.json pins (npm
# ci: exactly that, from the registry). Without npm the test skips, except under CI=true.
AXE := tests/e2e/axe/node_modules/axe-core/axe.min.js

$(AXE): tests/e2e/axe/package.json tests/e2e/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/e2e/axe --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility test (axe-core) will be skipped"; fi

# Bytecode is written while the suite runs, even where PYTHONDONTWRITEBYTECODE is set (as on
# the machines this project is built on): without it each of the four test processes and each service
# it starts (the launcher, gunicorn, the worker, every CLI command) compiles the sources
# again, and pytest rewrites every test module again (collection 12.7 -> 7.2 s a process).
# They are compiled once, first, so that the processes do not all compile them at once.
test: export PYTHONDONTWRITEBYTECODE :=
test: $(VENV)/.installed-test translations $(AXE)
	@$(PY) -m compileall -q -j 0 mutualaid matching sms bench tests
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The load, chaos and matching benchmarks, then one table of figures and goals (an hour or
# more); BENCH_QUICK=1 make bench runs shorter versions.
bench: $(VENV)/.installed-test
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis tests/e2e/axe/node_modules
