"""Hostile probe targets cannot slow other pods' probes: every worker keeps its own schedule.

Real time on loopback: thirty workers probe a server that accepts and never answers (each
attempt runs to its 2 s timeout), beside one worker probing a healthy server every second.
The healthy worker's probes still start on their ticks. The bound is loose on purpose: this is
isolation (no probe waits for another), not a speed benchmark (bench/probes.py measures that).
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
RUN_FOR = 4.5


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
    records: list[Attempt] = []

    async def hang(stream: anyio.abc.ByteStream) -> None:
        await read_request(stream)
        await anyio.sleep(30)  # accepted, never answered

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

    def notify(worker: ProbeWorker, attempt: Attempt | None, changed: bool) -> None:
        if attempt is not None and worker.uid == healthy_uid:
            records.append(attempt)

    async with serve(hang) as hung_port, serve(healthy) as good_port:
        healthy_uid = f"uid-{good_port}"

        def make_worker(port: int, timeout: int) -> ProbeWorker:
            pod = _pod(port, timeout)

            def read(uid: str) -> tuple[Pod | None, PodStatus | None]:
                return pod, status_for(60)

            container = (pod.spec.containers or [])[0]
            return ProbeWorker(
                pod.metadata.uid or "", container, Kind.READINESS, clock, runner, read, notify
            )

        workers = [make_worker(hung_port, 2) for _ in range(HOSTILE)]
        workers.append(make_worker(good_port, 1))
        with anyio.move_on_after(RUN_FOR):
            async with anyio.create_task_group() as tg:
                for worker in workers:
                    tg.start_soon(worker.run)
    assert len(records) >= 4, [a.outcome for a in records]
    lateness = [a.started - a.scheduled for a in records]
    assert max(lateness) < 0.5, lateness
    assert all(a.outcome.result.value == "success" for a in records)
