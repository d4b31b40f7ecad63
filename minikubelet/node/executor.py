"""SyncPod's acting half: performs a `PodActions` on the runtime, with the kubelet's events.

Steps in `kuberuntime_manager.go` `SyncPod` order: kill the pod, remove dead instances,
(re)create the sandbox, kill containers, hold back-offs, start containers. `execute` returns a
`SyncResult`, one `ActionResult` per action (what ran, on what, what failed and why); a failed
start ends the sync (the next one retries). The pod worker keeps the failed starts' reasons in
its reason cache, which the status shows as the container's waiting reason
(`pkg/kubelet/reason_cache.go`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio
import anyio.abc

from minikubelet.api.models import Container, Pod
from minikubelet.clock import Clock
from minikubelet.errors import ContainerNotFound, RuntimeFailure, RuntimeUnavailable
from minikubelet.node.actions import grace_period, is_sidecar
from minikubelet.node.backoff import Backoff, crash_key
from minikubelet.node.containers import ConfigError, PodContext, container_spec
from minikubelet.node.etc_hosts import pod_hostname_and_domain
from minikubelet.node.events import NORMAL, WARNING, EventRecorder
from minikubelet.node.imageref import ImageRefError, apply_default_image_tag
from minikubelet.node.images import ImageManager
from minikubelet.node.lifecycle import HookRunner, hook
from minikubelet.node.resolvconf import DOMAIN
from minikubelet.node.sandbox_pool import SandboxPool
from minikubelet.node.security import image_user_needed, pod_namespaces, pod_sysctls
from minikubelet.node.sync import (
    MINIMUM_GRACE_PERIOD,
    KillAction,
    PodActions,
    StartAction,
    format_pod,
)
from minikubelet.node.termination import TerminationOrdering
from minikubelet.runtime.types import (
    LABEL_SANDBOX_ID,
    ContainerInfo,
    Instance,
    InstanceState,
    PortMapping,
    Runtime,
    SandboxInfo,
    SandboxSpec,
)
from minikubelet.status.instances import newest_first

__all__ = [
    "ActionResult",
    "Executor",
    "Fingerprint",
    "Observed",
    "SyncResult",
    "fingerprint",
    "listed_fingerprint",
]

log = logging.getLogger("minikubelet.node")
# Image failures are named in the `Failed` event (`Error: ErrImagePull`); others quote the error.
_IMAGE_REASONS = {
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "ImageInspectError",
}


@contextlib.asynccontextmanager
async def concurrently() -> AsyncIterator[anyio.abc.TaskGroup]:
    """A task group whose failures, when all are the engine's (RuntimeFailure), surface as the
    first of them rather than an ExceptionGroup: the sync's handler then sees "engine away"
    (stops racing a dockerd that is shutting down) instead of the agent dying of it."""
    try:
        async with anyio.create_task_group() as tg:
            yield tg
    except BaseExceptionGroup as group:
        failures = [e for e in group.exceptions if isinstance(e, RuntimeFailure)]
        if failures and len(failures) == len(group.exceptions):
            raise failures[0] from group
        raise


@dataclass
class Observed:
    """One pod's runtime state: its newest sandbox, older sandboxes, container instances."""

    sandbox: SandboxInfo | None = None
    stale_sandboxes: list[SandboxInfo] = field(default_factory=list)
    containers: list[ContainerInfo] = field(default_factory=list)

    @property
    def running(self) -> list[ContainerInfo]:
        return [c for c in self.containers if c.state is InstanceState.RUNNING]

    def fingerprint(self) -> Fingerprint:
        """What the relist compares: every instance and sandbox with its state."""
        sandboxes = [s for s in [self.sandbox, *self.stale_sandboxes] if s is not None]
        return fingerprint(self.containers, sandboxes)


Fingerprint = frozenset[tuple[str, str]]


