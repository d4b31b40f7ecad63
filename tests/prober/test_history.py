"""The probe history writer, and the container history feeding it, in virtual time, into a
real store on disk: batching by time and by count, the ring per (pod, container, series),
nothing for a deleted pod (even when its deletion races a flush), a full queue dropping its
oldest, starts/kills/Ready changes followed from the pod and event watches, and no duplicates
after an agent restart.

`FakeClock.advance` settles the tasks, but a flush's transaction runs in a worker thread in
real time: `writer.idle()` waits for it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.api.raw import JSON
from minikubelet.clock import FakeClock
from minikubelet.node.container_history import ContainerHistory, Tail
from minikubelet.prober.history import HistoryWriter, Pending
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.worker import Attempt, Kind, Result
from minikubelet.store import Store
from minikubelet.store.probes import DEFAULT_RING, _writer_connection

pytestmark = pytest.mark.anyio

T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-01T00:00:20Z"
T2 = "2026-01-01T00:00:21Z"


class Writes:
    """The store's `write`, counting the batches handed to it."""

    def __init__(self, store: Store) -> None:
        self.store, self.batches = store, list[int]()

    async def __call__(self, batch: Sequence[Pending]) -> int:
        self.batches.append(len(batch))
        return await self.store.probes.write(batch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", clock) as opened:
        _create(opened)
        yield opened


def _create(store: Store, name: str = "web", uid: str = "u1") -> Pod:
    store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "app", "image": "webapl:0.1"}]},
        },
    )
    return _model(name, uid)


def _model(name: str = "web", uid: str = "u1") -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", uid=uid),
        spec=PodSpec(containers=[Container(name="app", image="webapl:0.1")]),
    )


def _attempt(n: int, kind: Kind = Kind.LIVENESS) -> Attempt:
    """Attempt n, told apart by its duration: n ms."""
    outcome = ProbeOutcome.failure("HTTP probe failed with statuscode: 500")
    failed = Result.FAILURE
    return Attempt(kind, "app", "docker://c1", 0, 0.0, 0.0, n / 1000, outcome, failed, False)


@asynccontextmanager
async def running(
    writer: HistoryWriter, store: Store | None = None, tail: Tail | None = None
) -> AsyncIterator[None]:
    """The writer's flusher (and, given a store, the container history following its pod and
    event watches) as the node runs them; cancelled on the way out, after its last flush."""
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        if store is not None:
            tg.start_soon(
                ContainerHistory(writer, writer.clock, tail).run,
                lambda: store.watch("Pod", None, None),
                lambda: store.watch("Event", None, None),
            )
        yield
        tg.cancel_scope.cancel()


async def step(clock: FakeClock, writer: HistoryWriter, seconds: float) -> None:
    """Advance virtual time and let a flush it started finish."""
    await clock.advance(seconds)
    await writer.idle()
    await clock.advance(0)


def _durations(store: Store, probe: str = "liveness") -> list[float]:
    return [r["durationMs"] for r in store.probes.list("u1") if r.get("probe") == probe]


async def test_nothing_written_before_the_interval_then_one_write(
    store: Store, clock: FakeClock
) -> None:
    writes = Writes(store)
    writer = HistoryWriter(writes, clock)
    async with running(writer):
        for n in range(3):
            writer.attempt(_model(), _attempt(n))
        await step(clock, writer, 0.49)
        assert writes.batches == []
        assert store.probes.list("u1") == []
        await step(clock, writer, 0.01)
        assert writes.batches == [3]
        assert _durations(store) == [0, 1, 2]
        await step(clock, writer, 2)  # nothing pending: no empty writes
        assert writes.batches == [3]


async def test_a_full_batch_is_written_at_once(store: Store, clock: FakeClock) -> None:
    writes = Writes(store)
    writer = HistoryWriter(writes, clock)
    async with running(writer):
        for n in range(499):
            writer.attempt(_model(), _attempt(n))
        await step(clock, writer, 0)
        assert writes.batches == []
        writer.attempt(_model(), _attempt(499))
        await step(clock, writer, 0)  # no time passed: the 500th entry woke the flusher
        assert writes.batches == [500]
        assert len(store.probes.list("u1")) == 500
    assert writer.stats.written == 500


async def test_the_ring_keeps_the_newest_per_pod_container_and_series(
    store: Store, clock: FakeClock
) -> None:
    assert store.probes.limit == DEFAULT_RING == 1_000
    writer = HistoryWriter(Writes(store), clock)
    async with running(writer):
        for n in range(700):
            writer.attempt(_model(), _attempt(n))
        await step(clock, writer, 0)
        for n in range(700, 1_200):
            writer.attempt(_model(), _attempt(n))
        for n in range(10):
            writer.attempt(_model(), _attempt(n, Kind.READINESS))
        await step(clock, writer, 0.5)
    assert _durations(store) == list(range(200, 1_200))  # across flushes
    assert _durations(store, "readiness") == list(range(10))
    (rows,) = store._conn.execute("SELECT COUNT(*) FROM probe_history").fetchone()
    assert rows == 1_010


