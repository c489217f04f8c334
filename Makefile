# LMT — build the book and run the tests on a fresh machine (Python 3.10+, Debian/Ubuntu).
#   make book          set up .venv, execute the chapters in quick mode, build the HTML
#   make test          set up .venv (+ Chromium), run ruff and every test: lmt_core, pairing, nbval,
#                      the book build, the student edition, the browser test, the Colab install
#   make book-student  the student edition (solutions hidden) in _build/student/html
#   make book-noexec   build without executing the notebooks (fast; pages show no outputs)
#   make student-notebooks  regenerate colab/NN_slug.ipynb (what the Colab button opens)
#   make reproduce     run chapters in full mode (CHAPTERS="09 15" for some), write their records
#                      reproductions/NN_slug.json and the Reproductions page
#   LMT_SCALE=full make book   execute at full (GPU) scale

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lmt-installed
JOBS ?= 2
export LMT_SCALE ?= quick
export LMT_STATIC := 1
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED := 0

.PHONY: setup browser book book-student book-noexec test test-fast student-notebooks reproduce clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned to the CPU build that lies on disk (an open range would pull CUDA)
	$(PY) -m pip install -q -c constraints.txt torch
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  $(if $(shell command -v sudo),sudo,) apt-get update -qq && \
	  $(if $(shell command -v sudo),sudo,) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

book: setup
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

book-noexec: setup
	$(PY) tools/build.py --no-execute --out _build/noexec
	@echo "The book (not executed) is at file://$(CURDIR)/_build/noexec/html/index.html"

book-student: setup
	$(PY) tools/build.py --student --out _build/student
	@echo "The student edition is at file://$(CURDIR)/_build/student/html/index.html"

# The whole suite. Notebooks are executed once (by nbval); the book build reuses those outputs.
test: setup browser
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	rm -rf _build/executed
	$(PY) -m pytest -n $(JOBS) --dist loadscope -p tests.nbval_capture \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 tests notebooks --ignore=tests/site
	$(PY) tools/cache_executed.py
	$(PY) -m pytest -n $(JOBS) tests/site

# Format and lint (ruff; settings in pyproject.toml and notebooks/ruff.toml), then the library
# tests and pairing (seconds).
test-fast: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(JOBS) -m "not slow" tests --ignore=tests/site

# The student notebooks colab/NN_slug.ipynb (no MyST markup), from the chapter scripts; commit them.
student-notebooks: setup
	$(PY) tools/student_notebooks.py

# Each chapter in quick then full mode, in parallel up to JOBS (one thread each); a record per
# chapter in reproductions/, then book/reproductions.md from the records.
reproduce: setup
	$(PY) tools/reproduce.py --jobs $(JOBS) $(CHAPTERS)
	$(PY) tools/reproductions_page.py --write

clean:
	rm -rf _build
