# framefleet — the two commands: `make demo` and `make test`. Needs only python3 (3.11) and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-unit test-integration soak clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e '.[dev]'
	touch $@

# Generates a 60 s 1080p clip with sound, transcodes it through the full local stack, prints the summary.
demo: install
	$(PY) -m chalicelib.demo --dir .demo

test: install
	$(PY) -m pytest -q -p no:cacheprovider tests

test-unit: install
	$(PY) -m pytest -q tests/unit

test-integration: install
	$(PY) -m pytest -q tests/integration

# 40 jobs at once on 2 processors with random worker kills (also part of `make test`).
soak: install
	$(PY) -m pytest -q -p no:cacheprovider -m soak tests/integration

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis *.egg-info
