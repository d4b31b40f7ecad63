"""Hostile probe targets cannot slow other pods' probes: every worker keeps its own schedule.

Real time on loopback: thirty workers probe a server that accepts and never answers (each
attempt runs to its 10 s timeout), beside one worker probing a healthy server every second.
The property is an ordering of events, not a wall-clock bound, so a loaded machine cannot break
it: after all thirty hung requests have reached the server, and before any of them ends, the
healthy worker completes three probes, one per tick. bench/probes.py measures the speed.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.defaults import default_pod
from minikubelet.api.models import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStatus,
    Pod,
    PodStatus,
    Probe,
)
from minikubelet.clock import RealClock
from minikubelet.prober.handlers import run_probe
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.worker import Attempt, Kind, ProbeWorker
from minikubelet.runtime.fake import FakeRuntime
from tests.prober.servers import read_request, response, serve

HOSTILE = 30
HUNG_FOR = 10  # the hostile probes' timeoutSeconds: none ends while the healthy one is watched
WANTED = 3  # healthy probes completed while every hostile one hangs


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _pod(port: int, timeout: int) -> Pod:
    probe = {"httpGet": {"port": port, "path": "/"}, "periodSeconds": 1, "timeoutSeconds": timeout}
    body = {
        "metadata": {"name": "p", "namespace": "default", "uid": f"uid-{port}"},
        "spec": {"containers": [{"name": "app", "image": "a:1", "readinessProbe": probe}]},
    }
    return default_pod(from_dict(Pod, body))


@pytest.mark.anyio
async def test_hung_targets_do_not_delay_other_probes() -> None:
    clock = RealClock()
    runtime = FakeRuntime()
    events: list[str] = []  # in the order they happened, on the one event loop
    hung_requests = 0
    seen_enough = anyio.Event()

    async def hang(stream: anyio.abc.ByteStream) -> None:
        nonlocal hung_requests
        await read_request(stream)
        hung_requests += 1
        if hung_requests == HOSTILE:
            events.append("all hung")
        await anyio.sleep_forever()  # accepted, never answered

    async def healthy(stream: anyio.abc.ByteStream) -> None:
        await read_request(stream)
        await stream.send(response("200 OK", b"ok"))

    def status_for(started: float) -> PodStatus:
        running = ContainerStateRunning(startedAt=clock.utcnow() - timedelta(seconds=started))
        cs = ContainerStatus(
            name="app",
            state=ContainerState(running=running),
            containerID="docker://c",
            started=True,
        )
        return PodStatus(phase="Running", containerStatuses=[cs])

    async def runner(probe: Probe, kind: Kind, c: Container, uid: str, cid: str) -> ProbeOutcome:
        return await run_probe(
            probe, kind.title, c, pod_ip="127.0.0.1", container_id="c", runtime=runtime
        )

    healthy_attempts: list[Attempt] = []

    def notify(worker: ProbeWorker, attempt: Attempt | None, changed: bool) -> None:
        if attempt is None:
            return
        if worker.uid != healthy_uid:
            events.append("hostile ended")
            return
        healthy_attempts.append(attempt)
        events.append(f"healthy {attempt.outcome.result.value}")
        after = events[events.index("all hung") :] if "all hung" in events else []
        if after.count("healthy success") >= WANTED:
            seen_enough.set()

    async with serve(hang) as hung_port, serve(healthy) as good_port:
        healthy_uid = f"uid-{good_port}"

        def make_worker(port: int, timeout: int) -> ProbeWorker:
            pod = _pod(port, timeout)

            def read(uid: str) -> tuple[Pod | None, PodStatus | None]:
                return pod, status_for(60)

            container = (pod.spec.containers or [])[0]
            uid = pod.metadata.uid or ""
            if port == hung_port:
                uid = f"{uid}-{len(workers)}"
            return ProbeWorker(uid, container, Kind.READINESS, clock, runner, read, notify)

        workers: list[ProbeWorker] = []
        for _ in range(HOSTILE):
            workers.append(make_worker(hung_port, HUNG_FOR))
        workers.append(make_worker(good_port, 1))
        with anyio.fail_after(HUNG_FOR + 1):  # a hostile probe ends then: the order is decided
            async with anyio.create_task_group() as tg:
                for worker in workers:
                    tg.start_soon(worker.run)
                await seen_enough.wait()
                tg.cancel_scope.cancel()
    after = events[events.index("all hung") :]
    assert "hostile ended" not in events, events
    assert after.count("healthy success") >= WANTED, events
    assert all(a.outcome.result.value == "success" for a in healthy_attempts), healthy_attempts
    ticks = [a.scheduled for a in healthy_attempts]
    assert all(b > a for a, b in zip(ticks, ticks[1:], strict=False))  # one per tick, in order
