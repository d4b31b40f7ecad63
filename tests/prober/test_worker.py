"""The prober's rules in virtual time: schedule, thresholds, gating, holds, resets, events.

Each test drives `ProbeManager` with a FakeClock, a scripted handler and a pod status it
controls; no engine, no network. The seed's webapl timing is checked to the second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.defaults import default_pod
from minikubelet.api.models import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStatus,
    Pod,
    PodStatus,
    Probe,
)
from minikubelet.clock import FakeClock
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult
from minikubelet.prober.worker import Attempt, Kind
from minikubelet.runtime.types import ContainerInfo, InstanceState

UID = "uid-1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pod(**container: Any) -> Pod:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "uid": UID},
        "spec": {"containers": [{"name": "app", "image": "app:1", **container}]},
    }
    return default_pod(from_dict(Pod, body))


@dataclass
class Harness:
    """A pod whose container the test starts and stops, and everything the prober did."""

    clock: FakeClock
    pod: Pod
    respond: Callable[[Kind, float], ProbeOutcome]
    started_at: float | None = None
    instance: int = 0
    exit_code: int | None = None
    events: list[tuple[float, str, str]] = field(default_factory=list)
    attempts: list[tuple[float, Attempt]] = field(default_factory=list)
    wakes: int = 0
    manager: ProbeManager | None = None
    stale: bool = False  # status() answers what the last sync wrote, as the agent's does
    written: PodStatus | None = None

    @property
    def now(self) -> float:
        return self.clock.monotonic()

    def since_start(self) -> float:
        return self.now - (self.started_at or 0.0)

    def pod_status(self, uid: str) -> PodStatus | None:
        """The node's status cache, as the prober reads it."""
        return self.written if self.stale else self.live_status(uid)

    def live_status(self, uid: str) -> PodStatus | None:
        if self.started_at is None:
            return PodStatus(phase="Pending")
        started_wall = self.clock.utcnow() - timedelta(seconds=self.since_start())
        assert self.manager is not None
        startup = self.manager.startup_passed(uid).get("app")
        has_startup = self.pod.spec.containers[0].startupProbe is not None  # type: ignore[index]
        state = (
            ContainerState(running=ContainerStateRunning(startedAt=started_wall))
            if self.exit_code is None
            else ContainerState(terminated=ContainerStateTerminated(exitCode=self.exit_code))
        )
        running = self.exit_code is None
        started = running and (not has_startup or bool(startup))
        ready = started and self.manager.readiness(uid).get("app", False)
        cs = ContainerStatus(
            name="app",
            state=state,
            containerID=f"docker://c{self.instance}",
            restartCount=self.instance,
            started=started,
            ready=ready,
        )
        return PodStatus(phase="Running", containerStatuses=[cs])

    def start_container(self) -> None:
        self.instance += 1 if self.started_at is not None else 0
        self.started_at, self.exit_code = self.now, None
        self.sync()

    def sync(self) -> None:
        assert self.manager is not None
        info = ContainerInfo(
            id=f"c{self.instance}",
            pod_uid=UID,
            name="app",
            attempt=self.instance,
            image="app:1",
            image_id="",
            state=InstanceState.RUNNING,
        )
        self.manager.update(self.pod, [info] if self.started_at is not None else [])
        self.written = self.live_status(UID)  # the pod worker reports after the update

    async def run_for(self, seconds: float, step: float = 0.25) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            await self.clock.advance(step)

    def event_times(self, reason: str, prefix: str = "") -> list[float]:
        return [t for t, r, m in self.events if r == reason and m.startswith(prefix)]


@dataclass
class _Events:
    """The node's event recorder, as the prober reports to it."""

    harness: Harness

    def pod(self, pod: Pod, type_: str, reason: str, message: str, *, container: str = "") -> None:
        self.harness.events.append((self.harness.since_start(), reason, message))


@pytest.fixture
async def harness_factory() -> AsyncIterator[Callable[..., Harness]]:
    async with anyio.create_task_group() as tg:
        made: list[Harness] = []

        def build(pod: Pod, respond: Callable[[Kind, float], ProbeOutcome]) -> Harness:
            clock = FakeClock()
            harness = Harness(clock, pod, respond)

            async def runner(
                probe: Probe, kind: Kind, c: Container, uid: str, cid: str
            ) -> ProbeOutcome:
                return harness.respond(kind, harness.since_start())

            harness_events = _Events(harness)

            def wake(uid: str) -> None:
                harness.wakes += 1
                harness.sync()  # the pod worker would sync and call update again

            manager = ProbeManager(
                clock, runner, statuses=harness, events=harness_events, wake=wake
            )
            manager.observers.append(
                lambda pod, a: harness.attempts.append((harness.since_start(), a))
            )
            manager.started_at = -1000.0  # the agent has run for a while: no jitter
            manager.attach(UID, tg)
            harness.manager = manager
            made.append(harness)
            return harness

        yield build
        for harness in made:
            assert harness.manager is not None
            harness.manager.forget(UID)
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()


