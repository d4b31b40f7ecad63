"""Which engine call goes first when the engine is busy: pods in the order the node took them.

A node given 110 pods at once used to send the engine every pod's first call (its sandbox)
before any pod's second (its container), the control gate being first come, first served:
nothing ran for half the ramp, then 110 servers started together beside the last creates, and
their readiness probes failed while the engine was still busy. With ranks, a waiting call of a
pod taken earlier passes the calls of pods taken later, so pods start one after another, eight
at a time, as `docker run` in eight threads would: the first are Ready while the last are made.

Each pod worker sets `types.CALLER_RANK` in its own task (the node counts the pods it takes);
calls of the node itself (relist, housekeeping) keep rank 0 and go first. Equal ranks keep arrival
order, so the gate is fair between the calls of one pod and FIFO when nobody ranks anything.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

__all__ = ["RankedSlots"]


class RankedSlots:
    """At most `size` holders at once; a waiter with a lower rank enters first, then by
    arrival. A freed slot is handed to the next waiter directly, so no newcomer jumps it."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: list[tuple[int, int, anyio.Event]] = []
        self._arrival = itertools.count()

    @asynccontextmanager
    async def slot(self, rank: int) -> AsyncIterator[None]:
        if self._free and not self._waiting:
            self._free -= 1
        else:
            entry = (rank, next(self._arrival), anyio.Event())
            heapq.heappush(self._waiting, entry)
            try:
                await entry[2].wait()
            except BaseException:
                if entry[2].is_set():  # handed a slot as it was cancelled: pass it on
                    self._release()
                else:
                    self._waiting.remove(entry)
                    heapq.heapify(self._waiting)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        if self._waiting:
            heapq.heappop(self._waiting)[2].set()
        else:
            self._free += 1
