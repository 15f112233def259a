# rnn-course: every target sets up what it needs on first use (a .venv with the pinned set).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Keep TensorFlow's C++ start-up logs off stderr (nbgrader scores a test cell that writes to
# stderr as 0); rnn_course.env sets the same for kernels started elsewhere.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: help install test test-unit test-notebooks test-mutants test-grading demo release lab lock clean

help:
	@echo "make demo     the instructor's loop on sample submissions (validate, release, autograde, feedback, export)"
	@echo "make test     unit tests, the grader on an adversarial class, notebook execution, the nbgrader round trip"
	@echo "make test-mutants   every other mutant of the solutions (CI runs it after make test)"
	@echo "make lab      JupyterLab on notebooks/"
	@echo "make release  regenerate notebooks/ from solutions/ with nbgrader"
	@echo "make lock     re-resolve requirements/lock.txt from pyproject.toml"

install: $(STAMP)

$(STAMP): requirements/lock.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "rnn-course needs Python >= 3.11; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

test: $(STAMP)
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest -m "not notebook and not grading"

test-notebooks: $(STAMP)  ## RNN_COURSE_TEST_CHAPTERS=02_bptt,... limits the chapters
	$(PY) -m pytest -m notebook

# `make test` grades the first mutant of every exercise; this grades all the others (CI runs both).
test-mutants: $(STAMP)
	RNN_COURSE_MUTANTS=extra $(PY) -m pytest tests/notebooks/test_nbgrader_roundtrip.py -k test_mutant_loses_points

test-grading: $(STAMP)
	$(PY) -m pytest -m grading

demo: $(STAMP)
	$(PY) -m rnn_course.demo

release: $(STAMP)
	$(PY) -m rnn_course.release

# JupyterLab on the student release; nbgrader's extensions (Validate, and for instructors the
# formgrader on this course directory) come with it. Root (containers, CI machines) needs
# --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS) \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# Exact, tested set of every package (pip constraints) for Python 3.11 on Linux x86-64."; \
	  echo "# Regenerate with \`make lock\` after changing the dependencies in pyproject.toml."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^rnn-course'; } > requirements/lock.txt
	rm -rf .lock-venv

clean:
	rm -rf build .pytest_cache
