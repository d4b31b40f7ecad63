"""The kubelet's volume manager for config volumes (configMap, secret, downwardAPI, projected)
and hostPath volumes.

Before a pod's containers are started, and on every sync after (these volumes `RequiresRemount`),
each config volume's files are computed (`node/projection.py`) and written with the atomic
writer into `<pods_dir>/<uid>/volumes/<name>`, which is bind-mounted read-only. A hostPath
volume's SetUp is its `type` check (`node/host_path.py`), run until it succeeds once for the
pod (it does not `RequiresRemount`). A failure is the Warning `FailedMount` `MountVolume.SetUp
failed for volume "v" : <error>`, and the pod waits in ContainerCreating, retried with the
operation executor's back-off (0.5 s doubling to 2 min 2 s).

1.32's SyncPod waits up to 2 min 3 s for the mounts (`WaitForAttachAndMount`); its timeout is a
`wait.Interrupted` error, for which `kubelet.go` records no `Unable to attach or mount volumes`
event, so none is recorded here either; the pod's next sync follows the mount's retry.

Updates: the kubelet rewrites the volumes on its periodic sync; here, besides that, a change of
a ConfigMap or Secret wakes the pods that use it (`follow`), so a new value (or an object that
was missing) arrives within a second or two. Environment variables are read once, when a
container is created, and never change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio

from minikubelet.api.models import Pod
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import NotFound
from minikubelet.node.atomic_writer import PathError, write_payload
from minikubelet.node.events import WARNING, EventRecorder
from minikubelet.node.host_path import HostPathError
from minikubelet.node.host_path import set_up as set_up_host_path
from minikubelet.node.node_status import machine_capacity, node_allocatable
from minikubelet.node.ownership import set_volume_ownership
from minikubelet.node.projection import CONFIG_VOLUMES, VolumeError, payload
from minikubelet.node.security import fs_group_of
from minikubelet.store import Store

__all__ = ["ConfigVolumes", "StoreObjects", "allocatable_quantities", "referenced"]

Ref = tuple[str, str, str]  # kind, namespace, name
_FIRST_RETRY = 0.5  # exponentialbackoff: initialDurationBeforeRetry
_MAX_RETRY = 122.0  # maxDurationBeforeRetry, 2 min 2 s


class StoreObjects:
    """The kubelet's ConfigMap and Secret managers, reading the store (always current)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_object(self, kind: str, namespace: str, name: str) -> JSON | None:
        try:
            return self.store.get(kind, namespace, name)
        except NotFound:
            return None


def allocatable_quantities(allocatable: dict[str, str]) -> dict[str, Quantity]:
    """What a container without limits reads through resourceFieldRef: the node's
    allocatable CPU and memory (`node_status.node_allocatable`)."""
    return {name: Quantity.parse(allocatable[name]) for name in ("cpu", "memory")}


def _volume_refs(namespace: str, volume: JSON) -> list[Ref]:
    refs: list[Ref] = []
    if volume.get("configMap") is not None:
        refs.append(("ConfigMap", namespace, str(volume["configMap"].get("name") or "")))
    if volume.get("secret") is not None:
        refs.append(("Secret", namespace, str(volume["secret"].get("secretName") or "")))
    for source in (volume.get("projected") or {}).get("sources") or []:
        for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
            if source.get(key) is not None:
                refs.append((kind, namespace, str(source[key].get("name") or "")))
    return refs


