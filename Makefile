# MuseGen Lessons: `make lab` to learn, `make test` to prove it all works. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependencies change; the stamp records the last install.
STAMP := $(VENV)/.installed
# JupyterLab refuses to run as root unless told; only add the flag where it is needed (containers, CI).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
NBVAL := --nbval-lax --nbval-cell-timeout=600
# Both cores: pytest-xdist runs the test files on one worker per core; `loadfile` keeps every file (a notebook's
# cells, a module's fixtures) on one worker, in order.
PARALLEL := -n auto --dist loadfile

.PHONY: lab lint test test-unit test-browser test-notebooks test-book book release bench clean

# JupyterLab reads course-wide settings (no news pop-up, no update checks: the course is offline) from here.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

$(STAMP): pyproject.toml jupyter/overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	mkdir -p $(LAB_SETTINGS) && cp jupyter/overrides.json $(LAB_SETTINGS)/overrides.json
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_welcome.ipynb --ServerApp.ip=127.0.0.1 $(ROOT_FLAG)

# Style first (seconds), then everything, as CI runs it: unit tests (the package's docstring examples among them), both
# editions of every lesson in quick mode, the grader and the browser tests. Where Chromium runs the student edition in
# JupyterLab, nbval leaves those notebooks to it (tests/browser/conftest.py).
test: lint
	MUSEGEN_QUICK=1 $(BIN)/python -m pytest tests notebooks solutions $(NBVAL) $(PARALLEL) -p no:cacheprovider \
		--ignore=tests/browser/test_site.py

# ruff: the package, tests, benchmarks and the solution edition's code cells (settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-unit: $(STAMP)
	MUSEGEN_QUICK=1 $(BIN)/python -m pytest tests $(PARALLEL) -p no:cacheprovider --ignore=tests/browser/test_site.py

# Only the end-to-end tests: the lessons in JupyterLab in headless Chromium (skipped when Chromium is missing).
test-browser: $(STAMP)
	MUSEGEN_QUICK=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider -v --ignore=tests/browser/test_site.py

test-notebooks: $(STAMP)
	MUSEGEN_QUICK=1 $(BIN)/python -m pytest notebooks solutions $(NBVAL) $(PARALLEL) -p no:cacheprovider

# The course as a website in build/book/full/html (Sphinx and MyST-NB), every lesson executed in full mode; a
# rebuild executes only the lessons whose code changed.
book: $(STAMP)
	$(BIN)/musegen book

# The website built in quick mode (build/book/quick/html), then every page opened in Chromium.
test-book: $(STAMP)
	$(BIN)/python -m pytest tests/browser/test_site.py -p no:cacheprovider -v

# Regenerate the student edition from the solution edition (refuses to overwrite a student's work).
release: $(STAMP)
	$(BIN)/musegen release

# Measure quality and speed; each script prints its table and writes benchmarks/results/*.json. Then every lesson in
# full mode (it reads those results), and the tables the READMEs quote from them.
BENCHMARKS := $(filter-out benchmarks/lessons.py benchmarks/headline.py,$(wildcard benchmarks/[!_]*.py))
bench: $(STAMP)
	for script in $(BENCHMARKS); do $(BIN)/python $$script || exit 1; done
	$(BIN)/python benchmarks/lessons.py
	$(BIN)/python benchmarks/headline.py --write

clean:
	rm -rf $(VENV) notebooks/output solutions/output build
