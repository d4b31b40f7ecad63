"""What a sync of a pod may decide (`podActions` of `kuberuntime_manager.go`), and the small
rules `decide` and its init-container half share: grace periods, start attempts, kill messages.

Pure data and pure functions; `node.sync.decide` fills a `Plan` and returns a `PodActions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import Container, Pod
from minikubelet.runtime.types import ContainerInfo, InstanceState
from minikubelet.status.instances import finish_time

__all__ = [
    "LIVE",
    "MINIMUM_GRACE_PERIOD",
    "NO_ACTION",
    "BackoffRemaining",
    "BackoffWait",
    "KillAction",
    "Plan",
    "PodActions",
    "ProbeView",
    "StartAction",
    "format_pod",
    "grace_period",
    "image_changed",
    "init_failed",
    "is_sidecar",
    "start_action",
    "unknown_kill",
]

MINIMUM_GRACE_PERIOD = 2  # kuberuntime `minimumGracePeriodInSeconds`
LIVE = (InstanceState.CREATED, InstanceState.RUNNING)

BackoffRemaining = Callable[[str, datetime | None], float | None]
"""(container name, finishedAt of its newest exited instance) → the back-off delay being
waited, or None when the container may start now (`node.backoff.CrashLoopView`)."""


@dataclass(frozen=True, slots=True)
class StartAction:
    """Start container `name`; `attempt` is its restartCount (newest instance + 1, else 0).
    `finished_at` is set when an exited instance exists: the executor then calls the crash
    back-off's `next` with it, as `doBackOff` does before a start."""

    name: str
    init: bool = False
    attempt: int = 0
    finished_at: datetime | None = None

    def __str__(self) -> str:
        return f"{'init:' if self.init else ''}{self.name}#{self.attempt}"


@dataclass(frozen=True, slots=True)
class KillAction:
    """Stop one container; `reason_message` is the `Killing` event's message; `probe` the
    probe that failed it ("liveness", "startup"), if one did (`containerKillReason`)."""

    container_id: str
    name: str
    reason_message: str
    grace: int | None = None
    probe: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.name}({self.container_id[:12]})"


@dataclass(frozen=True, slots=True)
class BackoffWait:
    """A start held back by CrashLoopBackOff; `message` is the waiting message."""

    name: str
    delay: float
    message: str
    init: bool = False
    # the back-off runs from this exit, so the worker waits until finished_at + delay
    finished_at: datetime | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.name} {go_duration(self.delay)}"


@dataclass(frozen=True, slots=True)
class PodActions:
    """The kubelet's `podActions`: everything one sync of a pod should do. Init containers to
    start come first in `containers_to_start` (`InitContainersToStart`, spec order), then the
    regular ones (`ContainersToStart`)."""

    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    containers_to_start: tuple[StartAction, ...] = ()
    containers_to_kill: tuple[KillAction, ...] = ()
    backoff: tuple[BackoffWait, ...] = ()
    containers_to_remove: tuple[str, ...] = ()
    init_failed_never: bool = False

    def __str__(self) -> str:
        parts = [f"kill_pod={self.kill_pod}", f"create_sandbox={self.create_sandbox}"]
        if self.create_sandbox:
            parts.append(f"attempt={self.sandbox_attempt}")
        for label, items in (
            ("start", self.containers_to_start),
            ("kill", self.containers_to_kill),
            ("backoff", self.backoff),
        ):
            if items:
                parts.append(f"{label}=[{', '.join(str(i) for i in items)}]")
        if self.containers_to_remove:
            parts.append(f"remove={len(self.containers_to_remove)}")
        if self.init_failed_never:
            parts.append("init_failed_never")
        return f"PodActions({' '.join(parts)})"


NO_ACTION = PodActions()


@dataclass(frozen=True, slots=True)
class ProbeView:
    """The probers' verdicts on the running instances, by container name: `failed` maps a
    container to the probe that failed it ("liveness" or "startup"); `started` holds the
    containers whose startup probe has passed (`startupManager.Get(id) == Success`)."""

    failed: dict[str, str] = field(default_factory=dict)
    started: frozenset[str] = frozenset()


@dataclass(slots=True)
class Plan:
    """The mutable working copy of a `PodActions` while `decide` fills it in."""

    kill_pod: bool = False
    init_starts: list[StartAction] = field(default_factory=list)
    starts: list[StartAction] = field(default_factory=list)
    kills: list[KillAction] = field(default_factory=list)
    init_failed_never: bool = False
    ephemeral: list[StartAction] = field(default_factory=list)  # not counted as containers


def format_pod(pod: Pod) -> str:
    """`format.Pod`: `<name>_<namespace>(<uid>)`."""
    return f"{pod.name}_{pod.namespace}({pod.metadata.uid or ''})"


def is_sidecar(container: Container) -> bool:
    """`IsRestartableInitContainer`: an init container with `restartPolicy: Always`."""
    return container.restartPolicy == "Always"


def _normalize_image(image: str) -> str:
    """`nginx`, `nginx:latest` and `docker.io/library/nginx:latest` name one image."""
    ref, _, digest = image.partition("@")
    if not digest and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    ref = ref.removeprefix("docker.io/").removeprefix("library/")
    return f"{ref}@{digest}" if digest else ref


def image_changed(spec: Container, info: ContainerInfo) -> bool:
    """`containerChanged`: since 1.31 the hash covers name and image only."""
    return _normalize_image(spec.image or "") != _normalize_image(info.image)


def grace_period(pod: Pod, spec: Container, probe: str | None) -> int:
    """`setTerminationGracePeriod` with the 2 s floor of `killContainer`."""
    grace = MINIMUM_GRACE_PERIOD
    if pod.metadata.deletionGracePeriodSeconds is not None:
        grace = pod.metadata.deletionGracePeriodSeconds
    elif pod.spec.terminationGracePeriodSeconds is not None:
        grace = pod.spec.terminationGracePeriodSeconds
        found = {"liveness": spec.livenessProbe, "startup": spec.startupProbe}.get(probe or "")
        if found is not None and found.terminationGracePeriodSeconds is not None:
            grace = found.terminationGracePeriodSeconds
    return max(grace, MINIMUM_GRACE_PERIOD)


def start_action(spec: Container, instances: Sequence[ContainerInfo], *, init: bool) -> StartAction:
    exited = next((c for c in instances if c.state is InstanceState.EXITED), None)
    return StartAction(
        name=spec.name,
        init=init,
        attempt=instances[0].attempt + 1 if instances else 0,
        finished_at=finish_time(exited) if exited else None,
    )


def unknown_kill(pod: Pod, spec: Container, info: ContainerInfo, *, init: bool) -> KillAction:
    what = "Init container" if init else "Container"
    return KillAction(
        container_id=info.id,
        name=spec.name,
        reason_message=f'{what} is in "{info.state.value}" state, try killing it before restart',
        grace=grace_period(pod, spec, None),
    )


def init_failed(info: ContainerInfo) -> bool:
    """`isInitContainerFailed`: OOMKilled (even with exit 0), a non-zero exit, or unknown."""
    return (
        info.oom_killed
        or (info.state is InstanceState.EXITED and info.exit_code != 0)
        or info.state is InstanceState.UNKNOWN
    )
