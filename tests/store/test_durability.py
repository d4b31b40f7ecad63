"""A committed write survives SIGKILL: a child writes and prints each revision after commit;
the test kills it mid-stream and reopens the file. The agent's store commits without fsync and
makes its commits durable in groups (`barrier.py`): one flush for every writer waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.clock import FakeClock
from minikubelet.store import Store
from minikubelet.store.barrier import CommitBarrier

WRITER = """
import sys
from pathlib import Path
from minikubelet.clock import RealClock
from minikubelet.store import Store

store = Store.open(Path(sys.argv[1]), RealClock())
for i in range(1_000_000):
    meta = {"name": f"p{i}", "namespace": "default", "uid": f"u{i}"}
    created = store.create("Pod", {"metadata": meta, "spec": {}})
    if i % 2:
        created = store.update_status("Pod", "default", f"p{i}", {"phase": "Running"})
    print(f"p{i} {created['metadata']['resourceVersion']}", flush=True)
"""

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_committed_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    printed: dict[str, str] = {}
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            name, rv = line.split()
            printed[name] = rv
            if len(printed) == 150:
                child.send_signal(signal.SIGKILL)  # mid-stream: it is still writing
                break
        child.wait()
        assert child.returncode == -signal.SIGKILL
    with Store.open(path, FakeClock()) as store:
        for name, rv in printed.items():
            stored = store.get("Pod", "default", name)
            assert stored["metadata"]["resourceVersion"] == rv  # each pod is written only then
        assert int(store.revision) >= int(printed["p149"])
        store.create("Pod", {"metadata": {"name": "after", "namespace": "default", "uid": "u"}})


def _pod(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "uid": f"u-{name}"}, "spec": {}}


def test_the_agents_store_commits_without_fsync_and_flushes(tmp_path: Path) -> None:
    with Store.open(tmp_path / "agent.db", FakeClock(), durable_commits=False) as agent:
        (level,) = agent._conn.execute("PRAGMA synchronous").fetchone()
        assert level == 1  # NORMAL: the commit waits for no disk
        agent.create("Pod", _pod("a"))
        agent.flush()  # the WAL's fsync, as the barrier runs it in a thread
    with Store.open(tmp_path / "cli.db", FakeClock()) as cli:
        (level,) = cli._conn.execute("PRAGMA synchronous").fetchone()
        assert level == 2  # FULL: every other opener fsyncs each commit


class CountingStore:
    """The store's side of the barrier: the last commit, and flushes that block until let go."""

    durable_commits = False

    def __init__(self) -> None:
        self.committed = 0
        self.flushes: list[int] = []  # the revision each flush covered
        self.release = threading.Event()

    def flush(self) -> None:
        self.flushes.append(self.committed)
        self.release.wait(5)


@pytest.mark.anyio
async def test_one_flush_covers_everyone_waiting_and_a_later_commit_gets_its_own() -> None:
    store = CountingStore()
    barrier = CommitBarrier(store)  # type: ignore[arg-type]
    done: list[str] = []

    async def write(name: str) -> None:
        store.committed += 1
        await barrier.wait()
        done.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write, "first")
        await wait_until(lambda: len(store.flushes) == 1)
        tg.start_soon(write, "second")  # committed after the running flush began
        tg.start_soon(write, "third")
        await anyio.sleep(0.05)
        assert done == [] and store.flushes == [1]
        store.release.set()
    assert done == ["first", "second", "third"]
    assert store.flushes == [1, 3]  # the second and third shared one flush
    await barrier.wait()  # nothing new since: no flush
    assert store.flushes == [1, 3]


@pytest.mark.anyio
async def test_a_durable_store_needs_no_flush() -> None:
    store = CountingStore()
    store.durable_commits = True
    store.committed = 5
    await CommitBarrier(store).wait()  # type: ignore[arg-type]
    assert store.flushes == []


async def wait_until(check: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not check():
            await anyio.sleep(0.001)
