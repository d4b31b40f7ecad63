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
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # anyio is imported where it is used: the CLI reads this module too
    import anyio

__all__ = ["Clock", "FakeClock", "RealClock", "poll", "sleep_or_wake"]


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


async def sleep_or_wake(clock: Clock, seconds: float, wake: anyio.Event) -> bool:
    """Sleep `seconds` on `clock`, or less if `wake` is set first (kopf's interruptible sleep).
    True when woken. On the real clock one cancel scope around the wait (every probe worker
    sleeps here once a period: two tasks per sleep were a tenth of a probe's CPU at 200 probed
    pods); on any other clock a timer task on that clock, as `move_on_after` would not run in
    virtual time."""
    import anyio

    if isinstance(clock, RealClock):
        with anyio.move_on_after(seconds):
            await wake.wait()
        return wake.is_set()
    woken = False
    async with anyio.create_task_group() as tg:

        async def timer() -> None:
            await clock.sleep(seconds)
            tg.cancel_scope.cancel()

        async def watcher() -> None:
            nonlocal woken
            await wake.wait()
            woken = True
            tg.cancel_scope.cancel()

        tg.start_soon(timer)
        tg.start_soon(watcher)
    return woken


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

        await _settle()  # let what was just started reach its sleep
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            assert isinstance(event, anyio.Event)
            event.set()
            await _settle()
        self._now = target


async def _settle() -> None:
    """Yield until every other task waits on something: `anyio.wait_all_tasks_blocked`
    without its 0.1 s real-time naps, which would make virtual time crawl (asyncio only)."""
    import asyncio

    me = asyncio.current_task()
    for _ in range(100_000):
        await asyncio.sleep(0)
        if all(
            task is me or (task._fut_waiter is not None and not task._fut_waiter.done())  # type: ignore[attr-defined]
            for task in asyncio.all_tasks()
        ):
            return