def referenced(pod: Pod) -> set[Ref]:
    """Every ConfigMap and Secret the pod reads, through env, envFrom or volumes."""
    namespace = pod.metadata.namespace or "default"
    refs: set[Ref] = set()
    for container in pod.spec.all_containers():
        for source in container.extra.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if source.get(key) is not None:
                    refs.add((kind, namespace, str(source[key].get("name") or "")))
        for var in container.env or []:
            extra = var.valueFrom.extra if var.valueFrom is not None else {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if extra.get(key) is not None:
                    refs.add((kind, namespace, str(extra[key].get("name") or "")))
    for volume in pod.spec.volumes or []:
        refs.update(_volume_refs(namespace, {"name": volume.name, **volume.extra}))
    return refs


def config_volumes(pod: Pod) -> list[JSON]:
    """The pod's config volumes, as JSON."""
    found = []
    for volume in pod.spec.volumes or []:
        if any(volume.extra.get(kind) is not None for kind in CONFIG_VOLUMES):
            found.append({"name": volume.name, **volume.extra})
    return found


@dataclass
class _Retry:
    delay: float
    at: float


class ConfigVolumes:
    """Sets up and refreshes a node's config volumes; knows which pods read which objects."""

    def __init__(
        self,
        source: StoreObjects,
        recorder: EventRecorder,
        clock: Clock,
        pods_dir: Path,
        allocatable: dict[str, Quantity] | None = None,
    ) -> None:
        self.source = source
        self.recorder = recorder
        self.clock = clock
        self.pods_dir = pods_dir
        if allocatable is None:
            capacity = machine_capacity(Path("/"))
            allocatable = allocatable_quantities(node_allocatable(capacity))
        self.allocatable = allocatable
        self.users: dict[str, set[Ref]] = {}  # pod uid -> what it reads
        self.retries: dict[str, _Retry] = {}
        self.host_paths: dict[str, set[str]] = {}  # pod uid -> its hostPath volumes set up

    def volume_dir(self, uid: str, name: str) -> Path:
        return self.pods_dir / uid / "volumes" / name

    async def set_up(self, pod: Pod) -> bool:
        """Set up every volume of the pod that needs it; False (with FailedMount events) if one
        failed or its back-off has not ended."""
        uid = pod.metadata.uid or ""
        self.users[uid] = referenced(pod)
        volumes = config_volumes(pod)
        done = self.host_paths.setdefault(uid, set())
        host_paths = [
            v for v in pod.spec.volumes or [] if v.hostPath is not None and v.name not in done
        ]
        if not volumes and not host_paths:
            return True
        retry = self.retries.get(uid)
        if retry is not None and self.clock.monotonic() < retry.at:
            return False
        failed = False
        for host in host_paths:
            assert host.hostPath is not None
            check = partial(set_up_host_path, host.hostPath.path, host.hostPath.type or "")
            try:
                await anyio.to_thread.run_sync(check)
                done.add(host.name)
            except HostPathError as exc:
                failed = True
                self._failed(pod, host.name, exc)
        for volume in volumes:
            try:
                files = payload(pod, volume, self.source, self.allocatable)
                target = self.volume_dir(uid, volume["name"])
                now = self.clock.utcnow()
                written = await anyio.to_thread.run_sync(write_payload, target, files, now)
                if written and (fs_group := fs_group_of(pod)) is not None:
                    own = partial(set_volume_ownership, str(target), fs_group, read_only=True)
                    await anyio.to_thread.run_sync(own)
            except (VolumeError, PathError, OSError) as exc:
                failed = True
                self._failed(pod, volume["name"], exc)
        if not failed:
            self.retries.pop(uid, None)
            return True
        delay = min(_MAX_RETRY, retry.delay * 2) if retry is not None else _FIRST_RETRY
        self.retries[uid] = _Retry(delay, self.clock.monotonic() + delay)
        return False

    def _failed(self, pod: Pod, volume: str, exc: Exception) -> None:
        """The operation executor's event for a failed SetUp (`GenerateError` + `errSuffix`)."""
        message = f'MountVolume.SetUp failed for volume "{volume}" : {exc}'
        self.recorder.pod(pod, WARNING, "FailedMount", message)

    def retry_in(self, uid: str) -> float | None:
        retry = self.retries.get(uid)
        return None if retry is None else max(0.0, retry.at - self.clock.monotonic())

    def forget(self, uid: str) -> None:
        self.users.pop(uid, None)
        self.retries.pop(uid, None)
        self.host_paths.pop(uid, None)

    def readers(self, kind: str, namespace: str, name: str) -> list[str]:
        """The pods that read this object."""
        return [uid for uid, refs in self.users.items() if (kind, namespace, name) in refs]

    async def follow(self, store: Store, wake: Callable[[str], None]) -> None:
        """Wake the readers of every ConfigMap and Secret that changes, for good."""
        async with anyio.create_task_group() as tg:
            for kind in ("ConfigMap", "Secret"):
                tg.start_soon(self._follow, store, kind, wake)

    async def _follow(self, store: Store, kind: str, wake: Callable[[str], None]) -> None:
        since: str | None = None
        while True:  # a watch that falls behind ends; resume from where it was
            async with store.watch(kind, None, since) as watcher:
                async for event_type, obj in watcher:
                    if event_type == "ERROR":
                        since = None
                        break
                    meta = obj.get("metadata") or {}
                    for uid in self.readers(kind, meta.get("namespace", ""), meta.get("name", "")):
                        self.retries.pop(uid, None)  # the object changed: try at once
                        wake(uid)
                    since = str(watcher.resource_version)
