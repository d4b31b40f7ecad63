# minikubelet: every target a newcomer needs. `make demo` and `make test` are the README's two commands.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test test-unit test-podman lint bench demo demo-short images

$(BIN)/minikubelet: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]' --config-settings editable_mode=compat  # a .pth, no import hook
	@touch $@

# Bytecode is compiled on every `make setup` (and so before lint, tests and benches): where
# PYTHONDONTWRITEBYTECODE is set, a module edited since would otherwise be compiled from source
# on every command. compileall skips what is up to date, so this costs ~1 s. (A wheel install
# compiles at install time, as pip does by default.)
setup: $(BIN)/minikubelet
	@$(BIN)/python -m compileall -q minikubelet

lint: setup
	$(BIN)/ruff check minikubelet tests bench tools webapl
	$(BIN)/ruff format --check minikubelet tests bench tools webapl
	$(BIN)/mypy

test-unit: setup
	$(BIN)/pytest -m 'not e2e' -q

bench: setup
	$(BIN)/python bench/run.py

# The README's test command: the engine (installed and started if missing), the offline images
# (built once, then cached by tag), lint, every test.
test: setup
	bash images/ensure-engine.sh
	bash images/build.sh all
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory test-podman

# The core end-to-end tests again on Podman's Docker-compatible API, on a private
# `podman system service` of their own: pods, probes, restarts, logs, adoption, the seed's timing,
# the walkthrough (`make demo-short`, ~45 s there), a Service's routes from the host and a pod,
# OOMKilled (Podman 4.3 does not report it: the node reads the kernel log itself), the log format.
PODMAN_CORE := tests/e2e/test_smoke.py tests/e2e/test_probes.py tests/e2e/test_restarts.py \
	tests/e2e/test_agent_restart.py tests/e2e/test_seed.py tests/e2e/test_walkthrough.py \
	tests/e2e/test_service_traffic.py::test_cluster_ip_and_node_port \
	tests/e2e/test_config.py::test_memory_limit_kills_with_oom tests/e2e/test_logs.py
test-podman: setup
	bash images/ensure-engine.sh
	bash images/build.sh all
	$(BIN)/python -m tests.e2e.engines podman -- $(BIN)/pytest -q $(PODMAN_CORE)

images:
	bash images/ensure-engine.sh
	bash images/build.sh all

# The README's first command: everything a fresh machine needs, then the seed's walkthrough with
# its real timings (about two minutes). `make demo-short` tells the same story in under one.
demo: setup images
	$(BIN)/python tools/walkthrough.py

demo-short: setup images
	$(BIN)/python tools/walkthrough.py --short
