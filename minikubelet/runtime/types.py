"""The Runtime protocol: what the node asks of a container engine, in our own types.

`runtime/docker.py` implements it on the Docker SDK (the only module that imports `docker`);
`runtime/fake.py` implements it in memory for tests, with a call log and scripted failures.
Everything here is plain data; nothing leaks an SDK object.

Every object a runtime makes carries the labels below, so an agent that restarts can adopt what
it finds (DESIGN.md "A pod on Docker"); `instance` keeps agents that share one engine apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import anyio.abc

__all__ = [
    "CALLER_RANK",
    "LABEL_ATTEMPT",
    "LABEL_CONTAINER",
    "LABEL_IMAGE",
    "LABEL_INSTANCE",
    "LABEL_KIND",
    "LABEL_NAMESPACE",
    "LABEL_POD",
    "LABEL_SANDBOX_ID",
    "LABEL_SPARE",
    "LABEL_UID",
    "SPARE_PREFIX",
    "ContainerInfo",
    "ContainerSecurity",
    "ContainerSpec",
    "InstanceState",
    "ExecResult",
    "ImageInfo",
    "Instance",
    "LogOptions",
    "Mount",
    "PodNamespaces",
    "PortMapping",
    "RegistryAuth",
    "Runtime",
    "RuntimeEvent",
    "SandboxInfo",
    "SandboxSpec",
    "SpareSandboxes",
    "sandbox_name",
    "sandbox_owner",
]

LABEL_INSTANCE = "minikubelet.instance"
LABEL_SANDBOX_ID = "io.kubernetes.sandbox.id"  # on a container: the sandbox it joined
LABEL_IMAGE = "minikubelet.image"  # the image as the pod spec names it
LABEL_UID = "io.kubernetes.pod.uid"
LABEL_POD = "io.kubernetes.pod.name"
LABEL_NAMESPACE = "io.kubernetes.pod.namespace"
LABEL_CONTAINER = "io.kubernetes.container.name"  # "POD" on the sandbox
LABEL_ATTEMPT = "annotation.io.kubernetes.container.restartCount"
LABEL_KIND = "io.kubernetes.docker.type"  # "podsandbox" or "container"
# A warm sandbox, made before its pod: labels are fixed at creation, so its pod is the one its
# name says once claimed (a rename, atomic in the engine); unclaimed, it is `SPARE_PREFIX...`.
LABEL_SPARE = "minikubelet.sandbox.spare"
SPARE_PREFIX = "minikubelet-spare-"

# Who is calling the runtime, for the order of its calls when the engine is busy: each pod
# worker sets its pod's admission number in its own task, lower goes first, the node's own
# calls keep 0 (`order.py` keeps the order).
CALLER_RANK: ContextVar[int] = ContextVar("minikubelet_caller_rank", default=0)


def sandbox_name(pod_name: str, namespace: str, pod_uid: str, attempt: int) -> str:
    """dockershim's sandbox name, `k8s_POD_<pod>_<namespace>_<uid>_<attempt>`."""
    return f"k8s_POD_{pod_name}_{namespace}_{pod_uid}_{attempt}"


def sandbox_owner(labels: dict[str, str], name: str) -> tuple[str, str, str, int] | None:
    """(pod name, namespace, pod uid, attempt) of a sandbox: its labels say, or, for a claimed
    warm sandbox, its dockershim name (pod names, namespaces and uids hold no `_`). None for a
    spare not claimed yet."""
    if labels.get(LABEL_SPARE) != "true":
        try:
            attempt = int(labels.get(LABEL_ATTEMPT) or 0)
        except ValueError:
            attempt = 0
        return (
            labels.get(LABEL_POD, ""),
            labels.get(LABEL_NAMESPACE, ""),
            labels.get(LABEL_UID, ""),
            attempt,
        )
    parts = name.lstrip("/").split("_")
    if len(parts) < 6 or parts[:2] != ["k8s", "POD"] or not parts[5].isdigit():
        return None
    return parts[2], parts[3], parts[4], int(parts[5])


