# Vmeste: `make run` sets everything up and runs the app; `make test` sets up and runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
VENDOR := static/vendor/socket.io.esm.min.js
# Domain errors' first argument is a message template: extract it like _().
I18N_KEYWORDS := N_ _ gettext lazy_gettext AppError ValidationError Unauthorized Forbidden \
	NotFound Conflict RoomFull InsufficientFunds PayloadTooLarge RateLimited
MO := locales/en/LC_MESSAGES/messages.mo locales/ru/LC_MESSAGES/messages.mo

.PHONY: setup run test lint bench bench-sync bench-fanout locales extract clean

setup: $(STAMP) $(MO) $(VENDOR)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# Compiled catalogues are build output (not committed); aiogram's I18n refuses a .po without .mo.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages -l $*

locales: $(MO)

# Front-end packages come from the npm registry; their files are served from /static/vendor/.
$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js static/vendor/
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js.map static/vendor/ 2>/dev/null || true
	cp node_modules/hls.js/dist/hls.min.mjs static/vendor/
	cp node_modules/hls.js/dist/hls.min.mjs.map static/vendor/ 2>/dev/null || true
	touch $@

run: setup
	$(BIN)/python -m bot

# Tests run in parallel (pytest-xdist), each worker on its own databases and Redis keys
# (tests/conftest.py). They wait on browsers, sockets and timers more than on the CPU, so more
# workers than cores pay: 4 on 2 cores (docs/performance.md). TEST_WORKERS=0 runs them in one
# process. worksteal hands the long browser tests' neighbours to idle workers.
TEST_WORKERS ?= 4
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Style, then the import contracts of pyproject.toml (layers, no cycles, no transport in services).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/startup.py

# The two room benchmarks (see docs/performance.md for figures and arguments).
bench-sync: setup
	$(BIN)/python bench/sync.py --viewers 5 --phase 60

# The C load client needs gcc (bench/wsload.c); --client py uses Python workers instead.
FANOUT := $(BIN)/python bench/fanout.py --connections 5000 --room-size 50 --duration 30 --client c --pin
bench-fanout: setup
	$(FANOUT) --rate 10000
	$(FANOUT) --rate 10000 --processes 2
	$(FANOUT) --rate 30000
	$(FANOUT) --rate 30000 --backend postgres
	$(FANOUT) --rate 30000 --processes 2

# Re-extract strings from code and templates into the catalogues (then translate ru, commit .po).
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(foreach k,$(I18N_KEYWORDS),-k $(k)) \
		--no-location --omit-header -o locales/messages.pot bot services webapp signaling templates
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules static/vendor $(MO)
