"""One probe run by hand (`minikubelet probe POD --liveness`): the container's handler, once,
now, through the same runner the workers use, and nothing else.

No worker sees the outcome: no threshold counts it, no result is cached, no event is recorded,
no history entry is written, the pod is not touched. What comes back is the raw outcome as
JSON (`ProbeRun`), with the kubelet's message and what the handler saw.
"""

from __future__ import annotations

from minikubelet.api.history import micro_time
from minikubelet.api.models import Container, Pod, PodStatus
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import BadRequest
from minikubelet.prober.worker import Kind, Runner

__all__ = ["NOT_COUNTED", "run_once"]

NOT_COUNTED = (
    "run once by hand: not counted by the probe's worker, no event recorded, the pod unchanged"
)


def _container_id(status: PodStatus | None, name: str) -> str:
    """The running instance's ID, from the status the pod's worker last wrote."""
    if status is None:
        return ""
    for item in [*(status.containerStatuses or []), *(status.initContainerStatuses or [])]:
        if item.name == name and item.state is not None and item.state.running is not None:
            return item.containerID or ""
    return ""


async def run_once(
    runner: Runner, clock: Clock, pod: Pod, status: PodStatus | None, container: str, kind: str
) -> JSON:
    """Run `kind`'s probe of `container` once; BadRequest in words a person can act on when
    there is no such probe or no running instance to probe."""
    sidecars = [c for c in pod.spec.initContainers or [] if c.restartPolicy == "Always"]
    found: Container | None = next(
        (c for c in [*(pod.spec.containers or []), *sidecars] if c.name == container), None
    )
    if found is None:
        raise BadRequest(f"container {container} is not valid for pod {pod.name}")
    probe_kind = Kind[kind.upper()]
    probe = getattr(found, probe_kind.field)
    if probe is None:
        raise BadRequest(f'container "{container}" in pod "{pod.name}" has no {kind} probe')
    container_id = _container_id(status, container)
    if not container_id:
        raise BadRequest(f'container "{container}" in pod "{pod.name}" is not running')
    began, started = clock.utcnow(), clock.monotonic()
    outcome = await runner(probe, probe_kind, found, pod.metadata.uid or "", container_id)
    took = clock.monotonic() - started
    out: JSON = {
        "kind": "ProbeRun",
        "apiVersion": "minikubelet/v1",
        "pod": pod.name,
        "namespace": pod.namespace,
        "container": container,
        "containerID": container_id,
        "probe": kind,
        "time": micro_time(began),
        "durationMs": round(took * 1000, 3),
        "result": outcome.result.value if outcome.error is None else "unknown",
        "message": outcome.output,
        "counted": False,
        "note": NOT_COUNTED,
    }
    if outcome.error is not None:
        out["error"] = outcome.error
    if outcome.detail:
        out["detail"] = dict(outcome.detail)
    return out
