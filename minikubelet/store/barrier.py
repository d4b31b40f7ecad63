"""Group commit: a write's answer waits until its commit is on disk, with the fsync off the loop.

    API write ── commit (loop, no fsync) ── answer ── await barrier.wait() ──┐
    API write ── commit ─────────────────── answer ── await barrier.wait() ──┤ one flush covers
    node's status/event writes ── commit ───────────────────────────────────┘ every commit so far
                                                  worker thread: Store.flush() (fsync of the WAL)

The agent's store commits without fsync (`schema.py`, Durability). Before the API answers a
write, `wait()` makes sure a flush that began after the write's commit has ended: one flush at a
time, in a worker thread, and every caller that arrives meanwhile is covered by the next one,
as etcd batches its fsyncs. The node's own writes (statuses, events) wait for nobody; they reach
the disk with the next answered write or checkpoint, and are derived again after a power loss.
A store opened with `durable_commits` needs no barrier: `wait()` returns at once.
"""

from __future__ import annotations

import anyio

from minikubelet.store.db import Store

__all__ = ["CommitBarrier"]


class CommitBarrier:
    """Waits for the store's commits to be durable, one fsync for everyone waiting at once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._durable = store.committed  # `Store.open` flushed what was already there
        self._flushing: anyio.Event | None = None
        self._limiter: anyio.CapacityLimiter | None = None  # its own: never behind SDK calls

    async def wait(self) -> None:
        """Until every commit made before this call is on disk."""
        if self._store.durable_commits:
            return
        wanted = self._store.committed
        while self._durable < wanted:
            if self._flushing is not None:  # it may have started before our commit: loop
                await self._flushing.wait()
                continue
            self._flushing = done = anyio.Event()
            covered = self._store.committed
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(1)
            try:
                await anyio.to_thread.run_sync(self._store.flush, limiter=self._limiter)
                self._durable = max(self._durable, covered)
            finally:
                self._flushing = None
                done.set()
