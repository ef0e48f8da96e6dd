# Fursa — the two commands a newcomer needs: `make up` and `make test`.
# Only Python 3.11+, make and git are assumed: uv is bootstrapped into .tools/ and the
# environment is built from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
RUN := $(VENV)/bin

.PHONY: up test lint typecheck pytest generated bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --quiet
	touch $@

up: $(VENV)/.synced
	$(RUN)/fursa up

test: $(VENV)/.synced lint typecheck generated pytest

lint: $(VENV)/.synced
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(RUN)/mypy shared/src services/*/src

# Generated files stay what the code generates: event schemas, NATS permissions, catalog.
generated: $(VENV)/.synced
	$(RUN)/python -m fursa.shared.contracts.schemas --check
	$(RUN)/python -m fursa.shared.natsauth deploy/nats/auth.conf --check
	$(RUN)/python -m fursa.shared.catalog docs/events --check

pytest: $(VENV)/.synced
	$(RUN)/pytest

# Sizes are knobs: make bench LEARNERS=2000 RATE=20 REQUESTS=2000 MARKS="10000 100000"
LEARNERS ?= 2000
RATE ?= 20
REQUESTS ?= 2000
MARKS ?= 10000 100000

bench: $(VENV)/.synced
	$(RUN)/python bench/relay.py
	$(RUN)/python bench/pipeline.py --learners $(LEARNERS)
	$(RUN)/python bench/pipeline.py --learners $(LEARNERS) --rate $(RATE)
	$(RUN)/python bench/api.py --requests $(REQUESTS)
	$(RUN)/python bench/memory.py --marks $(MARKS)

clean:
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache
