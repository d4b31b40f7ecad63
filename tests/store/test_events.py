"""Events: client-go's dedup (count, firstTimestamp, lastTimestamp), names, deletion, expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from minikubelet.clock import FakeClock
from minikubelet.store import Store
from minikubelet.store.events import event_name, unix_nanos

POD_REF = {
    "kind": "Pod",
    "namespace": "default",
    "name": "web",
    "uid": "pod-uid",
    "apiVersion": "v1",
    "resourceVersion": "7",
}
KUBELET = {"component": "kubelet", "host": "node1"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", clock) as opened:
        yield opened


def record(store: Store, **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "namespace": "default",
        "involved": POD_REF,
        "type_": "Normal",
        "reason": "Pulled",
        "message": 'Container image "busybox" already present on machine',
        "source": KUBELET,
    }
    args.update(changes)
    return store.record_event(**args)


def test_new_event_has_the_recorders_shape(store: Store, clock: FakeClock) -> None:
    event = record(store, involved={**POD_REF, "fieldPath": "spec.containers{app}"})
    nanos = unix_nanos(clock.utcnow())
    assert len(f"{nanos:x}") == 16
    assert event == {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": f"web.{nanos:x}",
            "namespace": "default",
            "uid": event["metadata"]["uid"],
            "resourceVersion": "1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "involvedObject": {**POD_REF, "fieldPath": "spec.containers{app}"},
        "reason": "Pulled",
        "message": 'Container image "busybox" already present on machine',
        "source": KUBELET,
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "count": 1,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "node1",
    }
    assert event["metadata"]["uid"]
    assert store.get("Event", "default", event["metadata"]["name"]) == event


@pytest.mark.anyio
async def test_identical_event_is_counted_not_repeated(store: Store, clock: FakeClock) -> None:
    first = record(store)
    await clock.advance(42.7)
    second = record(store, involved={**POD_REF, "resourceVersion": "9"})  # rv is not in the key
    assert second["metadata"]["name"] == first["metadata"]["name"]
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["count"] == 2
    assert second["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert second["lastTimestamp"] == "2026-01-01T00:00:42Z"
    assert second["metadata"]["resourceVersion"] == "2"
    assert record(store)["count"] == 3
    assert len(store.list("Event", "default")[0]) == 1


DIFFERENT = [
    ("message", {"message": "other"}),
    ("reason", {"reason": "Pulling"}),
    ("type", {"type_": "Warning"}),
    ("fieldPath", {"involved": {**POD_REF, "fieldPath": "spec.containers{b}"}}),
    ("uid", {"involved": {**POD_REF, "uid": "new-pod-uid"}}),
    ("source host", {"source": {"component": "kubelet", "host": "node2"}}),
    ("source component", {"source": {"component": "default-scheduler"}}),
]


@pytest.mark.parametrize("change", [c[1] for c in DIFFERENT], ids=[c[0] for c in DIFFERENT])
def test_any_key_difference_makes_a_new_event(store: Store, change: dict[str, Any]) -> None:
    first = record(store)
    other = record(store, **change)
    assert other["count"] == 1
    assert other["metadata"]["name"] != first["metadata"]["name"]  # same instant, unique name
    assert len(store.list("Event", "default")[0]) == 2


def test_event_name_format() -> None:
    assert event_name("web", 0x1881B2F0A6C6D800) == "web.1881b2f0a6c6d800"


@pytest.mark.anyio
async def test_expire_and_delete_events_for(store: Store, clock: FakeClock) -> None:
    record(store)
    await clock.advance(3600)
    record(store, reason="Started", message="Started container app")
    record(store, involved={**POD_REF, "name": "db", "uid": "db-uid"})
    start = clock.utcnow() - timedelta(seconds=3600)
    assert store.expire_events(start) == 0  # lastTimestamp == cutoff is kept
    assert store.expire_events(start + timedelta(seconds=1)) == 1
    assert store.delete_events_for("pod-uid") == 1
    assert [e["involvedObject"]["name"] for e in store.list("Event", None)[0]] == ["db"]
    assert store.delete_events_for("pod-uid") == 0


@pytest.mark.anyio
async def test_repeat_after_expiry_starts_over(store: Store, clock: FakeClock) -> None:
    record(store)
    await clock.advance(7200)
    store.expire_events(clock.utcnow() - timedelta(seconds=3600))
    again = record(store)
    assert again["count"] == 1
    assert again["firstTimestamp"] == "2026-01-01T02:00:00Z"


def test_dedup_survives_reopen(tmp_path: Path, clock: FakeClock) -> None:
    with Store.open(tmp_path / "s.db", clock) as first:
        name = record(first)["metadata"]["name"]
    with Store.open(tmp_path / "s.db", clock) as second:
        again = record(second)
    assert (again["metadata"]["name"], again["count"]) == (name, 2)
