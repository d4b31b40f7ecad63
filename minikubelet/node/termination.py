"""The order containers stop in when a pod is killed: `kuberuntime_termination_order.go`.

Every running container is killed at once (`killContainersWithSyncResult`), but a sidecar
waits for its turn before its stop signal: until every regular container has terminated and
every later sidecar too (so sidecars stop in reverse spec order), or until its grace period
runs out. The wait counts against the grace period (`killContainer`: `gracePeriod -=
int(waitForTurn(...))`). Times are read from the node's clock, so tests run in virtual time.
"""

from __future__ import annotations

from collections.abc import Iterable

import anyio

from minikubelet.api.models import Pod
from minikubelet.clock import Clock
from minikubelet.node.actions import is_sidecar

__all__ = ["TerminationOrdering"]


class TerminationOrdering:
    """`terminationOrdering` for one kill of a pod, built from the spec and the names of the
    containers running now (a container not running counts as already terminated)."""

    def __init__(self, pod: Pod, running: Iterable[str], clock: Clock) -> None:
        self.clock = clock
        live = set(running)
        self.terminated: dict[str, anyio.Event] = {}
        self.prereqs: dict[str, list[anyio.Event]] = {}
        mains = [self._channel(c.name, live) for c in pod.spec.containers or []]
        previous: str | None = None
        for init in reversed(pod.spec.initContainers or []):
            self._channel(init.name, live)
            if not is_sidecar(init):
                continue
            waits = list(mains)  # sidecars wait for every main container
            if previous is not None:
                waits.append(self.terminated[previous])  # and for the later sidecar
            self.prereqs[init.name] = waits
            previous = init.name

    def _channel(self, name: str, live: set[str]) -> anyio.Event:
        event = anyio.Event()
        if name not in live:
            event.set()  # not running: nothing waits on it
        self.terminated[name] = event
        return event

    async def wait_for_turn(self, name: str, grace: float) -> float:
        """`waitForTurn`: the seconds waited for `name`'s prerequisites, at most `grace`."""
        if grace <= 0:
            return 0.0
        start = self.clock.monotonic()
        waits = self.prereqs.get(name, [])
        if all(event.is_set() for event in waits):
            return 0.0
        # read when the turn came (or the grace ran out), not after the task group ends:
        # on the fake clock, time may move on while the cancelled timer unwinds
        ended = start + grace
        async with anyio.create_task_group() as tg:

            async def expire() -> None:
                await self.clock.sleep(grace)
                tg.cancel_scope.cancel()

            async def turn() -> None:
                nonlocal ended
                for event in waits:
                    await event.wait()
                ended = self.clock.monotonic()
                tg.cancel_scope.cancel()

            tg.start_soon(expire)
            tg.start_soon(turn)
        return ended - start

    def container_terminated(self, name: str) -> None:
        event = self.terminated.get(name)
        if event is not None:
            event.set()
