"""The one clock. Every timed rule reads it; tests inject `FakeClock` and run in virtual time.

No other module calls `time.time`, `time.monotonic`, `datetime.now` or a raw sleep
(`tests/test_layers.py` enforces it).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "RealClock", "poll"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""
        ...

    def utcnow(self) -> datetime:
        """The wall-clock time, aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep on this clock."""
        ...


class RealClock:
    """The machine's clocks; sleeping is anyio's."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)


def poll(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Block until `predicate()` is true or `timeout` seconds pass; for synchronous callers
    (the CLI waiting for its agent). True if the predicate came true."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class FakeClock:
    """Virtual time: `advance(dt)` moves both clocks and wakes sleepers in deadline order."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._now = 0.0
        self._sleepers: list[tuple[float, int, object]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def utcnow(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    async def sleep(self, seconds: float) -> None:
        import anyio

        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + max(seconds, 0.0), next(self._order), event))
        await event.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline and letting it run."""
        import anyio
        from anyio import lowlevel

        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            assert isinstance(event, anyio.Event)
            event.set()
            await lowlevel.checkpoint()
            await anyio.wait_all_tasks_blocked()
        self._now = target
