"""Shared test rules. Tests marked `e2e` need a live Docker engine: when it is missing they skip
on a developer's machine, and fail under CI=true, so CI can never go green without them."""

from __future__ import annotations

import functools
import os

import pytest


@functools.cache
def _engine_problem() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure to reach the engine is reported the same way
        return f"Docker engine unreachable: {exc}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("e2e") is None:
        return
    problem = _engine_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{problem} (CI=true: e2e tests must run)", pytrace=False)
    pytest.skip(problem)
