# Tương Thân — everyday commands. `make help` lists them.
#
# Everything runs through .venv/bin/... (no activation needed). `make install` is
# cheap to repeat: each step leaves a stamp file and runs again only when its
# inputs change (pyproject.toml, package-lock.json, the .po catalogues).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# Stamp files: each lives inside the folder it describes, so deleting that
# folder (rm -rf .venv, node_modules or var) also forgets the stamp.
PY_STAMP := $(VENV)/.tuongthan-installed
NODE_STAMP := node_modules/.tuongthan-installed
MO_STAMP := var/.messages-compiled
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po)
HAVE_MSGFMT := $(shell command -v msgfmt 2>/dev/null)

.PHONY: help install migrate seed demo test lint audit fmt clean

help: ## List the targets with a one-line description
	@echo "Tương Thân — make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*?## "}; {printf "  %-9s %s\n", $$1, $$2}'

install: $(PY_STAMP) $(NODE_STAMP) $(MO_STAMP) ## Create .venv, install Python (with dev extra) and npm packages, compile translations

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

# The compiled .mo files are committed too, so a machine without gettext's
# msgfmt still serves Vietnamese; with msgfmt they are rebuilt when a .po changes.
$(MO_STAMP): $(PO_FILES) | $(PY_STAMP)
	@mkdir -p var
ifneq ($(and $(HAVE_MSGFMT),$(PO_FILES)),)
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=node_modules --ignore=var
endif
	@touch $@

migrate: install ## Apply database migrations (SQLite at var/db.sqlite3 unless DATABASE_URL is set)
	@mkdir -p var
	$(PY) manage.py migrate --noinput

seed: migrate ## Load the demo province, unions, members, cases and the demo logins
	$(PY) manage.py seed_demo

# The worker runs Celery beat inside it (-B) for the daily jobs (CELERY_BEAT_SCHEDULE).
demo: seed ## Install, migrate, seed, then serve http://127.0.0.1:8000 with a Celery worker and beat beside it (Ctrl-C stops both)
	@mkdir -p var/celery var/media
	@echo "Tương Thân demo: http://$(HOST):$(PORT)/ — password for every demo login: tuongthan-demo; then the code from $(PY) manage.py demo_totp. Ctrl-C stops it."
	@$(BIN)/celery -A portal worker -B --schedule=var/celery/beat-schedule --pool=solo --loglevel=INFO & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install ## Run the test suite (extra pytest arguments in PYTEST_ARGS; honours DATABASE_URL and REDIS_URL)
	@mkdir -p var
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install ## Check code, types and templates: ruff check, ruff format --check, mypy, djlint --lint
	@status=0; \
	echo "ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	echo "mypy ."; $(BIN)/mypy . || status=1; \
	echo "djlint --lint templates"; $(BIN)/djlint --lint templates || status=1; \
	exit $$status

audit: install ## Known vulnerabilities: pip-audit and npm audit --omit=dev; fails on one with a fix (.ci/audit.py)
	$(PY) .ci/audit.py

fmt: install ## Rewrite code in the house style: ruff format, then ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove .venv, node_modules, caches and build output (keeps var/db.sqlite3 and var/media)
	rm -rf $(VENV) node_modules *.egg-info .pytest_cache .ruff_cache var/static var/celery var/junit.xml $(MO_STAMP)
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
