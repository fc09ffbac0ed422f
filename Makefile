# Two commands for a fresh machine with Python 3.11, pip and make:
#   make run    set up .venv (if needed) and run the workflow on the embedded default data
#   make test   set up .venv (if needed) and run the test suite
PYTHON ?= python3.11
VENV := .venv
CORES ?= $(shell nproc)
UV_VERSION := 0.13.9
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test lint lock setup clean

setup: $(VENV)/.installed

# The environment is rebuilt whenever the lock file changes; uv installs exactly the
# pinned, hash-checked versions of requirements.lock. --compile-bytecode writes the .pyc
# files at install time: without them every job compiles TensorFlow's ~2,000 modules again
# whenever PYTHONDONTWRITEBYTECODE is set (as in many containers), doubling its start-up.
$(VENV)/.installed: requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(VENV)/bin/python --require-hashes requirements.lock
	touch $@

run: setup
	snakemake --cores $(CORES)

test: setup
	pytest

lint: setup
	snakemake --lint
	snakefmt --check .

# Re-resolve the pinned versions after editing requirements.in.
lock: setup
	uv pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock

clean:
	rm -rf results/* .snakemake
