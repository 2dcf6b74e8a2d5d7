# Two commands do all the set-up: `make study` (the main job) and `make test` (the tests).
# Both create .venv and install requirements.txt into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: study test install clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The main job: one run of the study on the built-in shapes dataset, sized for a laptop CPU
# (about 4 minutes on 2 cores). `make study STUDY_ARGS="..."` passes other flags.
STUDY_ARGS ?= --epochs 6 --epoch_size 3200
study: $(STAMP)
	$(PY) -m genlat train $(STUDY_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV)
