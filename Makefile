# Pod Studio. `make run` serves the dashboard; `make test` runs lint and the whole suite.
# Both set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-postgres lint codemirror bench chromium postgresql migrate clean cluster-up cluster-down cluster-status cluster-binaries

# pip is told to be quiet, so say what is happening: the first run installs for a minute or two.
$(VENV)/.runtime-installed: requirements.txt
	@echo "[setup] creating the Python environment in $(VENV) and installing requirements.txt (first run: 1-2 min)…"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@echo "[setup] Python packages installed"
	touch $@

# The real local control plane's Python side (certificates): requirements-cluster.txt.
$(VENV)/.cluster-installed: requirements-cluster.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-cluster.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-cluster.txt $(VENV)/.runtime-installed
	@echo "[setup] installing the test tools of requirements-dev.txt (first run: about a minute)…"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Chromium is missing: install it with 'sudo apt-get install -y chromium'" >&2; exit 1; \
		fi; \
	fi

# The PostgreSQL run of the tests starts its own throwaway server (tests/support/postgres.py) from
# Debian's server programs (initdb, pg_ctl); the machine's own PostgreSQL service is not used.
postgresql:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
		else \
			echo "PostgreSQL is missing: install it with 'sudo apt-get install -y postgresql'" >&2; exit 1; \
		fi; \
	fi

migrate: $(VENV)/.runtime-installed
	@echo "[setup] preparing the SQLite database (db.sqlite3)…"
	$(PY) manage.py migrate --noinput

# A bind beyond this machine (HOST=0.0.0.0) switches on team mode: see README.
run: migrate
	@echo "[run] serving Pod Studio on http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	PODSTUDIO_BIND=$(HOST) $(PY) manage.py runserver $(HOST):$(PORT)

# The JavaScript linter (eslint) and the CodeMirror build (esbuild), pinned in package.json and package-lock.json,
# install into node_modules/.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: 'make lint' needs Node.js 20 and npm to lint static/js (Debian: 'apt-get install -y nodejs npm')" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: node_modules/.installed
lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	node_modules/.bin/eslint --max-warnings=0 static/js

# The YAML editor's CodeMirror 6 bundle (static/vendor/codemirror/: entry.mjs -> codemirror.bundle.js and LICENSE,
# with esbuild; versions pinned in package.json). The built bundle is committed: `make run` needs no Node.
codemirror: node_modules/.installed
	npm run --silent build:codemirror

# The deploy, cluster and runtime tests run against a real control plane: its binaries are built
# first (once per machine, ~19 min on 2 cores with kubectl, then cached), and PODSTUDIO_REAL_CLUSTER=1 makes a
# test that needs it fail rather than skip. Then the tests that touch the database run again on
# PostgreSQL (docs/testing.md, "Two databases"), the cluster-backed ones (deploy records, streams)
# against the same real control plane; PODSTUDIO_REAL_POSTGRES=1 makes a missing PostgreSQL a
# failure, not a skip, in both runs (the SQLite run has multi-process tests on it too).
test: $(VENV)/.dev-installed chromium postgresql lint cluster-binaries
	PODSTUDIO_REAL_CLUSTER=1 PODSTUDIO_REAL_POSTGRES=1 $(VENV)/bin/pytest
	$(MAKE) --no-print-directory test-postgres

# The database-touching tests on a throwaway PostgreSQL (no browser: tests/e2e run on SQLite only).
test-postgres: $(VENV)/.dev-installed postgresql cluster-binaries
	PODSTUDIO_TEST_DATABASE=postgres PODSTUDIO_REAL_POSTGRES=1 PODSTUDIO_REAL_CLUSTER=1 \
		$(VENV)/bin/pytest tests/unit tests/web tests/hardening

bench: $(VENV)/.dev-installed chromium postgresql
	$(PY) -m bench

# A real Kubernetes control plane on loopback (kube-apiserver, controller-manager, scheduler,
# etcd, kwok simulating one node): see docs/testing.md, "A real control plane". The first
# cluster-up or cluster-binaries builds the binaries from Go modules (~19 min on 2 cores, kubectl included, once).
cluster-binaries: $(VENV)/.cluster-installed
	$(PY) -m tests.support.controlplane binaries

cluster-up: $(VENV)/.cluster-installed
	$(PY) -m tests.support.controlplane up

cluster-status: $(VENV)/.cluster-installed
	$(PY) -m tests.support.controlplane status

cluster-down: $(VENV)/.cluster-installed
	$(PY) -m tests.support.controlplane down

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache test-artifacts
	rm -rf node_modules
