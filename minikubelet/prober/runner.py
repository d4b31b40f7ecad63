"""The runner the probe workers call: a container's probe against the engine and the pod IP."""

from __future__ import annotations

from minikubelet import KUBERNETES_VERSION
from minikubelet.api.models import Container, Probe
from minikubelet.prober.handlers import run_probe
from minikubelet.prober.manager import PodStatusProvider
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.worker import Kind, Runner
from minikubelet.runtime.types import Runtime

__all__ = ["engine_runner"]

MAJOR_MINOR = ".".join(KUBERNETES_VERSION.lstrip("v").split(".")[:2])


def engine_runner(runtime: Runtime, statuses: PodStatusProvider) -> Runner:
    """Probes go from the agent to the pod IP, as the kubelet's go from the node."""

    async def run(
        probe: Probe, kind: Kind, container: Container, uid: str, container_id: str
    ) -> ProbeOutcome:
        status = statuses.pod_status(uid)
        return await run_probe(
            probe,
            kind.title,
            container,
            pod_ip=(status.podIP if status else None) or "",
            container_id=container_id.split("://", 1)[-1],
            runtime=runtime,
            major_minor=MAJOR_MINOR,
        )

    return run
