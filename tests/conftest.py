"""Shared test rules. Tests marked `e2e` need a live Docker engine: when it is missing they skip
on a developer's machine, and fail under CI=true, so CI can never go green without them."""

from __future__ import annotations

import functools
import os
import socket
import sys

import pytest

from minikubelet.runtime._cgroup import CGROUP_ROOT
from minikubelet.runtime._pods_cgroup import PodsCgroup
from minikubelet.runtime.types import LABEL_INSTANCE
from tests.needs import in_ci, unavailable


@functools.cache
def _engine_problem() -> str | None:
    """Why the engine cannot be used, or None. Checked with a plain socket, because docker-py
    leaks its socket when the connection fails (a ResourceWarning, which is an error here)."""
    host = os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return None  # a TCP engine: let the tests find out
    path = host.removeprefix("unix://")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"the Docker engine does not answer on {path}: {exc}"
    if not reply.startswith(b"HTTP/1.") or b" 200 " not in reply:
        return f"the Docker engine on {path} answered /_ping with {reply!r}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("e2e") is None:
        return
    problem = _engine_problem()
    if problem is None:
        return
    unavailable(problem, "run `bash images/ensure-engine.sh` to install and start it")


def _engine_leftovers(instances: set[str]) -> list[str]:
    """`container:<name>` and `network:<name>` of what these node instances left on the engine."""
    import docker  # only here: unit runs without an engine never import it

    client = docker.from_env()
    found = []
    try:
        labelled: dict[str, str | list[str] | bool] = {"label": LABEL_INSTANCE}
        for c in client.containers.list(all=True, filters=labelled, ignore_removed=True):
            if c.labels.get(LABEL_INSTANCE) in instances:
                found.append(f"container:{c.name}")
        for n in client.networks.list(filters=labelled):
            if (n.attrs.get("Labels") or {}).get(LABEL_INSTANCE) in instances:
                found.append(f"network:{n.name}")
    finally:
        client.close()
    return sorted(found)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, the suite must leave the engine as it found it: no container or network of a
    node instance its tests made (every test's state dir is under the session's temporary
    directory, with the instance id in it) may be left. The pods' cgroup (`/minikubelet`,
    runtime/_pods_cgroup.py) goes too, unless containers of another node are in it."""
    PodsCgroup(CGROUP_ROOT).remove()
    if not in_ci() or _engine_problem() is not None:
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    base = factory.getbasetemp()
    instances = {p.read_text().strip() for p in base.rglob("instance-id") if p.is_file()}
    left = _engine_leftovers(instances) if instances else []
    if left:
        print(f"\nthe test session left these on the engine: {', '.join(left)}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
