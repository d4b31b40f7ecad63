"""One probe worker (`pkg/kubelet/prober/worker.go`): a small state machine fed by a ticker.

`ProbeState` holds what the kubelet's worker holds (container ID, on-hold, lastResult,
resultRun, the cached result of the current container). `ProbeWorker.do_probe` is `doProbe`,
step by step (kubelet-reference Part 1 §1); `run` is the ticker loop: ticks anchored to the
worker's creation, missed ticks dropped, a manual trigger (readiness) probing at once and
resetting the ticker (1.32+).
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING

from minikubelet.api.models import Container, ContainerStatus, Pod, PodStatus, Probe
from minikubelet.clock import Clock, sleep_or_wake
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult

if TYPE_CHECKING:
    import anyio

__all__ = [
    "Attempt",
    "Kind",
    "ProbeState",
    "ProbeWorker",
    "Result",
    "apply_outcome",
    "threshold_count",
]


class Result(IntEnum):
    """`results.Result`."""

    UNKNOWN = -1
    SUCCESS = 0
    FAILURE = 1


class Kind(IntEnum):
    LIVENESS = 0
    READINESS = 1
    STARTUP = 2

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def field(self) -> str:
        return f"{self.name.lower()}Probe"

    @property
    def initial(self) -> Result:
        """readiness Failure, liveness Success, startup Unknown (`newWorker`)."""
        return {Kind.LIVENESS: Result.SUCCESS, Kind.READINESS: Result.FAILURE}.get(
            self, Result.UNKNOWN
        )


@dataclass
class ProbeState:
    container_id: str = ""
    result: Result | None = None  # the results manager's entry for container_id
    on_hold: bool = False
    last_result: Result = Result.SUCCESS  # Go's zero value
    result_run: int = 0


@dataclass(frozen=True)
class Attempt:
    """One probe that ran: what the timeline records and the events report."""

    kind: Kind
    container: str
    container_id: str
    attempt: int
    scheduled: float
    started: float
    duration: float
    outcome: ProbeOutcome
    result: Result | None  # None: errored, not counted
    changed: bool
    count: str = ""  # the threshold count after it: `failure 2 of 3`, `ignored: errored`


def apply_outcome(state: ProbeState, kind: Kind, probe: Probe, outcome: ProbeOutcome) -> bool:
    """The threshold logic of `doProbe` after a probe ran; True when the cached result was set
    to a new value (the results manager only sends an update on change)."""
    result = (
        Result.SUCCESS
        if outcome.result in (ProbeResult.SUCCESS, ProbeResult.WARNING)
        else Result.FAILURE
    )
    if result == state.last_result:
        state.result_run += 1
    else:
        state.last_result, state.result_run = result, 1
    failure_threshold = probe.failureThreshold or 3
    success_threshold = probe.successThreshold or 1
    if (result is Result.FAILURE and state.result_run < failure_threshold) or (
        result is Result.SUCCESS and state.result_run < success_threshold
    ):
        return False
    changed = state.result != result
    state.result = result
    if (kind is Kind.LIVENESS and result is Result.FAILURE) or kind is Kind.STARTUP:
        state.on_hold, state.result_run = True, 0
    return changed


def threshold_count(state: ProbeState, probe: Probe, result: Result | None) -> str:
    """Where an attempt of `result` leaves the run, read before `apply_outcome` counts it:
    `failure 2 of 3`, `success 1 of 1`; an errored attempt is not counted (`ignored: errored`),
    nor is one that ends while the worker is on hold (`ignored: on hold`)."""
    if result is None:
        return "ignored: errored"
    if state.on_hold:
        return "ignored: on hold"
    run = state.result_run + 1 if result == state.last_result else 1
    if result is Result.SUCCESS:
        return f"success {run} of {probe.successThreshold or 1}"
    return f"failure {run} of {probe.failureThreshold or 3}"


Runner = Callable[[Probe, Kind, Container, str, str], Awaitable[ProbeOutcome]]
Notify = Callable[["ProbeWorker", Attempt | None, bool], None]


@dataclass
class ProbeWorker:
    uid: str
    container: Container
    kind: Kind
    clock: Clock
    runner: Runner
    read: Callable[[str], tuple[Pod | None, PodStatus | None]]
    notify: Notify
    jitter: bool = False
    state: ProbeState = field(default_factory=ProbeState)
    trigger: anyio.Event = field(init=False)
    stopped: bool = False

    @property
    def probe(self) -> Probe:
        found: Probe | None = getattr(self.container, self.kind.field)
        assert found is not None
        return found

    def __post_init__(self) -> None:
        import anyio

        # `manualTriggerCh`, made with the worker, has a buffer of one: a trigger sent before
        # the loop runs, during its jitter or during a probe is kept, and the next wait
        # returns at once.
        self.trigger = anyio.Event()

    def manual_trigger(self) -> None:
        self.trigger.set()

    async def run(self) -> None:
        """The ticker loop: probe now, then at every tick (or trigger) until do_probe says stop."""
        import anyio

        period = float(self.probe.periodSeconds or 10)
        if self.jitter:
            await self.clock.sleep(random.uniform(0, period))
        anchor = self.clock.monotonic()
        due = anchor
        while not self.stopped:
            if not await self.do_probe(due):
                break
            now = self.clock.monotonic()
            ticks = math.floor((now - anchor) / period) + 1
            due = anchor + ticks * period
            if due <= now:  # woken exactly on a tick whose quotient rounded down (x.9999…)
                due += period
            if await sleep_or_wake(self.clock, due - now, self.trigger):
                self.trigger = anyio.Event()  # the buffered trigger is consumed
                anchor = due = self.clock.monotonic()  # 1.32+: a manual run resets the ticker
        self.stopped = True

    def _container_status(self, status: PodStatus) -> ContainerStatus | None:
        for group in (status.containerStatuses, status.initContainerStatuses):
            for item in group or []:
                if item.name == self.container.name:
                    return item
        return None

    async def do_probe(self, scheduled: float) -> bool:
        """`doProbe`: False when the worker should exit."""
        pod, status = self.read(self.uid)
        if pod is None or status is None:
            return pod is not None
        if status.phase in ("Failed", "Succeeded"):
            return False
        found = self._container_status(status)
        if found is None or not found.containerID:
            return True
        state = self.state
        if found.containerID != state.container_id:
            state.container_id, state.result, state.on_hold = (
                found.containerID,
                self.kind.initial,
                False,
            )
            self.notify(self, None, True)
        if state.on_hold:
            return True
        running = found.state is not None and found.state.running is not None
        if not running:
            state.result = Result.FAILURE
            terminated = found.state is not None and found.state.terminated is not None
            return not (terminated and pod.spec.restartPolicy == "Never")
        if pod.metadata.deletionTimestamp is not None and self.kind is not Kind.READINESS:
            state.result = Result.SUCCESS
            return False
        started_at = found.state.running.startedAt if found.state and found.state.running else None
        if not self._past_initial_delay(started_at):
            return True
        if (self.kind is Kind.STARTUP) == bool(found.started):
            return True  # startup stops once started; the others wait for it
        await self._probe(scheduled, found.restartCount)
        return True

    def _past_initial_delay(self, started_at: datetime | None) -> bool:
        if started_at is None:
            return True
        elapsed = int((self.clock.utcnow() - started_at).total_seconds())
        return elapsed >= (self.probe.initialDelaySeconds or 0)

    async def _probe(self, scheduled: float, attempt: int) -> None:
        started = self.clock.monotonic()  # the runner retries errored attempts (maxProbeRetries)
        outcome = await self.runner(
            self.probe, self.kind, self.container, self.uid, self.state.container_id
        )
        duration = self.clock.monotonic() - started
        changed = False
        result: Result | None = None
        if outcome.error is None:
            result = (
                Result.SUCCESS
                if outcome.result in (ProbeResult.SUCCESS, ProbeResult.WARNING)
                else Result.FAILURE
            )
        count = threshold_count(self.state, self.probe, result)
        if not count.startswith("ignored"):
            changed = apply_outcome(self.state, self.kind, self.probe, outcome)
        ran = Attempt(
            self.kind,
            self.container.name,
            self.state.container_id,
            attempt,
            scheduled,
            started,
            duration,
            outcome,
            result,
            changed,
            count,
        )
        self.notify(self, ran, changed)
