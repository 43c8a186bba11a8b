# Quick start: `make up` (the platform on this machine), `make test` (the whole suite).
VENV := .venv
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: up test services venv lint

services:
	@$(SUDO) scripts/bootstrap-services.sh

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

up: services venv
	scripts/up.sh

test: services venv
	scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
