# rnn-course: every target sets up what it needs on first use (a .venv with the pinned set).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JAX and PyTorch (CPU builds) live in a second environment without TensorFlow, so that the
# TensorFlow environment and its lock stay as they are: requirements/backends.txt.
BVENV := .venv-backends
BPY := $(BVENV)/bin/python
BSTAMP := $(BVENV)/.installed
BACKENDS ?= jax torch
BACKEND_CHAPTERS ?= 01_rnn_forward,02_bptt,03_sequence_loss,04_vanishing_exploding,05_clipping,06_training_from_scratch,07_custom_rnn_cell,08_lstm,09_bidirectional
# Packages of requirements/lock.txt that only TensorFlow needs (left out of requirements/backends.txt).
TF_ONLY := tensorflow|tensorflow_cpu|astunparse|flatbuffers|gast|google_pasta|grpcio|libclang|protobuf|termcolor|wrapt
# Keep TensorFlow's C++ start-up logs off stderr (nbgrader scores a test cell that writes to
# stderr as 0); rnn_course.env sets the same for kernels started elsewhere.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: help install install-backends chromium bubblewrap bench test test-unit test-notebooks test-mutants test-grading test-under-load test-backends test-gpu test-browser test-kit demo release student-kit lab lock lock-backends clean

help:
	@echo "make demo     the instructor's loop on sample submissions (validate, release, grade, feedback, export)"
	@echo "make test     unit tests, the grader on an adversarial class (in bubblewrap, installed with apt-get), notebook execution, the nbgrader round trip"
	@echo "make test-mutants   every other mutant of the solutions, and the visible tests against the visible=True ones (CI runs it after make test)"
	@echo "make test-under-load  the grader and chapter 01's round trip with every core busy (same verdicts as idle)"
	@echo "make test-backends  unit tests and chapters 01-09 under KERAS_BACKEND=jax and torch (CPU)"
	@echo "make test-browser   JupyterLab and the formgrader in Chromium (installs Debian's chromium with apt-get)"
	@echo "make test-kit the student kit installed in a fresh venv, a chapter validated there, and nbgrader's exchange round trip (CI runs it after make test)"
	@echo "make test-gpu the gpu-marked tests (skip with a reason when no GPU is visible)"
	@echo "make bench    every chapter's time against its budget (wall and CPU seconds; exit 1 when slow)"
	@echo "make lab      JupyterLab: notebooks/ with Validate, and the formgrader (COURSE=build/demo/course)"
	@echo "make release  regenerate notebooks/ from solutions/ with nbgrader"
	@echo "make student-kit  what students receive, no answers: build/student-kit/ and .zip (release, wheel, requirements, README)"
	@echo "make lock     re-resolve requirements/lock.txt from pyproject.toml"

install: $(STAMP)

# $(call venv,FOLDER,LOCK): a virtual environment with exactly LOCK's packages and this project
# (editable); the stamp rule that calls it reruns when the lock or pyproject.toml changes.
define venv
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "rnn-course needs Python >= 3.11; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@
endef

$(STAMP): requirements/lock.txt pyproject.toml
	$(call venv,$(VENV),requirements/lock.txt)

# --durations: the slowest tests (a module fixture's time goes to its first test) in CI's log.
test: $(STAMP) bubblewrap
	$(PY) -m pytest --durations=15 -m "not kit and not exchange"

# The student kit installed into a fresh virtual environment from its own files, and a chapter
# validated there (about 2 minutes, most of it pip; CI runs it after make test).
test-kit: $(STAMP) bubblewrap
	$(PY) -m pytest --durations=5 -m "kit or exchange"

test-unit: $(STAMP)
	$(PY) -m pytest -m "not notebook and not grading"

test-notebooks: $(STAMP)  ## RNN_COURSE_TEST_CHAPTERS=02_bptt,... limits the chapters
	$(PY) -m pytest -m notebook

# `make test` grades the first mutant of every exercise; this grades all the others (CI runs both),
# and runs each mutant marked visible=True against the visible tests alone (issue 18).
test-mutants: $(STAMP)
	RNN_COURSE_MUTANTS=extra $(PY) -m pytest --durations=5 tests/notebooks/test_nbgrader_roundtrip.py \
	  tests/notebooks/test_visible_mutants.py -k "test_mutant_loses_points or test_visible_mutants"

test-grading: $(STAMP) bubblewrap
	$(PY) -m pytest -m grading

# The grader and one chapter's round trip while two spinning processes per core load the
# machine (bounded to 40 minutes): the limits count CPU seconds, so the verdicts must equal an
# idle run's.
test-under-load: $(STAMP) bubblewrap
	RNN_COURSE_TEST_CHAPTERS=01_rnn_forward $(PY) -m pytest --under-load 2400 tests/grading \
	  tests/notebooks/test_nbgrader_roundtrip.py

# The same unit tests and chapters under the other Keras backends, in .venv-backends (CPU).
install-backends: $(BSTAMP)

$(BSTAMP): requirements/backends.txt pyproject.toml
	$(call venv,$(BVENV),requirements/backends.txt)

test-backends: $(BSTAMP)  ## BACKENDS="jax" or BACKEND_CHAPTERS=05_clipping limit the run
	@set -e; for backend in $(BACKENDS); do \
	  echo "== KERAS_BACKEND=$$backend"; \
	  KERAS_BACKEND=$$backend RNN_COURSE_TEST_CHAPTERS=$(BACKEND_CHAPTERS) \
	    $(BPY) -m pytest -p no:cacheprovider tests/unit tests/gpu tests/notebooks/test_execute.py; \
	done

