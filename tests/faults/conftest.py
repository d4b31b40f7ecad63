"""Fault tests. `api` (opt-in, not autouse: the e2e modules here run real agents) is the CLI
tests' pattern: every `connect()` of the CLI reaches an in-process API app over a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.cli import client as cli_client
from minikubelet.cli.transport import HttpxTransport
from minikubelet.clock import FakeClock
from minikubelet.paths import StatePaths
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store
from tests.e2e.conftest import agent  # noqa: F401 - the real agent fixture, for e2e tests here


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        yield opened


@pytest.fixture
def api(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1"))
    with TestClient(app, base_url="http://minikubelet") as http:
        transport = HttpxTransport(http)
        monkeypatch.setattr(
            cli_client,
            "connect",
            lambda paths=None: cli_client.ApiClient(StatePaths(tmp_path), transport=transport),
        )
        yield http
