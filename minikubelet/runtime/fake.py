"""An in-memory Runtime for tests, after the kubelet's FakeRuntime: a call log, scripted
failures and exits, deterministic ids and IPs, timestamps from an injected clock, and events on
an anyio memory stream. No threads and no I/O, so it runs in virtual time.

What it cannot model it does not pretend to: processes do not run, so a container only exits
when a test says so (`exit_container`), exec answers come from `set_exec`, and logs are what
`add_log` wrote.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream

from minikubelet.clock import Clock, RealClock
from minikubelet.errors import (
    ContainerNotFound,
    ContainerStartError,
    ImagePullError,
    RuntimeFailure,
)
from minikubelet.runtime.types import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_POD,
    LABEL_SANDBOX_ID,
    LABEL_SPARE,
    LABEL_UID,
    SPARE_PREFIX,
    ContainerInfo,
    ContainerSpec,
    ExecResult,
    ExecStream,
    ImageInfo,
    Instance,
    InstanceState,
    LogOptions,
    RegistryAuth,
    RuntimeEvent,
    SandboxInfo,
    SandboxSpec,
)

__all__ = ["FakeContainer", "FakeRuntime"]


@dataclass
class FakeContainer:
    """One container (or sandbox) as the fake engine holds it."""

    info: ContainerInfo
    spec: ContainerSpec | SandboxSpec
    name: str  # the dockershim-style name
    ip: str = ""
    stop_signal_ignored: bool = False  # then stop takes `timeout` and exits 137
    log: list[tuple[datetime, bytes]] = field(default_factory=list)


class FakeRuntime:
    """The Runtime protocol in memory. Scripting and inspection helpers are public."""

    def __init__(
        self, instance_id: str = "fake", *, clock: Clock | None = None, version: str = "fake://1"
    ) -> None:
        self.instance_id = instance_id
        self.clock: Clock = clock or RealClock()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, ImageInfo] = {}
        self.pullable: set[str] = set()
        self.private: dict[str, RegistryAuth] = {}  # pullable only with these credentials
        self.image_configs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._version = version
        self._failures: dict[str, list[Exception]] = {}
        self._exec_results: dict[tuple[str, ...], ExecResult] = {}
        self._ids = itertools.count(1)
        self._ips = itertools.count(2)
        self._subscribers: list[MemoryObjectSendStream[RuntimeEvent]] = []
        self._changed: dict[str, anyio.Event] = {}  # set when a container's log or state moves

    # -- scripting ----------------------------------------------------------------------

    def fail_next(self, method: str, error: Exception) -> None:
        """The next call of `method` raises `error` (queued: several calls, several errors)."""
        self._failures.setdefault(method, []).append(error)

    def set_image(
        self,
        image: str,
        image_id: str | None = None,
        size: int = 0,
        *,
        entrypoint: tuple[str, ...] = (),
        cmd: tuple[str, ...] = (),
        user: str = "",
    ) -> None:
        """Make `image` present locally, with the ENTRYPOINT, CMD and USER of its config."""
        self.images[image] = ImageInfo(id=image_id or f"sha256:{image}", size=size, user=user)
        self.image_configs[image] = (entrypoint, cmd)

    def effective_argv(self, container_id: str) -> list[str]:
        """What would run: command replaces ENTRYPOINT, args replace CMD, and a command
        without args drops the image CMD (Kubernetes' rule, as the engine applies it)."""
        spec = self._get(container_id).spec
        if not isinstance(spec, ContainerSpec):
            return []
        entrypoint, cmd = self.image_configs.get(spec.image, ((), ()))
        if spec.command:
            return [*spec.command, *(spec.args or ())]
        return [*entrypoint, *(spec.args or cmd)]

    def set_exec(self, argv: list[str], result: ExecResult) -> None:
        """What `exec(argv)` answers in any container (default: exit 0, no output)."""
        self._exec_results[tuple(argv)] = result

    def add_log(self, container_id: str, line: bytes) -> None:
        """Append a line of output, stamped with the clock."""
        self._get(container_id).log.append((self.clock.utcnow(), line.rstrip(b"\n") + b"\n"))
        self._poke(container_id)

    def exit_container(self, container_id: str, code: int, *, oom: bool = False) -> None:
        """The container's process ends now with `code` (OOM kills are 137 on Docker)."""
        fake = self._get(container_id)
        if fake.info.state is not InstanceState.RUNNING:
            return
        fake.info = replace(
            fake.info,
            state=InstanceState.EXITED,
            exit_code=code,
            oom_killed=oom,
            finished_at=self.clock.utcnow(),
        )
        if oom:
            self._emit("oom", fake)
        self._emit("die", fake)
        self._poke(container_id)

    def ignore_sigterm(self, container_id: str) -> None:
        """Like webapl: SIGTERM does nothing, so stop waits for its timeout, then SIGKILLs."""
        self._get(container_id).stop_signal_ignored = True

    # -- plumbing -----------------------------------------------------------------------

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        queued = self._failures.get(method)
        if queued:
            raise queued.pop(0)

    def _poke(self, container_id: str) -> None:
        """Wake whoever waits on this container (a follower of its log, a stop's grace)."""
        event = self._changed.get(container_id)
        if event is not None:
            event.set()
            self._changed[container_id] = anyio.Event()

    def _get(self, container_id: str) -> FakeContainer:
        fake = self.containers.get(container_id)
        if fake is None:
            raise ContainerNotFound(f"No such container: {container_id}")
        return fake

    def _emit(self, action: str, fake: FakeContainer) -> None:
        event = RuntimeEvent(action, fake.info.id, fake.info.pod_uid, fake.info.name)
        for send in list(self._subscribers):
            try:
                send.send_nowait(event)
            except (anyio.BrokenResourceError, anyio.WouldBlock):
                self._subscribers.remove(send)

    def _new(
        self, name: str, spec: ContainerSpec | SandboxSpec, labels: dict[str, str], image: str
    ) -> FakeContainer:
        if any(c.name == name for c in self.containers.values()):
            name = f"{name}_{next(self._ids):08x}"
        container_id = f"{next(self._ids):064x}"
        info = ContainerInfo(
            id=container_id,
            pod_uid=spec.pod_uid,
            name=labels[LABEL_CONTAINER],
            attempt=spec.attempt,
            image=image,
            image_id=self.images[image].id if image in self.images else "",
            state=InstanceState.CREATED,
            created_at=self.clock.utcnow(),
            labels=labels,
        )
        fake = FakeContainer(info=info, spec=spec, name=name)
        self.containers[container_id] = fake
        self._changed[container_id] = anyio.Event()
        return fake

    def _labels(self, spec: ContainerSpec | SandboxSpec, name: str, kind: str) -> dict[str, str]:
        return {
            **spec.labels,
            LABEL_INSTANCE: self.instance_id,
            LABEL_UID: spec.pod_uid,
            LABEL_POD: spec.pod_name,
            LABEL_NAMESPACE: spec.namespace,
            LABEL_CONTAINER: name,
            LABEL_ATTEMPT: str(spec.attempt),
            LABEL_KIND: kind,
        }

    # -- the protocol -------------------------------------------------------------------

    async def version(self) -> str:
        self._record("version")
        return self._version

    async def host_ip(self) -> str:
        self._record("host_ip")
        return "127.0.0.1"

    async def image_info(self, image: str) -> ImageInfo | None:
        self._record("image_info", image)
        return self.images.get(image)

    async def pull_image(self, image: str, auth: RegistryAuth | None = None) -> ImageInfo:
        self._record("pull_image", image, auth)
        if image not in self.images and image not in self.pullable:
            raise ImagePullError(f"pull access denied for {image}, repository does not exist")
        wanted = self.private.get(image)
        if wanted is not None and auth != wanted:
            host = image.split("/", 1)[0]
            if auth is None:
                raise ImagePullError(
                    f'Head "http://{host}/v2/{image.split("/", 1)[-1]}": no basic auth credentials'
                )
            raise ImagePullError("unauthorized: authentication required")
        self.images.setdefault(image, ImageInfo(id=f"sha256:{image}"))
        return self.images[image]

    async def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        self._record("run_sandbox", spec)
        name = f"k8s_POD_{spec.pod_name}_{spec.namespace}_{spec.pod_uid}_{spec.attempt}"
        fake = self._new(name, spec, self._labels(spec, "POD", "podsandbox"), "pause")
        await self._start(fake)
        pod_ip = f"10.89.0.{next(self._ips)}"
        fake.ip = "127.0.0.1" if spec.namespaces.host_network else pod_ip  # the host's address
        return self._sandbox_info(fake)

    def _sandbox_info(self, fake: FakeContainer) -> SandboxInfo:
        spec = fake.spec
        running = fake.info.state is InstanceState.RUNNING
        return SandboxInfo(
            id=fake.info.id,
            pod_uid=spec.pod_uid,
            pod_name=spec.pod_name,
            namespace=spec.namespace,
            attempt=spec.attempt,
            running=running,
            ip=fake.ip if running else "",
            created_at=fake.info.created_at,
        )

    async def stop_sandbox(self, sandbox_id: str) -> None:
        self._record("stop_sandbox", sandbox_id)
        await self._stop(self._get(sandbox_id), 0)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self._record("remove_sandbox", sandbox_id)
        for fake in list(self.containers.values()):
            if isinstance(fake.spec, ContainerSpec) and fake.spec.sandbox_id == sandbox_id:
                self._remove(fake.info.id)
        self._remove(sandbox_id)

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxInfo]:
        self._record("list_sandboxes")
        return [
            self._sandbox_info(c)
            for c in self.containers.values()
            if isinstance(c.spec, SandboxSpec)
            and c.spec.pod_uid
            and pod_uid in (None, c.spec.pod_uid)
        ]

    # -- warm sandboxes -----------------------------------------------------------------

    async def run_spare_sandbox(self) -> SandboxInfo:
        self._record("run_spare_sandbox")
        spec = SandboxSpec(pod_uid="", pod_name="", namespace="")
        labels = {**self._labels(spec, "POD", "podsandbox"), LABEL_SPARE: "true"}
        for key in (LABEL_UID, LABEL_POD, LABEL_NAMESPACE, LABEL_ATTEMPT):
            labels.pop(key)
        fake = self._new(
            f"{SPARE_PREFIX}{self.instance_id}-{next(self._ids):x}", spec, labels, "pause"
        )
        await self._start(fake)
        fake.ip = f"10.89.0.{next(self._ips)}"
        return self._sandbox_info(fake)

    async def list_spare_sandboxes(self) -> list[SandboxInfo]:
        self._record("list_spare_sandboxes")
        return [
            self._sandbox_info(c)
            for c in self.containers.values()
            if isinstance(c.spec, SandboxSpec) and not c.spec.pod_uid
        ]

    async def claim_sandbox(self, spare_id: str, spec: SandboxSpec) -> SandboxInfo:
        self._record("claim_sandbox", spare_id, spec)
        fake = self._get(spare_id)
        if fake.info.state is not InstanceState.RUNNING or fake.spec.pod_uid:
            raise RuntimeFailure(f"warm sandbox {spare_id[:12]} is not running")
        fake.spec = replace(spec, labels={}, ports=())
        fake.name = f"k8s_POD_{spec.pod_name}_{spec.namespace}_{spec.pod_uid}_{spec.attempt}"
        fake.info = replace(fake.info, pod_uid=spec.pod_uid, attempt=spec.attempt)
        return self._sandbox_info(fake)

    async def create_container(self, spec: ContainerSpec) -> str:
        self._record("create_container", spec)
        self._get(spec.sandbox_id)
        if spec.image not in self.images:
            raise ContainerStartError(f"No such image: {spec.image}")
        name = f"k8s_{spec.name}_{spec.pod_name}_{spec.namespace}_{spec.pod_uid}_{spec.attempt}"
        labels = self._labels(spec, spec.name, "container")
        labels[LABEL_SANDBOX_ID] = spec.sandbox_id
        return self._new(name, spec, labels, spec.image).info.id

    async def start_container(self, container_id: str) -> None:
        self._record("start_container", container_id)
        await self._start(self._get(container_id))

    async def _start(self, fake: FakeContainer) -> None:
        if fake.info.state is InstanceState.RUNNING:
            return
        if fake.info.state is InstanceState.EXITED:  # Docker restarts an exited container
            fake.info = replace(fake.info, exit_code=0, oom_killed=False, finished_at=None)
        fake.info = replace(fake.info, state=InstanceState.RUNNING, started_at=self.clock.utcnow())
        self._emit("start", fake)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        self._record("stop_container", container_id, timeout)
        await self._stop(self._get(container_id), timeout)

    async def _stop(self, fake: FakeContainer, timeout: float) -> None:
        """SIGTERM ends it at once (143, a default handler's death), unless it ignores SIGTERM
        (`ignore_sigterm`, like webapl as PID 1): then SIGKILL (137) after `timeout`."""
        if fake.info.state is not InstanceState.RUNNING:
            return
        if not fake.stop_signal_ignored:
            self.exit_container(fake.info.id, 143)  # killed by SIGTERM: 128 + 15
            return
        async with anyio.create_task_group() as tg:  # the grace period, or a scripted exit

            async def grace() -> None:
                await self.clock.sleep(timeout)
                tg.cancel_scope.cancel()

            tg.start_soon(grace)
            while fake.info.state is InstanceState.RUNNING:
                await self._changed[fake.info.id].wait()
            tg.cancel_scope.cancel()
        self.exit_container(fake.info.id, 137)

    async def remove_container(self, container_id: str) -> None:
        self._record("remove_container", container_id)
        self._remove(container_id)

    def _remove(self, container_id: str) -> None:
        fake = self.containers.get(container_id)
        if fake is None:
            return  # CRI: removing what is gone is no error
        if fake.info.state is InstanceState.RUNNING:
            self.exit_container(container_id, 137)
        del self.containers[container_id]
        self._changed.pop(container_id, None)
        self._emit("destroy", fake)

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerInfo]:
        self._record("list_containers")
        return [
            c.info
            for c in self.containers.values()
            if isinstance(c.spec, ContainerSpec) and pod_uid in (None, c.spec.pod_uid)
        ]

    async def list_instances(self) -> list[Instance]:
        self._record("list_instances")
        return [
            Instance(
                id=c.info.id,
                pod_uid=c.spec.pod_uid,
                running=c.info.state is InstanceState.RUNNING,
                sandbox=isinstance(c.spec, SandboxSpec),
            )
            for c in self.containers.values()
        ]

    async def inspect_container(self, container_id: str) -> ContainerInfo:
        self._record("inspect_container", container_id)
        return self._get(container_id).info

    async def exec(self, container_id: str, argv: list[str], timeout: float) -> ExecResult:
        self._record("exec", container_id, list(argv), timeout)
        fake = self._get(container_id)
        if fake.info.state is not InstanceState.RUNNING:
            raise ContainerStartError(f"Container {container_id} is not running")
        result = self._exec_results.get(tuple(argv), ExecResult(exit_code=0))
        if result.timed_out:
            await self.clock.sleep(timeout)
        return result

    @contextlib.asynccontextmanager
    async def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        """A process that echoes its stdin to stdout, then prints the scripted result's output
        and exits with its code (`exec_result`)."""
        self._record("exec_stream", container_id, list(argv), stdin, tty)
        if self._get(container_id).info.state is not InstanceState.RUNNING:
            raise ContainerStartError(f"container {container_id} is not running")
        result = self._exec_results.get(tuple(argv), ExecResult(exit_code=0))
        process = _FakeProcess(result, stdin)
        try:
            yield process
        finally:
            process.close()

    @contextlib.asynccontextmanager
    async def attach(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        """The container's process as an echo of stdin (when its spec keeps stdin open), whose
        output ends at stdin's EOF, or at once without stdin."""
        self._record("attach", container_id, stdin, tty)
        fake = self._get(container_id)
        if fake.info.state is not InstanceState.RUNNING:
            raise ContainerStartError(f"container {container_id} is not running")
        keeps_stdin = isinstance(fake.spec, ContainerSpec) and fake.spec.stdin
        process = _FakeProcess(ExecResult(exit_code=0), stdin and keeps_stdin)
        try:
            yield process
        finally:
            process.close()

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.ByteStream:
        """The fake has no namespaces: localhost:port on this machine."""
        self._record("dial", sandbox_id, port)
        try:
            return await anyio.connect_tcp("127.0.0.1", port)
        except OSError as exc:
            raise RuntimeFailure(f"failed to connect to localhost:{port}: {exc}") from None

    async def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        """The lines so far (since, tail, timestamps applied); with follow, then new lines
        until the container stops, as Docker's json-file follower does."""
        self._record("logs", container_id, options)
        fake = self._get(container_id)
        wanted = [
            i for i, (at, _) in enumerate(fake.log) if not options.since or at >= options.since
        ]
        if options.tail is not None:
            wanted = wanted[len(wanted) - options.tail :] if options.tail > 0 else []
        sent = len(fake.log)
        for index in wanted:
            yield self._format(fake.log[index], options)
        while options.follow and fake.info.state is InstanceState.RUNNING:
            await self._changed[container_id].wait()
            for entry in fake.log[sent:]:
                yield self._format(entry, options)
            sent = len(fake.log)

    @staticmethod
    def _format(entry: tuple[datetime, bytes], options: LogOptions) -> bytes:
        at, line = entry
        # Docker's `--timestamps` prefix: RFC 3339 with nanoseconds, then a space.
        return (
            at.strftime("%Y-%m-%dT%H:%M:%S.%f000Z ").encode() + line if options.timestamps else line
        )

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        self._record("events")
        send, receive = anyio.create_memory_object_stream[RuntimeEvent](1000)
        self._subscribers.append(send)
        try:
            async with receive:
                async for event in receive:
                    yield event
        finally:
            if send in self._subscribers:
                self._subscribers.remove(send)
            send.close()

    async def close(self) -> None:
        self._record("close")
        for send in self._subscribers:
            send.close()
        self._subscribers.clear()


class _FakeProcess:
    """`ExecStream` of the fake: stdin echoed, then the scripted output and exit code."""

    def __init__(self, result: ExecResult, stdin: bool) -> None:
        self.result = result
        self.sizes: list[tuple[int, int]] = []
        self._send, self._receive = anyio.create_memory_object_stream[bytes | None](16)
        if not stdin:
            self._send.send_nowait(None)

    async def read(self) -> tuple[int, bytes] | None:
        try:
            data = await self._receive.receive()
        except anyio.EndOfStream:
            return None
        if data is None:
            self._send.close()
            return (1, self.result.output) if self.result.output else None
        return 1, data

    async def write(self, data: bytes) -> None:
        await self._send.send(data)

    async def close_stdin(self) -> None:
        await self._send.send(None)

    async def resize(self, width: int, height: int) -> None:
        self.sizes.append((width, height))

    async def wait(self) -> int | None:
        return self.result.exit_code

    def close(self) -> None:
        self._send.close()
        self._receive.close()
