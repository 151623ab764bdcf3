# The two commands the README promises: `make run` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
SAMPLES ?= $(SHARED)/seeds

$(BIN)/nhacviec: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(BIN)/nhacviec

# The bot on the embedded default: SQLite under data/, sample plans loaded, Telegram when
# NHACVIEC_TELEGRAM_TOKEN is set, a console chat otherwise.
run: setup
	NHACVIEC_LOAD_SAMPLES=$${NHACVIEC_LOAD_SAMPLES:-$(SAMPLES)} $(BIN)/nhacviec run

# Every check CI runs: lint, types, all tests (SQLite and the real PostgreSQL).
test: setup
	bash deploy/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	NHACVIEC_TEST_SHARED=$(SHARED) $(BIN)/pytest -q

.PHONY: setup run test
