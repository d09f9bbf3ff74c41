# Two entry points, both self-contained on a fresh Debian/Ubuntu machine:
#   make demo   set up, then render every demo handout into out/demo
#   make test   set up, then run the test suite (all of it, on every core; add
#               PYTEST_ARGS='-m "not slow"' to skip the wheel build while working)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian's Noto fonts print names in scripts the bundled fonts lack (Han, Hangul,
# Arabic, Bengali, Gurmukhi...): WeasyPrint finds them through fontconfig.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils qpdf fonts-dejavu-core fonts-noto-core fonts-noto-cjk
# The browser test drives Debian's chromium (never a downloaded browser build); the
# printing tests start their own CUPS scheduler (cupsd from cups-daemon; lp, lpstat,
# lpadmin from cups-client; ipptool from cups-ipp-utils), without the `cups` package's
# filters, Ghostscript and Avahi: their queues run no filter.
TEST_PACKAGES := chromium cups-daemon cups-client cups-ipp-utils

.PHONY: demo test setup system-deps lint lock clean

demo: setup
	$(BIN)/make-handouts demo -o out/demo

test: setup
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(TEST_PACKAGES)"
	$(BIN)/python -m pytest -q -n auto --dist loadgroup --durations=15 $(PYTEST_ARGS)

setup: system-deps $(STAMP)

# Installs the system libraries WeasyPrint and the tests need, when missing
# and when we may (root, or passwordless sudo); otherwise says what to install.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install:$$missing"; \
	  elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Please install (needs root): sudo apt-get install$$missing"; fi; \
	fi

# Exactly the lock's versions, checked against its hashes; then the project itself,
# built with the lock's hatchling (no build step fetches anything else). A new venv
# each time, so nothing the lock dropped is left behind.
$(STAMP): pyproject.toml requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refreshes requirements.lock from pyproject.toml: the newest versions its ranges allow,
# for every Python from 3.11 and every platform, with hashes. Commit the result.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev --universal \
	  --python-version 3.11 --generate-hashes --upgrade --custom-compile-command "make lock" \
	  -o requirements.lock

# ruff (lint and format) on everything, mypy --strict on the package (pyproject), every
# imported package declared (deptry), the lock agreeing with pyproject.toml, and the
# packages keeping their layers (lint-imports, the contract in pyproject.toml).
lint: setup
	$(BIN)/python tools/check_lock.py
	$(BIN)/deptry handouts
	$(BIN)/ruff check handouts tests benchmarks tools make_handouts.py
	$(BIN)/ruff format --check handouts tests benchmarks tools make_handouts.py
	$(BIN)/mypy handouts
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) out build dist
