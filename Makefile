# Two commands do all the set-up: `make study` (the main job) and `make test` (the tests; `make lint`: ruff).
# Both create .venv and install requirements.txt into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: study test lint install clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The main job: the default offline sweep (sweeps/quick.yaml: zn 50/100/150/500 x seeds 0/1/2, 7 short epochs)
# on the built-in shapes dataset, then its table of trials and the report (Q1-Q3, report.html).
# Re-running continues or does nothing.
study: $(STAMP)
	$(PY) -m genlat sweep sweeps/quick.yaml --workers 2
	$(PY) -m genlat sweep --status runs/sweep-zn-quick
	$(PY) -m genlat report runs/sweep-zn-quick

test: $(STAMP)
	$(PY) -m pytest -q

# The linter (pyproject.toml [tool.ruff]); CI runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV)
