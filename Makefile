# Rapid Response: `make run` and `make test` are all a new user needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# Exact versions with hashes of everything .venv gets: written by `make lock` only.
LOCK := requirements.lock
# The tool that writes the lock, installed on demand by `make lock` (not by `make install`).
UV_VERSION := 0.13.8
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv

.PHONY: install lock lock-upgrade run serve worker migrate seed test test-fast check lint typecheck bench \
	messages clean deploy-check fuzz audit

# Installs the lock, hash-checked, then the project itself without its dependencies (they
# are in the lock) and without build isolation (setuptools and wheel are in the lock too),
# then checks that the lock still satisfies pyproject.toml. No unpinned download.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) tools/check_lock.py
	@touch $@

install: $(VENV)/.installed

# Re-resolves the lock after a change to pyproject.toml's dependencies, keeping every
# version that still fits; `make lock-upgrade` moves everything to the newest allowed
# version, `make lock LOCK_ARGS='--upgrade-package django'` one package. One lock for
# every platform (uv's universal resolution) from the oldest Python pyproject allows,
# with the hashes of every file of each version, so it installs on Linux x86_64 and aarch64.
lock: $(UV_VENV)/.uv-$(UV_VERSION)
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(UV) pip compile --quiet --no-config --universal --python-version 3.11 --all-extras \
	      --generate-hashes --custom-compile-command 'make lock' $(LOCK_ARGS) \
	      -o $(LOCK) pyproject.toml -

lock-upgrade:
	$(MAKE) lock LOCK_ARGS='--upgrade $(LOCK_ARGS)'

$(UV_VENV)/.uv-$(UV_VERSION):
	rm -rf $(UV_VENV)
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	@touch $@

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
	@echo "  Logins (password rapid-demo): coordinator (network-wide), coordinator2 (Van Nuys), dispatcher,"
	@echo "  verifier, verifier2, verifier3, responder, responder2-4 (README: who works where)"
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
	$(VENV)/bin/ruff check rapidresponse tests bench tools
	$(VENV)/bin/mypy rapidresponse tools
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check --fail-level WARNING
	$(VENV)/bin/bandit -c pyproject.toml -r rapidresponse -q
	$(PY) tools/audit_dependencies.py

# Known vulnerabilities in the installed packages (pip-audit, through PyPI's JSON API). Says
# so when it could not check them; AUDIT_STRICT=true makes that an error.
audit: install
	$(PY) tools/audit_dependencies.py

# The JSON API fuzzed by schemathesis from /api/v1/openapi.json, in-process (anonymous and
# with a staff token): no 5xx, no answer outside the schema. FUZZ_EXAMPLES per operation and
# phase; DATABASE_URL=postgres://... fuzzes on PostgreSQL.
FUZZ_EXAMPLES ?= 100
fuzz: install
	@mkdir -p var
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -m fuzz -p no:cacheprovider tests/test_api_fuzz.py

# Django's deployment checks with production settings (throwaway secrets, a scratch var/):
# HTTPS only, HSTS, secure cookies. Any warning fails.
deploy-check: install
	$(PY) tools/deploy_check.py

bench: migrate
	$(PY) -m bench

# Re-extract and compile translations (needs GNU gettext). The .mo files are committed,
# so running the project does not need gettext.
messages: install
	cd rapidresponse && ../$(PY) ../manage.py makemessages -l es --no-obsolete --no-location --ignore 'static/vendor/*'
	cd rapidresponse && ../$(PY) ../manage.py compilemessages -l es

clean:
	rm -rf $(VENV) $(UV_VENV) var .pytest_cache .mypy_cache .ruff_cache
