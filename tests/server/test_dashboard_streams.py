"""The live view's streams in virtual time: the pods' Table once at connect, then only the rows
that changed (as `get` prints them), batched, with no Table rebuilt because time passed; one
list per gap the watch cannot bridge; a pod's events once, then each change as it comes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import format_time
from minikubelet.api.raw import JSON
from minikubelet.clock import FakeClock
from minikubelet.printers.duration import human_duration
from minikubelet.printers.tables import table
from minikubelet.server import ApiDeps
from minikubelet.server.dashboard.feeds import KEEPALIVE
from minikubelet.server.dashboard.routes import _follow_events
from minikubelet.server.dashboard.table import BATCH, TABLE_INTERVAL, pods_stream
from minikubelet.store import Store

Frame = tuple[float, str, Any]  # (virtual time, event, data)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # FakeClock's advance settles asyncio tasks


@pytest.fixture
def lists(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times each kind was listed."""
    counts: dict[str, int] = {}
    real = store.list

    def counting(kind: str, *args: Any, **kwargs: Any) -> Any:
        counts[kind] = counts.get(kind, 0) + 1
        return real(kind, *args, **kwargs)

    monkeypatch.setattr(store, "list", counting)
    return counts


def _frame(raw: bytes) -> tuple[str, Any]:
    if raw.startswith(b":"):
        return "keepalive", None
    head, data = raw.decode().split("\n")[:2]
    return head.removeprefix("event: "), json.loads(data.removeprefix("data: "))


async def _inline(build: Callable[[], bytes]) -> bytes:
    return build()  # on the loop: the fake clock settles what runs there


def _pod(clock: FakeClock, name: str, namespace: str = "default") -> JSON:
    meta = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": format_time(clock.utcnow()),
    }
    return {"metadata": meta, "spec": {"containers": [{"name": "c", "image": "i"}]}}


def _running(ready: bool, restarts: int = 0, finished: str = "") -> JSON:
    status: JSON = {
        "name": "c",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
    }
    if finished:
        status["lastState"] = {"terminated": {"exitCode": 137, "finishedAt": finished}}
    return {"phase": "Running", "containerStatuses": [status]}


class Follower:
    """A page reading `/api/pods`: every frame with the virtual time it came."""

    def __init__(self, stream: AsyncIterator[bytes], clock: FakeClock) -> None:
        self.frames: list[Frame] = []
        self.keepalives: list[float] = []
        self.stream, self.clock = stream, clock

    async def run(self) -> None:
        async for raw in self.stream:
            event, data = _frame(raw)
            if event == "keepalive":
                self.keepalives.append(self.clock.monotonic())
            else:
                self.frames.append((self.clock.monotonic(), event, data))

    def events(self) -> list[str]:
        return [event for _, event, _ in self.frames]


