# The two commands: `make run` (the whole stack on this machine) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/common $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
STAMP := $(VENV)/.installed
# Test files run in parallel (pytest-xdist), each worker with its own broker and its own databases; a
# file stays on one worker so its module-scoped stacks start once. `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 3
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

.PHONY: install run test test-fast lint bench clean simulate models

install: $(STAMP)

$(STAMP): constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-r requirements-dev.txt -e "libs/common[local]" $(addprefix -e ,$(filter-out libs/common,$(PACKAGES)))
	touch $(STAMP)

run: install
	$(BIN)/socialops-stack

test: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

lint: install
	$(BIN)/ruff check libs services tests bench

# The moderation service's second opinion, trained from the labelled data in the repo (seeded,
# deterministic): services/moderation/src/socialops_moderation/data/model.json.gz, committed.
models: install
	$(BIN)/python -m socialops_moderation.learned.build

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Signed Swedish demo traffic into the running stack (`make run` in another terminal).
simulate: install
	set -a; . config/local.env; set +a; $(BIN)/socialops-ingest simulate --rate 20 --duration 60