def fingerprint(
    containers: Iterable[ContainerInfo], sandboxes: Iterable[SandboxInfo]
) -> Fingerprint:
    """Each instance's id and whether it runs: what the engine's list shows (`Instance`)."""
    items = {(c.id, _running(c.state is InstanceState.RUNNING)) for c in containers}
    items |= {(s.id, _running(s.running)) for s in sandboxes}
    return frozenset(items)


def listed_fingerprint(instances: Iterable[Instance]) -> Fingerprint:
    """The same fingerprint from the engine's list (the relist reads no inspect)."""
    return frozenset((i.id, _running(i.running)) for i in instances)


def _running(running: bool) -> str:
    return "running" if running else "stopped"


@dataclass(frozen=True)
class ActionResult:
    """One action of a sync (`kubecontainer.SyncResult`): `action` (KillPod, CreatePodSandbox,
    KillContainer, StartContainer) on `target` (a container name; the pod's name for pod-wide
    ones); `error` the kubelet's reason when it failed (`CrashLoopBackOff` for a start held
    back), None when it ran, and `message` why."""

    action: str
    target: str
    error: str | None = None
    message: str = ""


@dataclass
class SyncResult:
    """What one `execute` did, in order (`kubecontainer.PodSyncResult`)."""

    results: list[ActionResult] = field(default_factory=list)

    def add(self, action: str, target: str, error: str | None = None, message: str = "") -> None:
        self.results.append(ActionResult(action, target, error, message))

    def starts(self) -> list[ActionResult]:
        """The StartContainer results: the reason cache's input (`reasonCache.Update`)."""
        return [r for r in self.results if r.action == START_CONTAINER]


KILL_POD, CREATE_SANDBOX = "KillPod", "CreatePodSandbox"
POST_START_HOOK_ERROR = "PostStartHookError"  # kuberuntime `ErrPostStartHook`
KILL_CONTAINER, START_CONTAINER = "KillContainer", "StartContainer"


@dataclass
class _Kill:
    """A pod's kill under way: its task group, the grace period it stops with, the containers
    still being stopped (id → name)."""

    tasks: anyio.abc.TaskGroup
    grace: int
    stopping: dict[str, str] = field(default_factory=dict)


def pod_grace(pod: Pod) -> int:
    """The pod's stop timeout: the deletion's grace, else the spec's; at least 2 s."""
    meta = pod.metadata
    grace = meta.deletionGracePeriodSeconds
    if grace is None:
        grace = pod.spec.terminationGracePeriodSeconds
    return max(MINIMUM_GRACE_PERIOD, grace if grace is not None else 30)