async def _follow(store: Store, clock: FakeClock, body: Callable[[Follower], Any]) -> list[Frame]:
    deps = ApiDeps(store=store, clock=clock, node_name="node1")
    follower = Follower(pods_stream(deps, _inline), clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(follower.run)
        await clock.advance(0)
        await body(follower)
        tg.cancel_scope.cancel()
    return follower.frames


def _cells_as_get(store: Store, clock: FakeClock, namespace: str, name: str) -> list[Any]:
    rows: list[JSON] = table("Pod", [store.get("Pod", namespace, name)], clock.utcnow())["rows"]
    return list(rows[0]["cells"])


@pytest.mark.anyio
async def test_the_table_once_then_only_the_rows_that_changed(
    store: Store, clock: FakeClock, lists: dict[str, int]
) -> None:
    for namespace, name in [("default", "b"), ("default", "a"), ("apps", "z"), ("default", "c")]:
        store.create("Pod", _pod(clock, name, namespace))

    async def body(page: Follower) -> None:
        assert page.events() == ["table"]
        first = page.frames[0][2]
        assert first["kind"] == "Table" and [c["name"] for c in first["columnDefinitions"]][:5] == [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
        ]
        keys = [f"{r['object']['metadata']['namespace']}/{r['cells'][0]}" for r in first["rows"]]
        assert keys == ["apps/z", "default/a", "default/b", "default/c"]  # as `get` lists them

        await clock.advance(30.0)
        store.update_status("Pod", "default", "b", _running(ready=True))
        await clock.advance(BATCH)
        at, event, data = page.frames[-1]
        assert (event, list(data["rows"]), data["deleted"]) == ("rows", ["default/b"], [])
        assert data["rows"]["default/b"]["cells"] == _cells_as_get(store, clock, "default", "b")
        assert data["rows"]["default/b"]["cells"][1:5] == ["1/1", "Running", "0", "30s"]

        store.delete("Pod", "default", "c")
        store.create("Pod", _pod(clock, "d"))
        await clock.advance(BATCH)
        assert len(page.frames) == 2  # changes keep coming: at most one event a second
        await clock.advance(TABLE_INTERVAL - BATCH)
        _, event, data = page.frames[-1]
        assert (event, list(data["rows"]), data["deleted"]) == (
            "rows",
            ["default/d"],
            ["default/c"],
        )

        before, start = len(page.frames), clock.monotonic()
        await clock.advance(60.0)  # nothing changes: no Table, no row, for AGE or anything else
        assert len(page.frames) == before
        assert len([at for at in page.keepalives if at > start]) == 60.0 // KEEPALIVE

    await _follow(store, clock, body)
    assert lists == {"Pod": 1}  # at connect only, never per change


@pytest.mark.anyio
async def test_a_burst_is_one_event_a_second_with_each_pod_once(
    store: Store, clock: FakeClock, lists: dict[str, int]
) -> None:
    """Pods changing all the time (a node starting 200 at once): one `rows` a second, carrying
    each pod changed since the last one once, in its latest state; a lone change after a quiet
    spell comes BATCH after it."""

    connected: dict[str, int] = {}

    async def body(page: Follower) -> None:
        connected.update(lists)  # the store was empty: its watch from "0" lists too
        for index in range(16):  # a new pod every 1/8 s for 2 s, and `p00` changing throughout
            store.create("Pod", _pod(clock, f"p{index:02d}"))
            if index:
                store.update_status("Pod", "default", "p00", _running(ready=index % 2 == 0))
            await clock.advance(0.125)
        await clock.advance(1.0)
        rows = [(at, sorted(data["rows"])) for at, event, data in page.frames if event == "rows"]
        assert [at for at, _ in rows] == [1.0, 2.0]
        assert rows[0][1] == [f"default/p{i:02d}" for i in range(8)]
        assert rows[1][1] == [f"default/p{i:02d}" for i in (0, *range(8, 16))]
        last = page.frames[-1][2]["rows"]["default/p00"]["cells"]
        assert last[1] == "0/1"  # index 15: the latest state, not ready
        await clock.advance(3.0)
        store.update_status("Pod", "default", "p05", _running(ready=True))
        await clock.advance(0.5)
        assert page.frames[-1][0] == pytest.approx(clock.monotonic() - 0.5 + BATCH)

    frames = await _follow(store, clock, body)
    assert [event for _, event, _ in frames].count("table") == 1
    assert lists == connected


@pytest.mark.anyio
async def test_rows_say_what_age_and_restarts_count_from(store: Store, clock: FakeClock) -> None:
    """The page moves AGE and "(5m ago)" on from these, with the same HumanDuration."""
    await clock.advance(1000.0)
    store.create("Pod", _pod(clock, "web"))
    created = clock.utcnow()
    await clock.advance(400.0)
    finished = clock.utcnow()
    store.update_status("Pod", "default", "web", _running(True, 2, format_time(finished)))
    await clock.advance(125.0)

    async def body(page: Follower) -> None:
        row = page.frames[0][2]["rows"][0]
        assert row["since"] == {"Age": created.timestamp(), "Restarts": finished.timestamp()}
        now = clock.utcnow()
        assert row["cells"][3:5] == [
            f"2 ({human_duration(now - finished)} ago)",
            human_duration(now - created),
        ]
        assert row["cells"][3:5] == ["2 (2m5s ago)", "8m45s"]

    await _follow(store, clock, body)


@pytest.mark.anyio
async def test_a_gap_the_watch_cannot_bridge_is_one_new_table(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A page that fell behind (its watch buffer overflowed) and whose revision has left the
    ring gets the Table again, listed once, with every change in it."""
    with Store.open(tmp_path / "small.db", clock, watch_window=2, watch_buffer=2) as store:
        store.create("Pod", _pod(clock, "web"))

        async def body(page: Follower) -> None:
            for index in range(8):  # no await between: the page's watch overflows
                store.create("Pod", _pod(clock, f"new{index}"))
            await clock.advance(TABLE_INTERVAL)
            assert page.events() == ["table", "table"]
            rows = page.frames[-1][2]["rows"]
            assert [r["cells"][0] for r in rows] == [*(f"new{i}" for i in range(8)), "web"]

        await _follow(store, clock, body)


def _involved(name: str) -> JSON:
    return {"kind": "Pod", "namespace": "default", "name": name, "uid": f"uid-default-{name}"}


@pytest.mark.anyio
async def test_a_pods_events_once_then_each_change(
    store: Store, clock: FakeClock, lists: dict[str, int]
) -> None:
    source = {"component": "kubelet"}
    store.record_event("default", _involved("web"), "Normal", "Pulled", "pulled", source)
    store.record_event("default", _involved("other"), "Normal", "Pulled", "pulled", source)
    deps = ApiDeps(store=store, clock=clock, node_name="node1")
    send, receive = anyio.create_memory_object_stream[bytes](100)
    got: list[tuple[str, Any]] = []

    async def read() -> None:
        async with receive:
            async for raw in receive:
                got.append(_frame(raw))

    async with anyio.create_task_group() as tg:
        tg.start_soon(_follow_events, deps, "default", "uid-default-web", send)
        tg.start_soon(read)
        await clock.advance(0)
        assert [(e, [x["reason"] for x in data]) for e, data in got] == [("events", ["Pulled"])]

        killing = store.record_event("default", _involved("web"), "Normal", "Killing", "k", source)
        store.record_event("default", _involved("other"), "Warning", "BackOff", "b", source)
        await clock.advance(1.0)
        store.record_event("default", _involved("web"), "Normal", "Killing", "k", source)
        await clock.advance(0)
        assert [
            (e, d["type"], d["object"]["reason"], d["object"]["count"]) for e, d in got[1:]
        ] == [
            ("event", "ADDED", "Killing", 1),
            ("event", "MODIFIED", "Killing", 2),  # the same event, counted again: by uid
        ]
        assert got[2][1]["object"]["metadata"]["uid"] == killing["metadata"]["uid"]

        store.delete_events_for("uid-default-web")
        await clock.advance(0)
        assert sorted((e, d["type"], d["object"]["reason"]) for e, d in got[3:]) == [
            ("event", "DELETED", "Killing"),
            ("event", "DELETED", "Pulled"),
        ]
        tg.cancel_scope.cancel()
    assert lists == {"Event": 1}
