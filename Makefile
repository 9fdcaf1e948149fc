# Borneo Heritage — the two commands: `make run` and `make test`.
# Both install what they need first (idempotent: a second run only checks).

PYTHON ?= python3
PORT ?=
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= development.ini
APT_PACKAGES := libimage-exiftool-perl
PO_FILES := $(wildcard heritage/locale/*/LC_MESSAGES/heritage.po)
MO_FILES := $(PO_FILES:.po=.mo)
# The viewer: Mirador's self-contained bundle from the npm registry, pinned and checked
# against the integrity npm records for it (`npm view mirador@VERSION dist.integrity`).
# Served from our own static files: no CDN, no outside host at run time.
MIRADOR_VERSION := 4.0.0
MIRADOR_INTEGRITY := sha512-uWsE9e2oqSc/lUu+vVwDGhTsycuhGsfZ2KfX6CLfXiT3wgGy6qT9+q5M3V9Zz72hkdIgsJugKesaowmRtYmvrA==
MIRADOR_DIR := heritage/static/vendor/mirador
MIRADOR_STAMP := $(MIRADOR_DIR)/.mirador-$(MIRADOR_VERSION)

.PHONY: run test install install-test system mirador chromium lint format clean

run: install
	$(BIN)/heritage serve -c $(CONFIG) $(if $(PORT),--port $(PORT))

test: install-test
	$(BIN)/pytest -q

install: system $(VENV)/.installed $(MO_FILES) $(MIRADOR_STAMP)

install-test: install $(VENV)/.installed-test chromium

# Debian packages the project calls (exiftool); installed only where missing.
system:
	@missing=""; command -v exiftool >/dev/null 2>&1 || missing="$(APT_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing from Debian"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The browser tests drive Debian's Chromium (never a downloaded browser build).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium from Debian"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

mirador: $(MIRADOR_STAMP)

# npm pack into a temporary folder, refuse a tarball whose sha512 is not the recorded one,
# then keep only the bundle and its licence. The stamp names the version: a new version
# fetches again, a second run does nothing.
$(MIRADOR_STAMP):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing npm from Debian"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "fetching mirador@$(MIRADOR_VERSION) from the npm registry"; \
	(cd "$$tmp" && npm pack --loglevel=error mirador@$(MIRADOR_VERSION) >/dev/null); \
	tgz="$$tmp/mirador-$(MIRADOR_VERSION).tgz"; \
	got="sha512-$$(openssl dgst -sha512 -binary "$$tgz" | openssl base64 -A)"; \
	if [ "$$got" != "$(MIRADOR_INTEGRITY)" ]; then \
	  echo "mirador-$(MIRADOR_VERSION).tgz: integrity mismatch, refusing it" >&2; \
	  echo "  expected $(MIRADOR_INTEGRITY)" >&2; echo "  got      $$got" >&2; exit 1; \
	fi; \
	tar -xzf "$$tgz" -C "$$tmp" package/dist/mirador.min.js package/LICENSE; \
	rm -rf $(MIRADOR_DIR); mkdir -p $(MIRADOR_DIR); \
	cp "$$tmp/package/dist/mirador.min.js" $(MIRADOR_DIR)/mirador.min.js; \
	cp "$$tmp/package/LICENSE" $(MIRADOR_DIR)/LICENSE; \
	echo "$(MIRADOR_INTEGRITY)" > $@; \
	echo "mirador $(MIRADOR_VERSION) verified and installed in $(MIRADOR_DIR)"

$(VENV)/.installed: setup.cfg setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check 'setuptools<82' wheel
	$(BIN)/pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

heritage/locale/%/LC_MESSAGES/heritage.mo: heritage/locale/%/LC_MESSAGES/heritage.po $(VENV)/.installed
	$(BIN)/pybabel compile -d heritage/locale -D heritage -l $*

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) *.egg-info heritage/locale/*/LC_MESSAGES/*.mo .pytest_cache