# On a GPU machine; set KERAS_BACKEND and use the environment that has the CUDA builds (docs/gpu.md).
test-gpu: $(STAMP)
	$(PY) -m pytest -m gpu tests/gpu

# Debian's Chromium for the browser tests, from the package registry (no test tool downloads a
# browser of its own). Where it cannot be installed (not root, no apt-get), the reason goes to
# CHROMIUM_LOG and the browser tests skip, quoting it. RNN_COURSE_CHROMIUM=/path/to/chromium
# uses another build.
# $(call apt_install,NAME,COMMAND,OVERRIDE,PACKAGES,LOG,WHY): Debian's PACKAGES with apt-get (as
# root or with passwordless sudo) unless COMMAND is on PATH or $$OVERRIDE is set. Where that cannot
# be, the reason goes to LOG and the target still succeeds: the tests that need it skip, quoting LOG.
define apt_install
	@mkdir -p $(dir $(5)); rm -f $(5); \
	if [ -n "$$$(3)" ] || command -v $(2) >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "cannot install $(1): not root and no passwordless sudo (apt-get install $(4))" > $(5); exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "cannot install $(1): no apt-get (install $(1), or set $(3))" > $(5); exit 0; fi; \
	echo "apt-get install $(4) (Debian's packages, $(6))"; \
	{ $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(4); } \
	  > $(5).tmp 2>&1 && rm -f $(5).tmp \
	  || { tail -n 5 $(5).tmp > $(5); echo "apt-get install $(1) failed" >> $(5); rm -f $(5).tmp; }
endef

CHROMIUM_LOG := build/browser/chromium-install.log
chromium:
	$(call apt_install,chromium,chromium,RNN_COURSE_CHROMIUM,chromium fonts-dejavu-core,$(CHROMIUM_LOG),for the browser tests)

# Debian's bubblewrap (bwrap): the operating-system sandbox every graded kernel runs in
# (rnn_course/grading/isolation.py). Where it cannot be installed, grading falls back to the
# in-kernel guard (and says so) and the tests of the sandbox skip, quoting BWRAP_LOG.
BWRAP_LOG := build/sandbox/bwrap-install.log
bubblewrap:
	$(call apt_install,bubblewrap,bwrap,RNN_COURSE_BWRAP,bubblewrap,$(BWRAP_LOG),the grader's sandbox)

# A student (chapter 01: answers, Run All, a diagnostic, Validate), an instructor (formgrader on
# the demo's graded class, a hand grade, the export) and every chapter rendered, in JupyterLab.
# Screenshots and server logs: build/browser/.
test-browser: $(STAMP) chromium
	$(PY) -m pytest tests/browser

# Speed, not correctness: every chapter's wall and CPU seconds against its budget (exit 1: slow,
# meaningful on an idle machine). benchmarks/grade_class.py times a class (see benchmarks/README.md).
bench: $(STAMP)
	$(PY) benchmarks/chapters.py

demo: $(STAMP) bubblewrap
	$(PY) -m rnn_course.demo

release: $(STAMP)
	$(PY) -m rnn_course.release

# What students receive (build/student-kit/ and build/student-kit.zip): the release notebooks, a
# wheel of the student modules, the pinned requirements, environment.yml, a README; no answers.
student-kit: $(STAMP)
	$(PY) -m rnn_course.cli student-kit build/student-kit

# JupyterLab on localhost: students open notebooks/ and press Validate; instructors open
# Nbgrader > Formgrader on COURSE (default: this repository; after `make demo`, try
# COURSE=build/demo/course). LAB_ARGS go to jupyter lab, e.g. LAB_ARGS="--port=8899 --no-browser".
lab: $(STAMP)
	$(PY) -m rnn_course.lab $(if $(COURSE),--course $(COURSE)) -- $(LAB_ARGS)

lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# Exact, tested set of every package (pip constraints) for Python 3.11 on Linux x86-64."; \
	  echo "# Regenerate with \`make lock\` after changing the dependencies in pyproject.toml."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^rnn-course'; } > requirements/lock.txt
	rm -rf .lock-venv

# requirements/backends.txt: the lock's versions of everything both environments share, plus
# JAX and PyTorch (the CPU wheel: torch==2.13.0 resolves to 2.13.0+cpu from the local wheel
# folder pip is configured with; any other spec pulls the CUDA build and its GBs of wheels).
lock-backends:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	grep -v -E '^($(TF_ONLY)|pip|setuptools|wheel)==' requirements/lock.txt > .lock-venv/constraints.txt
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -c .lock-venv/constraints.txt \
	  $$(python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	    print(" ".join(r.split(";")[0] for r in p["dependencies"] + p["optional-dependencies"]["dev"] \
	      + p["optional-dependencies"]["backends"] if not r.startswith("tensorflow")))')
	{ echo "# Exact, tested set of every package of the JAX/PyTorch environment (.venv-backends, no"; \
	  echo "# TensorFlow) for Python 3.11 on Linux x86-64. Regenerate with \`make lock-backends\`."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^rnn-course' \
	    | sed -E 's/^torch==([^+]*)\+cpu$$/torch==\1/'; } > requirements/backends.txt
	rm -rf .lock-venv

clean:
	rm -rf build .pytest_cache
