# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Embedded development defaults (SQLite, no Redis, console SMS). Production sets DEBUG=false
# and the settings listed in README.md.
export DEBUG ?= true

.PHONY: run test lint format bench messages install install-dev node clean

$(PY):
	@echo "==> Creating the virtual environment in $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "==> Installing dependencies (only when pyproject.toml changes)"
	$(PY) -m pip install --quiet .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	@echo "==> Installing dependencies and test tools (only when pyproject.toml changes)"
	$(PY) -m pip install --quiet ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	@echo "==> Applying database migrations"
	$(PY) manage.py migrate --noinput
	@echo "==> Importing the newest of ICE's 287(g) lists bundled with the project (once)"
	$(PY) manage.py import_287g --bundled
	@echo "==> Loading the demo content"
	$(PY) manage.py load_demo
	@echo "==> Serving http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Test tools from npm (Prism and Twilio's OpenAPI spec), reinstalled only when the lock changes.
node_modules/.installed: package.json package-lock.json
	@echo "==> Installing the npm test tools (npm ci)"
	npm ci --no-audit --no-fund
	@touch $@

node: node_modules/.installed

test: $(VENV)/.installed-dev node_modules/.installed
	@echo "==> Lint and format check (ruff)"
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@echo "==> Migrations match the models (makemigrations --check)"
	$(PY) manage.py makemigrations --check --dry-run
	@echo "==> Test suite (pytest)"
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(VENV)/.installed-dev
	@for script in bench/*.py; do \
	  case "$$script" in bench/__init__.py|bench/settings.py|bench/urls.py|bench/import_287g.py) continue;; esac; \
	  echo "==> $$script"; $(PY) "$$script" || exit 1; \
	done
	@echo "==> bench/import_287g.sh"; bash bench/import_287g.sh

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
