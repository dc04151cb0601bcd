# The two commands of the README: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test install system bench clean

run: install
	$(BIN)/lianzheng serve

test: install
	$(BIN)/ruff check ledger evidence anchor verify_portal tests bench
	$(BIN)/ruff format --check ledger evidence anchor verify_portal tests bench gunicorn.conf.py
	$(BIN)/mypy
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

NODE_STAMP := node_modules/.installed-stamp

install: $(STAMP) $(NODE_STAMP) system

# Reinstalled only when pyproject.toml or the set of packages changes; a second `make run` reuses the venv and ./var.
$(STAMP): pyproject.toml $(wildcard */__init__.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# anvil (the local chain) and solcjs (the pinned Solidity compiler) come from npm, exactly as locked.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund  # exactly the lock, which lists anvil's per-platform packages; never rewrites it
	touch $(NODE_STAMP)

# From Debian: ffprobe and ffmpeg probe evidence media and make posters and derived clips; WenQuanYi Micro Hei
# is embedded in the Chinese-English PDF reports of evidence packages; Chromium runs the browser tests; nginx
# is the proxy in front of the two nodes of the load test (bench/load.py).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
system:
	@if ! command -v ffprobe >/dev/null 2>&1 || [ ! -f $(FONT) ] || ! command -v chromium >/dev/null 2>&1 \
	    || [ ! -x /usr/sbin/nginx ]; then \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends \
	  ffmpeg fonts-wqy-microhei chromium nginx; fi

bench: install
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) node_modules *.egg-info .pytest_cache