async def test_entries_of_a_deleted_pod_are_never_written(store: Store, clock: FakeClock) -> None:
    writes = Writes(store)
    writer = HistoryWriter(writes, clock)
    async with running(writer):
        writer.attempt(_model(), _attempt(1))
        await step(clock, writer, 0.5)
        writer.attempt(_model(), _attempt(2))
        store.delete("Pod", "default", "web")  # before the flush: the queued entry is dropped
        await step(clock, writer, 0.5)
    assert writes.batches == [1, 1]
    assert writer.stats.written == 1
    (rows,) = store._conn.execute("SELECT COUNT(*) FROM probe_history").fetchone()
    assert rows == 0


async def test_a_flush_racing_the_pod_deletion_writes_nothing(store: Store) -> None:
    """The deletion holds the write lock (the loop's connection); the flush's thread, once its
    `BEGIN IMMEDIATE` has started (seen through the writer connection's statement trace), waits
    for it on its own connection, then finds the pod gone inside its transaction."""
    conn = store._conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM objects WHERE kind = 'Pod' AND uid = 'u1'")
    store.probes.remove("u1")
    assert store.probes._path is not None
    writer = _writer_connection(store.probes._path)
    begun = threading.Event()
    writer.set_trace_callback(lambda sql: begun.set() if sql == "BEGIN IMMEDIATE" else None)
    store.probes._writer = writer
    written: list[int] = []
    entry = Pending("u1", "default", "web", {"kind": "Probe", "probe": "liveness"})
    async with anyio.create_task_group() as tg:

        async def flush() -> None:
            written.append(await store.probes.write([entry]))

        tg.start_soon(flush)
        assert await anyio.to_thread.run_sync(begun.wait, 30.0), "the flush never began"
        assert written == []  # its transaction began and waits on the deletion's lock
        conn.execute("COMMIT")
    assert written == [0]
    assert conn.execute("SELECT COUNT(*) FROM probe_history").fetchone() == (0,)


async def test_the_writer_connection_is_its_own_and_not_fsynced_per_commit(store: Store) -> None:
    entry = Pending("u1", "default", "web", {"kind": "Probe", "probe": "liveness"})
    assert await store.probes.write([entry]) == 1
    writer = store.probes._writer
    assert isinstance(writer, sqlite3.Connection) and writer is not store._conn
    assert writer.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert store._conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL, unchanged
    assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_full_queue_drops_its_oldest_and_never_blocks(
    store: Store, clock: FakeClock
) -> None:
    writer = HistoryWriter(Writes(store), clock, capacity=3)
    async with running(writer):
        for n in range(5):
            writer.attempt(_model(), _attempt(n))  # synchronous: returns, never waits
        assert writer.pending == 3
        assert writer.stats.dropped == 2
        await step(clock, writer, 0.5)
    assert _durations(store) == [2, 3, 4]


def _status(restarts: int, ready: str, since: str) -> JSON:
    container: JSON = {
        "name": "app",
        "restartCount": restarts,
        "containerID": f"docker://c{restarts + 1}",
        "state": {"running": {"startedAt": T2 if restarts else T0}},
    }
    if restarts:
        container["lastState"] = {
            "terminated": {
                "exitCode": 137,
                "reason": "Error",
                "startedAt": T0,
                "finishedAt": T1,
                "containerID": "docker://c1",
            }
        }
    condition = {"type": "Ready", "status": ready, "lastTransitionTime": since}
    return {"phase": "Running", "containerStatuses": [container], "conditions": [condition]}


def _steps(store: Store) -> list[str]:
    out = []
    for r in store.probes.list("u1"):
        if r["kind"] == "Container":
            out.append(f"{r['event']}#{r['instance']}")
        elif r["kind"] == "Condition":
            out.append(f"{r['condition']}={r['status']}")
    return out


async def _restart_story(store: Store, clock: FakeClock, writer: HistoryWriter) -> None:
    """Started, not ready; ready; killed for liveness; exited, started again, not ready."""
    store.update_status("Pod", "default", "web", _status(0, "False", T0))
    await step(clock, writer, 0.5)
    store.update_status("Pod", "default", "web", _status(0, "True", "2026-01-01T00:00:05Z"))
    await step(clock, writer, 0.5)
    involved = {
        "kind": "Pod",
        "namespace": "default",
        "name": "web",
        "uid": "u1",
        "fieldPath": "spec.containers{app}",
    }
    message = "Container app failed liveness probe, will be restarted"
    store.record_event("default", involved, "Normal", "Killing", message, {"component": "k"})
    await step(clock, writer, 0.5)
    store.update_status("Pod", "default", "web", _status(1, "False", T2))
    await step(clock, writer, 0.5)


