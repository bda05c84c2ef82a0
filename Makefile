# `make run` and `make test` bootstrap .venv themselves: nothing else needs installing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM ?= /usr/bin/chromium

.PHONY: run test reliability lint bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	APP_ENV=$${APP_ENV:-development} $(BIN)/python -m app

# Browser tests drive Debian's chromium through Playwright (never `playwright install`: no downloads here).
$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji \
		|| echo "chromium could not be installed: the browser tests will say so"; \
	else \
		echo "no apt-get: install chromium at $(CHROMIUM) for the browser tests (they skip without it)"; \
	fi

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy
	$(BIN)/pytest

reliability: $(STAMP)
	$(BIN)/pytest -m reliability

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy

# The fuzz tests with a long budget (make test runs them with a short one): 1,000 examples a route, the webhook's
# schemathesis coverage phase, 500 hypothesis webhook bodies a property.
fuzz: $(STAMP)
	FUZZ_LONG=1 FUZZ_MAX_EXAMPLES=1000 FUZZ_WEBHOOK_EXAMPLES=300 FUZZ_BODIES=500 \
		$(BIN)/pytest tests/test_fuzz_api.py tests/test_fuzz_webhook.py -q

bench: $(STAMP)
	$(BIN)/python -m bench.state_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
