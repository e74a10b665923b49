# Rapid Response: `make run` and `make test` are all a new user needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: install run serve worker migrate seed test test-fast check lint typecheck bench messages clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v0

seed: migrate
	$(PY) manage.py seed_demo

# Sets everything up, seeds the demo network, serves the site with a background worker.
run: seed
	@echo ""
	@echo "  Rapid Response demo:   http://$(HOST):$(PORT)/"
	@echo "  Dispatcher console:    http://$(HOST):$(PORT)/console/"
	@echo "  API schema:            http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "  Logins (password rapid-demo): coordinator, dispatcher, verifier, verifier2, verifier3, responder"
	@echo "  Second factor: authenticator secret RAPIDRESPONSEDEMOSECRETKEY234567, or the current"
	@echo "  code without a phone: $(PY) manage.py totp_code USERNAME"
	@echo ""
	@trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py worker & WORKER=$$!; \
	  PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} $(VENV)/bin/uvicorn rapidresponse.asgi:application \
	    --host $(HOST) --port $(PORT) --no-access-log

# The whole suite. DATABASE_URL=postgres://... runs it on PostgreSQL.
test: install
	@mkdir -p var
	$(PY) -m pytest $(PYTEST_ARGS)

check: install
	$(VENV)/bin/ruff check rapidresponse tests bench
	$(VENV)/bin/mypy rapidresponse
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

bench: migrate
	$(PY) -m bench

# Re-extract and compile translations (needs GNU gettext). The .mo files are committed,
# so running the project does not need gettext.
messages: install
	cd rapidresponse && ../$(PY) ../manage.py makemessages -l es --no-obsolete --ignore 'static/vendor/*'
	cd rapidresponse && ../$(PY) ../manage.py compilemessages -l es

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