STORY = ["Started#0", "Ready=False", "Ready=True", "Killed#0", "Exited#0", "Started#1"]


async def test_starts_kills_and_ready_changes_come_from_the_watches(
    store: Store, clock: FakeClock
) -> None:
    writer = HistoryWriter(Writes(store), clock)
    async with running(writer, store):
        await _restart_story(store, clock, writer)
    assert _steps(store) == [*STORY, "Ready=False"]
    kill = next(r for r in store.probes.list("u1") if r.get("event") == "Killed")
    assert kill["message"] == "Container app failed liveness probe, will be restarted"
    exited = next(r for r in store.probes.list("u1") if r.get("event") == "Exited")
    assert (exited["exitCode"], exited["reason"], exited["time"]) == (137, "Error", T1)


async def test_an_agent_restart_writes_nothing_twice(tmp_path: Path) -> None:
    clock = FakeClock()
    with Store.open(tmp_path / "state.db", clock) as store:
        _create(store)
        writer = HistoryWriter(Writes(store), clock)
        async with running(writer, store):
            await _restart_story(store, clock, writer)
        before = store.probes.list("u1")
    assert _steps_of(before) == [*STORY, "Ready=False"]
    clock = FakeClock()
    clock._now = 60.0  # a new process, a minute on: the kill event is no longer fresh
    with Store.open(tmp_path / "state.db", clock) as store:
        writer = HistoryWriter(Writes(store), clock)
        async with running(writer, store):  # the watches list the pod and its events again
            await step(clock, writer, 0.5)
            await step(clock, writer, 0.5)
        assert store.probes.list("u1") == before
        assert writer.stats.written == 0


def _steps_of(entries: list[JSON]) -> list[str]:
    return [
        f"{r['event']}#{r['instance']}"
        if r["kind"] == "Container"
        else f"{r['condition']}={r['status']}"
        for r in entries
    ]


async def test_kills_restarts_and_ready_changes_carry_their_causes(
    store: Store, clock: FakeClock
) -> None:
    """The liveness run that crossed the threshold is the kill's cause; the restart's cause adds
    how the container ended and what it logged last; each Ready change says why."""
    asked: list[str] = []

    async def tail(container_id: str) -> list[str]:
        asked.append(container_id)
        return ["GET /healthz 500", "GET /ready 200"]

    writer = HistoryWriter(Writes(store), clock)
    readiness = _attempt(0, Kind.READINESS)
    passed = ProbeOutcome.success("OK")
    writer.attempt(
        _model(), replace(readiness, outcome=passed, result=Result.SUCCESS, changed=True)
    )
    for n in range(1, 4):
        crossed = replace(_attempt(n), count=f"failure {n} of 3", changed=n == 3)
        writer.attempt(_model(), crossed)
    async with running(writer, store, tail):
        await _restart_story(store, clock, writer)
    assert asked == ["docker://c1"]  # the exited instance's lines, read once
    entries = store.probes.list("u1")
    kill = next(r for r in entries if r.get("event") == "Killed")
    assert kill["cause"]["summary"] == (
        "liveness probe: failure 3 of 3: HTTP probe failed with statuscode: 500"
    )
    assert [a["count"] for a in kill["cause"]["attempts"]] == [
        f"failure {n} of 3" for n in (1, 2, 3)
    ]
    exited = next(r for r in entries if r.get("event") == "Exited")
    assert exited["logs"] == ["GET /healthz 500", "GET /ready 200"]
    restart = next(r for r in entries if r.get("event") == "Started" and r["instance"] == 1)
    assert (
        restart["cause"]["summary"]
        == f"killed: {kill['cause']['summary']}; then Error (exit code 137)"
    )
    assert (restart["cause"]["exitCode"], restart["cause"]["logs"]) == (137, exited["logs"])
    ready = [(r["status"], r["cause"]["summary"]) for r in entries if r.get("condition") == "Ready"]
    # The attempts were all made before the story: the first False already sees the liveness
    # run that crossed (a container running, not ready, whose liveness failed is explained so).
    assert ready == [
        ("False", "liveness probe: failure 3 of 3: HTTP probe failed with statuscode: 500"),
        ("True", "readiness probe: OK"),
        ("False", "liveness probe: failure 3 of 3: HTTP probe failed with statuscode: 500"),
    ]
