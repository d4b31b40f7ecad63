"""A write's answer leaves after its commit is on disk (the agent's store flushes in groups, off
the loop); a read's answer never waits for a flush."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.clock import FakeClock
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
    "containers": [{"name": "app", "image": "busybox"}]}}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock(), durable_commits=False) as opened:
        yield opened


def test_a_write_is_answered_after_a_flush_that_covers_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []  # the last commit when each flush ran
    real = store.flush

    def flush() -> None:
        flushed.append(store.committed)
        real()

    monkeypatch.setattr(store, "flush", flush)
    deps = ApiDeps(store=store, clock=FakeClock(), node_name="n")
    with TestClient(create_app(deps), base_url="http://minikubelet") as api:
        created = api.post("/api/v1/namespaces/default/pods", json=POD)
        assert created.status_code == 201
        rv = int(created.json()["metadata"]["resourceVersion"])
        assert flushed and flushed[-1] >= rv
        before = len(flushed)
        assert api.get("/api/v1/namespaces/default/pods/web").status_code == 200
        assert api.get("/api/v1/namespaces/default/pods").status_code == 200
        assert len(flushed) == before  # reads wait for no disk
        refused = api.post("/api/v1/namespaces/default/pods", json=POD)  # AlreadyExists
        assert refused.status_code == 409
        assert len(flushed) == before  # nothing new committed: nothing to flush
        assert api.delete("/api/v1/namespaces/default/pods/web").status_code == 200
        assert len(flushed) == before + 1
