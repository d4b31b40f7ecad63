"""An API app over a real store in a temporary directory, driven in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.clock import FakeClock
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", clock) as opened:
        yield opened


@pytest.fixture
def api(store: Store, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(ApiDeps(store=store, clock=clock, node_name="node1"))
    with TestClient(app, base_url="http://minikubelet") as client:
        yield client
