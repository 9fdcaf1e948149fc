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

.PHONY: run test install install-test system lint format clean

run: install
	$(BIN)/heritage serve -c $(CONFIG) $(if $(PORT),--port $(PORT))

test: install-test
	$(BIN)/pytest -q

install: system $(VENV)/.installed $(MO_FILES)

install-test: install $(VENV)/.installed-test

# Debian packages the project calls (exiftool); installed only where missing.
system:
	@missing=""; command -v exiftool >/dev/null 2>&1 || missing="$(APT_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing from Debian"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

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