def webapl(kind: Kind, t: float) -> ProbeOutcome:
    """The seed's app: /ready 500 until 20 s, /healthz 500 after 40 s."""
    if kind is Kind.READINESS:
        return (
            ProbeOutcome.success()
            if t > 20
            else ProbeOutcome.failure("HTTP probe failed with statuscode: 500")
        )
    return (
        ProbeOutcome.success()
        if t <= 40
        else ProbeOutcome.failure("HTTP probe failed with statuscode: 500")
    )


SEED = {
    "livenessProbe": {
        "httpGet": {"path": "/healthz", "port": 3000},
        "initialDelaySeconds": 3,
        "periodSeconds": 5,
    },
    "readinessProbe": {
        "httpGet": {"path": "/ready", "port": 3000},
        "initialDelaySeconds": 15,
        "periodSeconds": 6,
    },
}


@pytest.mark.anyio
@pytest.mark.parametrize("lead", [0.2, 0.4, 1.3, 2.9, 4.6])
async def test_seed_webapl_timeline(harness_factory: Callable[..., Harness], lead: float) -> None:
    """Workers exist `lead` s before the container starts (the pod sync before the start)."""
    h = harness_factory(make_pod(**SEED), webapl)
    h.sync()  # AddPod: workers start ticking before the container exists
    await h.run_for(lead)
    h.start_container()
    await h.run_for(60)
    assert h.manager is not None
    ready_at = [t for t, a in h.attempts if a.kind is Kind.READINESS and a.changed]
    assert ready_at and 20 <= ready_at[0] < 26
    failures = h.event_times(
        "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )
    assert len(failures) == 3
    assert 40 <= failures[0] < 45 and failures[1:] == [failures[0] + 5, failures[0] + 10]
    assert 50 <= failures[2] < 55
    assert h.manager.liveness_failed(UID) == {"app": "liveness"}
    # on hold: no further liveness probes on the dying container
    assert not [t for t, a in h.attempts if a.kind is Kind.LIVENESS and t > failures[2]]
    readiness_failures = h.event_times("Unhealthy", "Readiness probe failed")
    assert all(15 <= t < 20 for t in readiness_failures) and len(readiness_failures) <= 2


@pytest.mark.anyio
async def test_initial_delay_skips_ticks_anchored_to_the_worker(
    harness_factory: Callable[..., Harness],
) -> None:
    pod = make_pod(
        livenessProbe={"exec": {"command": ["true"]}, "initialDelaySeconds": 7, "periodSeconds": 10}
    )
    h = harness_factory(pod, lambda kind, t: ProbeOutcome.success())
    h.sync()
    await h.run_for(2)
    h.start_container()  # ticks at worker time 0, 10, 20 → container time -2, 8, 18
    await h.run_for(25)
    assert [round(t, 2) for t, _ in h.attempts] == [8.0, 18.0]


@pytest.mark.anyio
async def test_failures_below_threshold_change_nothing_but_emit(
    harness_factory: Callable[..., Harness],
) -> None:
    flips = iter([False, False, True, False, False, False])
    pod = make_pod(
        livenessProbe={"exec": {"command": ["x"]}, "periodSeconds": 1, "failureThreshold": 3}
    )
    h = harness_factory(
        pod,
        lambda kind, t: (
            ProbeOutcome.success() if next(flips, True) else ProbeOutcome.failure("bad")
        ),
    )
    h.start_container()
    await h.run_for(2.5)
    assert h.manager is not None and h.manager.liveness_failed(UID) == {}
    await h.run_for(3)
    assert h.manager.liveness_failed(UID) == {"app": "liveness"}
    assert [m for _, r, m in h.events] == ["Liveness probe failed: bad"] * 5


@pytest.mark.anyio
async def test_readiness_success_threshold_and_no_hold(
    harness_factory: Callable[..., Harness],
) -> None:
    answers = iter([True, False, True, True, False, True])
    pod = make_pod(
        readinessProbe={"exec": {"command": ["x"]}, "periodSeconds": 1, "successThreshold": 2}
    )
    h = harness_factory(
        pod,
        lambda kind, t: (
            ProbeOutcome.success() if next(answers, True) else ProbeOutcome.failure("no")
        ),
    )
    h.start_container()
    assert h.manager is not None
    seen = []
    for _ in range(6):
        await h.run_for(1)
        seen.append(h.manager.readiness(UID).get("app"))
    # The tick at 0 answers True; the start's sync left a trigger in the worker's one-slot
    # buffer, so False follows at once and resets the ticker; True, True at the next two
    # ticks decide; the last False is one failure below the threshold of 3.
    assert seen == [False, False, True, True, True, True]


@pytest.mark.anyio
async def test_startup_gates_and_holds(harness_factory: Callable[..., Harness]) -> None:
    def respond(kind: Kind, t: float) -> ProbeOutcome:
        if kind is Kind.STARTUP:
            return ProbeOutcome.success() if t >= 4 else ProbeOutcome.failure("starting")
        return ProbeOutcome.success()

    pod = make_pod(
        startupProbe={"exec": {"command": ["s"]}, "periodSeconds": 1, "failureThreshold": 30},
        livenessProbe={"exec": {"command": ["l"]}, "periodSeconds": 1},
        readinessProbe={"exec": {"command": ["r"]}, "periodSeconds": 10},
    )
    h = harness_factory(pod, respond)
    h.start_container()
    await h.run_for(3.5)
    assert {a.kind for _, a in h.attempts} == {Kind.STARTUP}
    await h.run_for(3)
    assert h.manager is not None and h.manager.startup_passed(UID) == {"app": True}
    after = [a.kind for t, a in h.attempts if t > 4.5]
    assert Kind.STARTUP not in after  # held after its threshold (1.32+)
    assert Kind.LIVENESS in after
    ready_probe = [t for t, a in h.attempts if a.kind is Kind.READINESS]
    assert ready_probe and ready_probe[0] < 5.5  # manual trigger right after startup success


@pytest.mark.anyio
async def test_startup_success_triggers_readiness_before_the_status_says_started(
    harness_factory: Callable[..., Harness],
) -> None:
    """The sync woken by the startup success still reads the status written before it (not
    started): the readiness trigger is decided from the prober's own results, as the kubelet's
    `UpdatePodStatus` decides while it generates the new status."""

    def respond(kind: Kind, t: float) -> ProbeOutcome:
        if kind is Kind.STARTUP and t < 3:
            return ProbeOutcome.failure("starting")
        return ProbeOutcome.success()

    pod = make_pod(
        startupProbe={"exec": {"command": ["s"]}, "periodSeconds": 1, "failureThreshold": 30},
        readinessProbe={"exec": {"command": ["r"]}, "periodSeconds": 30},
    )
    h = harness_factory(pod, respond)
    h.stale = True
    h.start_container()
    await h.run_for(6)
    assert h.manager is not None and h.manager.readiness(UID) == {"app": True}
    readiness = [t for t, a in h.attempts if a.kind is Kind.READINESS]
    assert readiness and 3 <= readiness[0] < 3.5


@pytest.mark.anyio
async def test_triggers_probe_at_once_reset_the_ticker_and_do_not_pile_up(
    harness_factory: Callable[..., Harness],
) -> None:
    """`manualTriggerCh` holds one trigger: the worker probes at once and restarts its ticker
    from there (1.32+); triggers sent before it gets to them count once."""
    pod = make_pod(readinessProbe={"exec": {"command": ["r"]}, "periodSeconds": 10})
    h = harness_factory(pod, lambda kind, t: ProbeOutcome.failure("no"))
    h.sync()  # the worker exists before the container: its tick at 0 finds none
    await h.run_for(1)
    h.start_container()  # this sync triggers: the probe runs at once
    await h.run_for(0.5)
    assert h.manager is not None
    worker = h.manager.pods[UID].workers[("app", Kind.READINESS)]
    worker.manual_trigger()  # as a sync would, before the worker waits again
    worker.manual_trigger()  # a second one is dropped: the buffer holds one
    await h.run_for(12)
    times = [round(t, 2) for t, a in h.attempts]
    assert times[0] <= 0.25 and times[1:3] == [0.5, 10.5], times  # steps of 0.25 s


@pytest.mark.anyio
async def test_restart_resets_result_keeps_run(harness_factory: Callable[..., Harness]) -> None:
    pod = make_pod(
        livenessProbe={"exec": {"command": ["x"]}, "periodSeconds": 1, "failureThreshold": 3}
    )
    h = harness_factory(pod, lambda kind, t: ProbeOutcome.failure("down"))
    h.start_container()
    await h.run_for(1.5)  # two failures, at t=0 and t=1
    h.exit_code = 1
    await h.run_for(1)
    h.start_container()  # a new container ID: result back to Success, run kept
    assert h.manager is not None and h.manager.liveness_failed(UID) == {}
    await h.run_for(1.2)
    assert h.manager.liveness_failed(UID) == {"app": "liveness"}


@pytest.mark.anyio
async def test_errored_probe_is_not_counted(harness_factory: Callable[..., Harness]) -> None:
    pod = make_pod(livenessProbe={"httpGet": {"port": "http"}, "periodSeconds": 1})
    h = harness_factory(
        pod, lambda kind, t: ProbeOutcome.errored('strconv.Atoi: parsing "http": invalid syntax')
    )
    h.start_container()
    await h.run_for(5)
    assert h.manager is not None and h.manager.liveness_failed(UID) == {}
    assert h.events[0][2] == (
        "Liveness probe errored and resulted in unknown state: "
        'strconv.Atoi: parsing "http": invalid syntax'
    )


@pytest.mark.anyio
async def test_an_http_body_that_cannot_be_read_is_errored_in_failure_state(
    harness_factory: Callable[..., Harness],
) -> None:
    """`DoHTTPProbe` returns `probe.Failure` with the body's read error; `prober.probe` names
    that result in its event, and the worker does not count the attempt."""
    pod = make_pod(readinessProbe={"httpGet": {"port": 80}, "periodSeconds": 1})
    h = harness_factory(
        pod,
        lambda kind, t: ProbeOutcome.errored("unexpected EOF", ProbeResult.FAILURE),
    )
    h.start_container()
    await h.run_for(3)
    assert h.events[0][2] == "Readiness probe errored and resulted in failure state: unexpected EOF"
    assert h.manager is not None and h.manager.readiness(UID) == {"app": False}


@pytest.mark.anyio
async def test_warning_is_success_with_an_event(harness_factory: Callable[..., Harness]) -> None:
    pod = make_pod(readinessProbe={"httpGet": {"port": 80}, "periodSeconds": 1})
    out = ProbeOutcome(
        result=__import__("minikubelet.prober.outcome", fromlist=["x"]).ProbeResult.WARNING,
        output="Probe terminated redirects, Response body: x",
    )
    h = harness_factory(pod, lambda kind, t: out)
    h.start_container()
    await h.run_for(1.5)
    assert h.manager is not None and h.manager.readiness(UID) == {"app": True}
    assert h.events[0][1:] == (
        "ProbeWarning",
        "Readiness probe warning: Probe terminated redirects, Response body: x",
    )


@pytest.mark.anyio
async def test_terminated_container_under_never_stops_the_worker(
    harness_factory: Callable[..., Harness],
) -> None:
    pod = make_pod(readinessProbe={"exec": {"command": ["x"]}, "periodSeconds": 1})
    pod.spec.restartPolicy = "Never"
    h = harness_factory(pod, lambda kind, t: ProbeOutcome.success())
    h.start_container()
    await h.run_for(2)
    h.exit_code = 0
    await h.run_for(2)
    assert h.manager is not None
    assert not h.manager.pods[UID].workers


@pytest.mark.anyio
async def test_ticks_survive_an_anchor_that_rounds_down(
    harness_factory: Callable[..., Harness],
) -> None:
    """Woken exactly on a tick (as the fake clock wakes it), `(now - anchor) / period` can
    read 3.9999…: the next tick is then still one period away, not now (which spun forever)."""
    pod = make_pod(livenessProbe={"exec": {"command": ["true"]}, "periodSeconds": 1})
    h = harness_factory(pod, lambda kind, t: ProbeOutcome.success())
    await h.clock.advance(0.917395647396383)  # 4.917395647396383 - this == 3.9999999999999996
    h.sync()
    h.start_container()
    with anyio.fail_after(20):  # real seconds: a spinning worker never lets the clock move on
        await h.run_for(6.5)
    assert [round(t) for t, _ in h.attempts] == [0, 1, 2, 3, 4, 5, 6]
