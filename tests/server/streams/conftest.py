"""Shared by the session tests: a store holding one pod `web` (containers app, stopped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from minikubelet.clock import FakeClock
from minikubelet.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"nodeName": "n", "containers": [{"name": "app"}, {"name": "stopped"}]},
        }
        opened.create("Pod", body)
        yield opened