class InstanceState(StrEnum):
    """The state of one container instance in the engine (CRI's `ContainerState`; not the
    API's `ContainerState` of `api/models.py`, which a container status shows)."""

    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PortMapping:
    """A `hostPort` published from the pod's network namespace."""

    container_port: int
    host_port: int
    protocol: str = "TCP"
    host_ip: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ContainerSecurity:
    """What the engine is asked for; None/empty leaves the engine's (and image's) default."""

    user: str | None = None  # "uid", "uid:gid", "name:gid"
    group_add: tuple[str, ...] = ()
    privileged: bool = False
    read_only_rootfs: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    no_new_privs: bool = False
    seccomp: str = ""  # "unconfined", "runtime/default", or "": the engine's default
    apparmor: str = ""  # "unconfined", a profile loaded on the host, or "": the engine's default


@dataclass(frozen=True, slots=True)
class PodNamespaces:
    """`NamespacesForPod`: the host's network, PID and IPC namespaces, or the pod's own; with
    `shareProcessNamespace` one PID namespace for the pod (its sandbox's, pause as PID 1)."""

    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    share_pid: bool = False


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """The infra container of a pod: it holds the network namespace and the pod IP."""

    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int = 0
    hostname: str = ""
    ports: tuple[PortMapping, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    namespaces: PodNamespaces = PodNamespaces()
    sysctls: tuple[tuple[str, str], ...] = ()  # (name, value), set in the pod's namespaces


@dataclass(frozen=True, slots=True)
class SandboxInfo:
    id: str
    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int
    running: bool
    ip: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Mount:
    """A bind mount from the host (emptyDir directories are host directories too)."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container instance to create inside a sandbox; `attempt` is its restartCount."""

    pod_uid: str
    pod_name: str
    namespace: str
    name: str
    attempt: int
    image: str
    sandbox_id: str
    command: tuple[str, ...] | None = None  # replaces the image ENTRYPOINT
    args: tuple[str, ...] | None = None  # replaces the image CMD
    working_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    mounts: tuple[Mount, ...] = ()
    memory_limit: int | None = None  # bytes; swap limited to the same
    nano_cpus: int | None = None  # CPU limit
    cpu_shares: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # The spec's interactive fields (CRI ContainerConfig stdin, stdin_once, tty): the
    # container keeps its stdin open for `attach`; with `stdin_once` the engine closes it
    # when the first attached client leaves.
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    # Ephemeral containers with targetContainerName: the PID namespace of that container
    # (CRI NamespaceMode TARGET; dockershim's `PidMode: container:<id>`).
    pid_target: str | None = None
    security: ContainerSecurity = ContainerSecurity()
    namespaces: PodNamespaces = PodNamespaces()


@dataclass(frozen=True, slots=True)
class Instance:
    """One container or sandbox as the engine's list shows it (no inspect): what the relist
    compares, as PLEG's `GetPods` reads CRI's List calls. `pod_uid` is "" for an unclaimed
    warm sandbox."""

    id: str
    pod_uid: str
    running: bool
    sandbox: bool


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """What the engine says of one container instance."""

    id: str
    pod_uid: str
    name: str
    attempt: int
    image: str
    image_id: str
    state: InstanceState
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""  # the engine's start error (Docker State.Error)
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # what the container left at its terminationMessagePath (or its log's tail), read by the
    # node once it exited (`node/termination_message.py`); the engine never sets it
    termination_message: str = ""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    id: str
    size: int = 0
    user: str = ""  # the image config's USER (`uid[:gid]`, `name[:group]` or empty)


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """The credentials one pull sends (CRI's `AuthConfig`, as the kubelet's keyring fills it).
    `repr` hides the password: these reach logs."""

    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class ExecResult:
    """`output` is stdout then stderr (the kubelet's CombinedOutput), capped; `stdout` and
    `stderr` are their first bytes apart, when the engine told them apart."""

    exit_code: int
    output: bytes = b""
    timed_out: bool = False
    stdout: bytes | None = None
    stderr: bytes | None = None


@dataclass(frozen=True, slots=True)
class LogOptions:
    follow: bool = False
    tail: int | None = None
    since: datetime | None = None
    timestamps: bool = False


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """A container of this instance changed state (start, die, oom, destroy)."""

    action: str
    container_id: str
    pod_uid: str
    container_name: str


class ExecStream(Protocol):
    """A process running in a container with its stdio attached (exec, attach)."""

    async def read(self) -> tuple[int, bytes] | None:
        """The next output: (1 stdout | 2 stderr, bytes); None once the output ended."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None:
        """EOF on the process's stdin."""
        ...

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int | None:
        """The exit code, after the output ended; None if the engine never told it."""
        ...


class SpareSandboxes(Protocol):
    """Warm sandboxes (the node's pool): made and started before their pod, then claimed."""

    async def run_spare_sandbox(self) -> SandboxInfo:
        """Create and start an infra container on the pod network for no pod yet."""
        ...

    async def list_spare_sandboxes(self) -> list[SandboxInfo]:
        """This instance's spares not claimed yet, running or not."""
        ...

    async def claim_sandbox(self, spare_id: str, spec: SandboxSpec) -> SandboxInfo:
        """Make a running spare the pod's sandbox: its hostname, then its dockershim name (the
        commit: a spare renamed belongs to its pod, one never renamed to none). Raises
        RuntimeFailure when it cannot (not running, the name taken); the spare is then the
        caller's to remove."""
        ...

    async def remove_sandbox(self, sandbox_id: str) -> None: ...


class Runtime(Protocol):
    """The node's only way to touch containers. All methods are safe to call concurrently."""

    async def version(self) -> str:
        """The engine's version, e.g. `docker://20.10.24`; raises RuntimeUnavailable."""
        ...

    async def host_ip(self) -> str:
        """The node's address as its pods see it (on the pod network), the pods' hostIP."""
        ...

    async def image_info(self, image: str) -> ImageInfo | None:
        """The local image, or None when it is not present."""
        ...

    async def pull_image(self, image: str, auth: RegistryAuth | None = None) -> ImageInfo:
        """Pull `image` with `auth`, or with the engine's own credentials for its registry when
        None; raises ImagePullError with the engine's message."""
        ...

    async def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        """Create and start the infra container on the pod network; returns it with its IP."""
        ...

    async def stop_sandbox(self, sandbox_id: str) -> None: ...

    async def remove_sandbox(self, sandbox_id: str) -> None: ...

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxInfo]:
        """Every sandbox of this instance (of one pod, when given), running or not."""
        ...

    async def list_instances(self) -> list[Instance]:
        """Every container and sandbox of this instance from one list of the engine, no
        inspects: the relist's input, O(1) engine calls whatever the number of pods."""
        ...

    async def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container joined to its sandbox's namespaces; returns its id."""
        ...

    async def start_container(self, container_id: str) -> None:
        """Start it; raises ContainerStartError (Docker's ContainerCannotRun) on failure."""
        ...

    async def stop_container(self, container_id: str, timeout: float) -> None:
        """SIGTERM (the image's stop signal), then SIGKILL after `timeout` seconds."""
        ...

    async def remove_container(self, container_id: str) -> None: ...

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerInfo]:
        """Every app/init container of this instance (of one pod, when given), any state."""
        ...

    async def inspect_container(self, container_id: str) -> ContainerInfo:
        """Fresh state of one container; raises ContainerNotFound."""
        ...

    async def exec(self, container_id: str, argv: list[str], timeout: float) -> ExecResult:
        """Run argv in the container; past `timeout` the process is killed and timed_out set."""
        ...

    def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]:
        """Start argv in the container with its stdio attached (stdout and stderr always);
        leaving the context kills it (and what it spawned) if it still runs."""
        ...

    def attach(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]:
        """Attach to the container's own process (its stdio as created: the container's tty,
        not the caller's, says how its output is framed). The output ends when the process
        does; `wait()` then gives 0, as attach reports no exit code. Leaving the context
        detaches: the container runs on (with `stdin_once` the engine closes its stdin)."""
        ...

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.ByteStream:
        """A connection to localhost:port inside the sandbox's network namespace (port-forward);
        raises RuntimeFailure with the runtime's words when nothing listens."""
        ...

    def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        """The container's output, line by line (each chunk ends with a newline)."""
        ...

    def events(self) -> AsyncIterator[RuntimeEvent]:
        """State changes of this instance's containers as they happen, until cancelled."""
        ...

    async def close(self) -> None: ...
