# The two commands the README promises: `make run` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
SAMPLES ?= $(abspath knowledge/data/demo)
# Tests run on both cores (each worker has its own PostgreSQL database and temp dirs); the crash, scale-out and
# responsiveness tests (marked slow) measure time, so they run afterwards on a machine left to them.
TEST_WORKERS ?= 2

$(BIN)/nhacviec: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(BIN)/nhacviec

# The bot on the embedded default: SQLite under data/, the demo plans (knowledge/data/demo) loaded into an empty store, Telegram when
# NHACVIEC_TELEGRAM_TOKEN is set, a console chat otherwise.
run: setup
	NHACVIEC_LOAD_SAMPLES=$${NHACVIEC_LOAD_SAMPLES:-$(SAMPLES)} $(BIN)/nhacviec run

# Every check CI runs: lint, types, all tests (SQLite and the real PostgreSQL).
test: setup
	bash deploy/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	NHACVIEC_TEST_SHARED=$(SHARED) $(BIN)/pytest -q -n $(TEST_WORKERS) -m "not slow"
	NHACVIEC_TEST_SHARED=$(SHARED) $(BIN)/pytest -q -m slow

.PHONY: setup run test
