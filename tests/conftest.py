"""Shared test rules. Tests marked `e2e` need a live Docker engine: when it is missing they skip
on a developer's machine, and fail under CI=true, so CI can never go green without them."""

from __future__ import annotations

import functools
import os
import socket

import pytest

from tests.needs import unavailable


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
