"""CLI tests talk to a real API app over a real store, in-process: no agent, no Docker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.cli import client as agent
from minikubelet.cli.transport import HttpxTransport
from minikubelet.clock import FakeClock
from minikubelet.paths import StatePaths
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        yield opened


@pytest.fixture(autouse=True)
def api(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """Every `connect()` of the CLI reaches this app; nothing is started."""
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1"))
    with TestClient(app, base_url="http://minikubelet") as http:
        transport = HttpxTransport(http)
        monkeypatch.setattr(
            agent,
            "connect",
            lambda paths=None: agent.ApiClient(StatePaths(tmp_path), transport=transport),
        )
        yield http
