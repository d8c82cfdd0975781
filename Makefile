# Gatehouse: `make run` installs and serves on :4000; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPM ?= npm
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
FRONTEND_SOURCES := $(shell find frontend/app frontend/components frontend/lib frontend/public frontend/package.json frontend/next.config.ts frontend/postcss.config.mjs -type f 2>/dev/null)

.PHONY: install install-dev run dev test lint typecheck protocol protocol-check \
        test-backend test-frontend e2e chromium postgresql tinyproxy redis nginx bench clean

## install: the backend in .venv and the frontend built to frontend/out
install: $(VENV)/.runtime frontend/out/index.html

$(VENV)/.runtime: backend/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e backend
	touch $@

# bench's extras too: pyright checks bench/ (its plot needs matplotlib's types)
$(VENV)/.dev: $(VENV)/.runtime backend/pyproject.toml
	$(BIN)/pip install --quiet -e 'backend[dev,bench]'
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	touch $@

frontend/out/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && $(NPM) run build

backend/tests/mcp_peers/node_modules/.installed: backend/tests/mcp_peers/package.json backend/tests/mcp_peers/package-lock.json
	cd backend/tests/mcp_peers && $(NPM) ci --no-audit --no-fund
	touch $@

## run: install, then serve the app at http://localhost:4000
run: install
	$(BIN)/gatehouse serve

## dev: the backend on :4000 and `next dev` on :3000, the one other origin the backend allows
dev: $(VENV)/.runtime frontend/node_modules/.installed
	WS_ALLOWED_ORIGINS=http://localhost:3000 $(BIN)/gatehouse serve & cd frontend && $(NPM) run dev

install-dev: $(VENV)/.dev frontend/node_modules/.installed backend/tests/mcp_peers/node_modules/.installed chromium postgresql tinyproxy redis nginx

chromium:
	@command -v chromium >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql)

# the forward proxy the model tests send Claude's requests through (each test starts its own;
# the system service the package enables is stopped and disabled)
tinyproxy:
	@command -v tinyproxy >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tinyproxy \
		&& ($(SUDO) systemctl disable --now tinyproxy >/dev/null 2>&1 || true))

# the Redis server the tests start on their own ports (tests/redis_server.py), and the nginx
# they put in front of the app with deploy/nginx.conf; both system services are stopped and
# disabled
redis:
	@command -v redis-server >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server \
		&& ($(SUDO) systemctl disable --now redis-server >/dev/null 2>&1 || true))

nginx:
	@test -x /usr/sbin/nginx || ($(SUDO) apt-get update -qq \
		&& ($(SUDO) apt-get install -y -qq nginx-light || $(SUDO) apt-get install -y -qq nginx) \
		&& ($(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true))

## test: install what the tests need, lint, type-check, run every test
test: install-dev lint typecheck protocol-check test-backend test-frontend e2e

lint: $(VENV)/.dev frontend/node_modules/.installed
	cd backend && ../$(BIN)/ruff check gatehouse tests bench && ../$(BIN)/ruff format --check gatehouse tests bench
	cd frontend && $(NPM) run lint

typecheck: $(VENV)/.dev frontend/node_modules/.installed
	cd backend && ../$(BIN)/pyright
	cd frontend && $(NPM) run typecheck

## protocol: regenerate frontend/lib/ws_events.ts from the backend's pydantic models
protocol: $(VENV)/.runtime frontend/node_modules/.installed
	cd backend && ../$(BIN)/python -m gatehouse.protocol > ../frontend/lib/protocol.schema.json
	cd frontend && $(NPM) run --silent gen:protocol -- lib/protocol.schema.json
	cd backend && ../$(BIN)/python -m gatehouse.openapi > ../frontend/lib/openapi.json
	cd frontend && $(NPM) run --silent gen:api -- lib/openapi.json && rm lib/openapi.json

protocol-check: $(VENV)/.runtime frontend/node_modules/.installed
	cd backend && ../$(BIN)/python -m gatehouse.protocol > /tmp/gatehouse-protocol.json
	cd frontend && $(NPM) run --silent gen:protocol -- /tmp/gatehouse-protocol.json --check
	cd backend && ../$(BIN)/python -m gatehouse.openapi > /tmp/gatehouse-openapi.json
	cd frontend && $(NPM) run --silent gen:api -- /tmp/gatehouse-openapi.json --check

test-backend: $(VENV)/.dev backend/tests/mcp_peers/node_modules/.installed
	cd backend && ../$(BIN)/pytest -q

test-frontend: frontend/node_modules/.installed
	cd frontend && $(NPM) test

e2e: install chromium
	cd frontend && $(NPM) run e2e

## bench: the load benchmarks (results in bench/results/), then the UI's streaming render in
## Debian Chromium (frontend/test-results/bench.json)
bench: $(VENV)/.dev install chromium
	cd backend && ../$(BIN)/python -m bench.run
	cd frontend && $(NPM) run bench

clean:
	rm -rf $(VENV) frontend/node_modules frontend/out frontend/.next backend/tests/mcp_peers/node_modules