class Executor:
    """Acts for the pod workers; owns the crash back-off and the image manager."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        recorder: EventRecorder,
        pods_dir: Path,
        pool: SandboxPool | None = None,
    ) -> None:
        self.runtime = runtime
        self.pool = pool  # warm sandboxes, when the node keeps some
        self.clock = clock
        self.recorder = recorder
        self.pods_dir = pods_dir
        # The node's half of every pod's PodContext (no pod IP, no sandbox), set by the node
        # when the engine answers (the host IP is its address on the pod network).
        self.node_context: PodContext | None = None
        self.backoff = Backoff()
        self.images = ImageManager(runtime, clock, recorder)
        self.hooks = HookRunner(runtime, clock)
        self._kills: dict[str, _Kill] = {}  # pod uid → its kill under way

    async def execute(self, pod: Pod, actions: PodActions, observed: Observed) -> SyncResult:
        result = SyncResult()
        if actions.kill_pod:
            await self.kill_pod(pod, observed)
            result.add(KILL_POD, pod.name)
        for container_id in actions.containers_to_remove:
            await self.remove_container(container_id)
        removed = set(actions.containers_to_remove)
        await self._remove_empty_sandboxes(observed.stale_sandboxes, observed, removed)
        sandbox = observed.sandbox
        if actions.create_sandbox:
            sandbox, problem = await self._new_sandbox(
                pod, observed, actions.sandbox_attempt, removed
            )
            result.add(CREATE_SANDBOX, pod.name, *problem)
            if sandbox is None:
                return result
        pod_ip = sandbox.ip if sandbox is not None else ""
        await self._kill_each(pod, actions.containers_to_kill, pod_ip)
        for kill in actions.containers_to_kill:
            result.add(KILL_CONTAINER, kill.name)
        for wait in actions.backoff:
            message = f"Back-off restarting failed container {wait.name} in pod {format_pod(pod)}"
            self.recorder.pod(pod, WARNING, "BackOff", message, container=wait.name)
            result.add(START_CONTAINER, wait.name, "CrashLoopBackOff", wait.message)
        if sandbox is None:
            return result
        if self.node_context is None:
            raise RuntimeUnavailable("the container engine has not answered yet")
        context = replace(
            self.node_context,
            pod_ip=sandbox.ip,
            sandbox_id=sandbox.id,
            container_ids={n: i[0].id for n, i in newest_first(observed.containers).items()},
        )
        for start in actions.containers_to_start:
            problem = await self._start(pod, start, context)
            result.add(START_CONTAINER, start.name, *problem)
            if problem and not _skippable(pod, start):
                break
        return result

    async def kill_pod(self, pod: Pod, observed: Observed) -> None:
        """`killPodWithSyncResult`: every running container is killed at once with the pod's
        grace, sidecars after the regular containers in reverse order; then the sandbox."""
        grace = pod_grace(pod)
        running = observed.running
        ordering = TerminationOrdering(pod, [c.name for c in running], self.clock)
        pod_ip = observed.sandbox.ip if observed.sandbox is not None else ""
        uid = pod.metadata.uid or ""
        under_way: _Kill | None = None
        try:
            async with concurrently() as tg:
                under_way = self._kills[uid] = _Kill(tg, grace, {c.id: c.name for c in running})
                for info in running:
                    message = f"Stopping container {info.name}"
                    self.recorder.pod(pod, NORMAL, "Killing", message, container=info.name)
                    kill = KillAction(info.id, info.name, "", grace)
                    tg.start_soon(self._terminate, pod, kill, pod_ip, ordering)
        finally:
            if under_way is not None and self._kills.get(uid) is under_way:
                del self._kills[uid]
        for sandbox in [observed.sandbox, *observed.stale_sandboxes]:
            if sandbox is not None and sandbox.running:
                await self.runtime.stop_sandbox(sandbox.id)

    def shorten_kill(self, pod: Pod) -> None:
        """A later delete shortened the grace period of the pod being killed
        (`calculateEffectiveGracePeriod` only ever lowers it, and a lower one restarts
        `killPod`): the containers still stopping are stopped again with the new grace, so
        the engine's SIGKILL comes that much sooner, each with its `Killing` event again."""
        under_way = self._kills.get(pod.metadata.uid or "")
        if under_way is None or pod.metadata.deletionTimestamp is None:
            return
        grace = pod_grace(pod)
        if grace >= under_way.grace:
            return
        under_way.grace = grace
        for container_id, name in under_way.stopping.items():
            self.recorder.pod(pod, NORMAL, "Killing", f"Stopping container {name}", container=name)
            under_way.tasks.start_soon(self._stop, container_id, float(grace))

    async def _kill_each(self, pod: Pod, kills: tuple[KillAction, ...], pod_ip: str) -> None:
        async with concurrently() as tg:
            for kill in kills:
                self.recorder.pod(pod, NORMAL, "Killing", kill.reason_message, container=kill.name)
                tg.start_soon(self._terminate, pod, kill, pod_ip, None)

    async def _terminate(
        self, pod: Pod, kill: KillAction, pod_ip: str, ordering: TerminationOrdering | None
    ) -> None:
        """`killContainer` after its `Killing` event: the preStop hook (within the grace
        period, its whole seconds taken off it), the container's turn (sidecars), then the
        stop with what is left of the grace period, at least 2 s."""
        name = kill.name
        grace = kill.grace if kill.grace is not None else pod_grace(pod)
        spec = next((c for c in pod.spec.all_containers() if c.name == name), None)
        pre_stop = hook(spec, "preStop") if spec is not None else None
        if spec is not None and pre_stop is not None and grace > 0:
            took, failure = await self.hooks.pre_stop(
                pod, spec, kill.container_id, pre_stop, pod_ip, grace
            )
            if failure is not None:
                log.info("preStop hook of %s failed: %s", name, failure)
                self.recorder.pod(
                    pod, WARNING, "FailedPreStopHook", "PreStopHook failed", container=name
                )
            grace -= took
        if ordering is not None and grace > 0:
            grace -= int(await ordering.wait_for_turn(name, grace))
        await self._stop(kill.container_id, max(MINIMUM_GRACE_PERIOD, grace))
        if (under_way := self._kills.get(pod.metadata.uid or "")) is not None:
            under_way.stopping.pop(kill.container_id, None)
        if ordering is not None:
            ordering.container_terminated(name)

    async def _stop(self, container_id: str, grace: float) -> None:
        try:
            await self.runtime.stop_container(container_id, grace)
        except ContainerNotFound:
            pass

    async def remove_container(self, container_id: str) -> None:
        try:
            await self.runtime.remove_container(container_id)
        except ContainerNotFound:
            pass

    async def _remove_empty_sandboxes(
        self, sandboxes: Iterable[SandboxInfo | None], observed: Observed, removed: set[str]
    ) -> None:
        """Sandbox GC: a stopped sandbox goes once none of the pod's kept containers is in it.
        The newest dead instance of each container outlives its sandbox's replacement, as the
        kubelet's GC keeps it, so the restart count and last state survive a new sandbox
        (an engine restart, a sandbox that died)."""
        for old in sandboxes:
            if old is None or old.running:
                continue
            held = any(
                c.labels.get(LABEL_SANDBOX_ID) == old.id and c.id not in removed
                for c in observed.containers
            )
            if not held:
                await self.runtime.remove_sandbox(old.id)

    async def _new_sandbox(
        self, pod: Pod, observed: Observed, attempt: int, removed: set[str]
    ) -> tuple[SandboxInfo | None, tuple[str, str] | tuple[()]]:
        """The new sandbox, or None and (reason, message)."""
        if observed.sandbox is not None or observed.stale_sandboxes:
            message = "Pod sandbox changed, it will be killed and re-created."
            self.recorder.pod(pod, NORMAL, "SandboxChanged", message)
            await self.kill_pod(pod, observed)
            await self._remove_empty_sandboxes([observed.sandbox], observed, removed)
        spec = SandboxSpec(
            pod_uid=pod.metadata.uid or "",
            pod_name=pod.name,
            namespace=pod.namespace,
            attempt=attempt,
            hostname=pod_hostname_and_domain(pod, DOMAIN)[0],
            ports=_port_mappings(pod),
            labels=dict(pod.metadata.labels or {}),
            namespaces=pod_namespaces(pod),
            sysctls=pod_sysctls(pod),
        )
        if self.pool is not None and (claimed := await self.pool.claim(spec)) is not None:
            return claimed, ()
        try:
            with self.pool.making() if self.pool is not None else contextlib.nullcontext():
                return await self.runtime.run_sandbox(spec), ()
        except RuntimeFailure as exc:
            message = f"Failed to create pod sandbox: {exc}"
            self.recorder.pod(pod, WARNING, "FailedCreatePodSandBox", message)
            return None, ("CreatePodSandboxError", message)

    async def _start(
        self, pod: Pod, start: StartAction, context: PodContext
    ) -> tuple[str, str] | tuple[()]:
        """`startContainer`: image, config, create, start; () when it started, else (reason,
        message)."""
        every = [*pod.spec.all_containers(), *pod.spec.ephemeral_containers()]
        container = next(c for c in every if c.name == start.name)
        if start.finished_at is not None:
            self.backoff.next(
                crash_key(pod, container.name, container.image or ""), self.clock.monotonic()
            )
        problem = await self.images.ensure(pod, container)
        if problem is None:
            problem = await self._create_and_start(pod, container, start.attempt, context)
        if problem is None:
            return ()
        if problem[0] != POST_START_HOOK_ERROR:  # FailedPostStartHook said it, without detail
            text = problem[0] if problem[0] in _IMAGE_REASONS else problem[1]
            self.recorder.pod(pod, WARNING, "Failed", f"Error: {text}", container=container.name)
        return problem

    async def _create_and_start(
        self, pod: Pod, container: Container, attempt: int, context: PodContext
    ) -> tuple[str, str] | None:
        try:
            image_user = await self._image_user(pod, container)
            spec = container_spec(pod, container, attempt, context, image_user)
        except ConfigError as exc:
            return "CreateContainerConfigError", str(exc)
        try:
            container_id = await self.runtime.create_container(spec)
        except RuntimeFailure as exc:
            return "CreateContainerError", str(exc)
        self.recorder.pod(
            pod, NORMAL, "Created", f"Created container {container.name}", container=container.name
        )
        try:
            await self.runtime.start_container(container_id)
        except RuntimeFailure as exc:
            log.info("start of %s failed: %s", container.name, exc)
            return "RunContainerError", str(exc)
        self.recorder.pod(
            pod, NORMAL, "Started", f"Started container {container.name}", container=container.name
        )
        return await self._post_start(pod, container, container_id, context.pod_ip)

    async def _image_user(self, pod: Pod, container: Container) -> str:
        """The image's USER (`getImageUser`), read only when the security context needs it;
        an image the engine cannot inspect now fails the start as the kubelet's does."""
        if not image_user_needed(pod, container):
            return ""
        try:
            info = await self.runtime.image_info(apply_default_image_tag(container.image or ""))
        except (RuntimeFailure, ImageRefError) as exc:
            raise ConfigError(str(exc)) from None
        return info.user if info is not None else ""

    async def _post_start(
        self, pod: Pod, container: Container, container_id: str, pod_ip: str
    ) -> tuple[str, str] | None:
        """`startContainer` step 4: the postStart hook, awaited (no status is written and no
        other container starts meanwhile); a failure kills the container (`FailedPostStartHook`)
        and the start fails with `PostStartHookError`."""
        post_start = hook(container, "postStart")
        if post_start is None:
            return None
        failure = await self.hooks.run(pod, container, container_id, post_start, pod_ip)
        if failure is None:
            return None
        name = container.name
        log.info("postStart hook of %s failed: %s", name, failure)
        self.recorder.pod(
            pod, WARNING, "FailedPostStartHook", "PostStartHook failed", container=name
        )
        self.recorder.pod(pod, NORMAL, "Killing", "FailedPostStartHook", container=name)
        kill = KillAction(
            container_id, name, "FailedPostStartHook", grace_period(pod, container, None)
        )
        await self._terminate(pod, kill, pod_ip, None)
        return POST_START_HOOK_ERROR, failure


def _skippable(pod: Pod, start: StartAction) -> bool:
    """SyncPod goes on past a sidecar that failed to start ("Failed to start the restartable
    init container for the pod, skipping") and past any regular or ephemeral container (steps
    5 and 8 ignore `start`'s error); a regular init container's failure ends the sync."""
    if not start.init:
        return True
    return any(c.name == start.name and is_sidecar(c) for c in pod.spec.initContainers or [])


def _port_mappings(pod: Pod) -> tuple[PortMapping, ...]:
    mappings = []
    for container in pod.spec.containers or []:
        for port in container.ports or []:
            if port.hostPort:
                mappings.append(
                    PortMapping(
                        container_port=port.containerPort,
                        host_port=port.hostPort,
                        protocol=port.protocol or "TCP",
                        host_ip=port.hostIP or "127.0.0.1",
                    )
                )
    return tuple(mappings)
