"""A real node agent per test: `minikubelet daemon run` in its own state dir, on the engine.

`agent` yields an `Agent` with an API client and helpers to wait on conditions (deadlines,
never fixed sleeps). At the end the agent is stopped and everything its instance made on the
engine (containers, sandboxes, network) is removed, whatever the test left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker
import pytest

from minikubelet.cli.client import ApiClient
from minikubelet.clock import poll
from minikubelet.errors import NotFound
from minikubelet.paths import StatePaths
from minikubelet.runtime._cgroup import CGROUP_ROOT
from minikubelet.runtime._pods_cgroup import PodsCgroup
from minikubelet.runtime.types import LABEL_INSTANCE
from tests.e2e.engines import sandboxes_last
from tests.e2e.registry import Registry, Silent, registry_binary

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class Agent:
    paths: StatePaths
    process: subprocess.Popen[bytes]
    api: ApiClient

    @property
    def instance(self) -> str:
        return self.paths.instance.read_text().strip()

    def apply(self, manifest: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
        created: dict[str, Any] = self.api.request(
            "POST", f"/api/v1/namespaces/{namespace}/pods", body=manifest
        )
        return created

    def pod(self, name: str, namespace: str = "default") -> dict[str, Any]:
        found: dict[str, Any] = self.api.request(
            "GET", f"/api/v1/namespaces/{namespace}/pods/{name}"
        )
        return found

    def gone(self, name: str, namespace: str = "default") -> bool:
        try:
            self.pod(name, namespace)
        except NotFound:
            return True
        return False

    def events(self, name: str, namespace: str = "default") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/events",
            fieldSelector=f"involvedObject.name={name}",
        )["items"]
        return found

    def wait_for(self, what: Callable[[], T | None], timeout: float = 60.0, why: str = "") -> T:
        """Poll `what()` until it returns something truthy; fail with `why` at the deadline."""
        box: list[T] = []

        def check() -> bool:
            value = what()
            if value:
                box.append(value)
                return True
            return False

        if not poll(check, timeout, 0.2):
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {why or what}")
        return box[0]

    def start(self, *options: str) -> None:
        """Start the agent (again), with these `daemon run` options."""
        self.process = _spawn(self.paths, *options)
        _wait_healthy(self)

    def kill(self) -> None:
        """SIGKILL the agent, as a crash would."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _spawn(paths: StatePaths, *options: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    log = open(paths.home / "agent.log", "ab")  # noqa: SIM115 - kept open by the child
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "minikubelet",
                "daemon",
                "run",
                "--node-name",
                "e2e-node",
                *options,
            ],  # fmt: skip
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
    finally:
        log.close()


def _wait_healthy(agent: Agent) -> None:
    if not poll(lambda: agent.process.poll() is None and agent.api.healthy(), 30.0, 0.1):
        log = (agent.paths.home / "agent.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"the agent did not become healthy; its log ends:\n{log}")


def _cleanup_engine(instance: str) -> None:
    client = docker.from_env()
    try:
        selector: dict[str, str | list[str] | bool] = {"label": f"{LABEL_INSTANCE}={instance}"}
        found = client.containers.list(all=True, filters=selector, ignore_removed=True)
        for container in sandboxes_last(found):  # Podman refuses a sandbox with members
            container.remove(force=True)
        for network in client.networks.list(filters=selector):
            network.remove()
    finally:
        client.close()
    PodsCgroup(CGROUP_ROOT).remove()  # the pods' cgroup, unless another node's pods are in it


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    paths = StatePaths(tmp_path / "home")
    paths.ensure()
    api = ApiClient(paths)
    running = Agent(paths, _spawn(paths), api)
    try:
        _wait_healthy(running)
        yield running
    finally:
        running.stop()
        api.close()
        if paths.instance.exists():
            _cleanup_engine(running.instance)


def _need_registry() -> None:
    if registry_binary() is not None:
        return
    problem = "docker-registry is not installed"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{problem} (CI=true: e2e tests must run)", pytrace=False)
    pytest.skip(f"{problem} (run `bash images/ensure-engine.sh` to install it)")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry on 127.0.0.1 without auth; stopped, emptied and its pulls untagged after."""
    _need_registry()
    running = Registry.start(tmp_path / "registry")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry on 127.0.0.1 behind htpasswd basic auth (`Registry.auth` holds the login)."""
    _need_registry()
    running = Registry.start(tmp_path / "auth-registry", auth=True)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def silent() -> Iterator[Silent]:
    """A registry address that accepts connections and never answers."""
    target = Silent()
    try:
        yield target
    finally:
        target.close()
