"""Harnesses for the runtime contract suite: one per implementation, same questions.

The fake runs no processes, so where the Docker engine's process would print or exit by
itself, the harness plays that part for the fake (`play`, `script_exec`); on Docker these are
no-ops and the real process does it. Everything the Docker harness makes carries a unique
instance id and is removed afterwards, container by container, then the network.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from minikubelet.errors import ContainerNotFound
from minikubelet.runtime import (
    LABEL_INSTANCE,
    ContainerInfo,
    ContainerSpec,
    ExecResult,
    InstanceState,
    Runtime,
    SandboxInfo,
    SandboxSpec,
)
from minikubelet.runtime.fake import FakeRuntime

BASE = "minikubelet/debian-base:bookworm"
WEBAPL = "webapl:0.1"
PAUSE = "minikubelet/pause:3.10"
ENTRYPOINT_IMAGE = "minikubelet/test-entrypoint:1"
ENTRYPOINT_DOCKERFILE = f"""FROM {BASE}
ENTRYPOINT ["echo", "entry"]
CMD ["cmd"]
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def entrypoint_image() -> str:
    """A tiny image with both ENTRYPOINT and CMD, built once and cached by tag."""
    import docker

    client = docker.from_env()
    try:
        try:
            client.images.get(ENTRYPOINT_IMAGE)
        except docker.errors.ImageNotFound:
            dockerfile = io.BytesIO(ENTRYPOINT_DOCKERFILE.encode())
            client.images.build(fileobj=dockerfile, tag=ENTRYPOINT_IMAGE, pull=False, rm=True)
    finally:
        client.close()
    return ENTRYPOINT_IMAGE


class Harness:
    """What the contract tests ask of a runtime under test, beyond the protocol."""

    kind = ""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def sandbox(self, name: str = "pod", **kwargs: Any) -> SandboxInfo:
        uid = str(uuid.uuid4())
        spec = SandboxSpec(pod_uid=uid, pod_name=name, namespace="default", **kwargs)
        return await self.runtime.run_sandbox(spec)

    def spec(self, sandbox: SandboxInfo, name: str, image: str = BASE, **kw: Any) -> ContainerSpec:
        return ContainerSpec(
            pod_uid=sandbox.pod_uid,
            pod_name=sandbox.pod_name,
            namespace=sandbox.namespace,
            name=name,
            attempt=kw.pop("attempt", 0),
            image=image,
            sandbox_id=sandbox.id,
            **kw,
        )

    async def run(self, spec: ContainerSpec) -> str:
        container_id = await self.runtime.create_container(spec)
        await self.runtime.start_container(container_id)
        return container_id

    async def play(
        self,
        container_id: str,
        lines: tuple[bytes, ...] = (),
        code: int | None = 0,
        oom: bool = False,
    ) -> None:
        """The container's process prints `lines`, then exits with `code` (None: keeps running)."""

    def ignore_sigterm(self, container_id: str) -> None:
        """The process ignores SIGTERM (webapl does by itself)."""

    def script_exec(self, argv: list[str], result: ExecResult) -> None:
        """What exec(argv) gives (the real process decides on Docker)."""

    async def name_of(self, container_id: str) -> str:
        raise NotImplementedError

    async def other(self) -> Runtime:
        """A second runtime on the same engine, with another instance id."""
        raise NotImplementedError

    async def wait_state(
        self, container_id: str, state: InstanceState, within: float = 30.0
    ) -> ContainerInfo:
        """Poll until the container is in `state`: a condition with a deadline, never a sleep."""
        with anyio.fail_after(within):
            while True:
                info = await self.runtime.inspect_container(container_id)
                if info.state is state:
                    return info
                await anyio.sleep(0.05)


class FakeHarness(Harness):
    kind = "fake"
    runtime: FakeRuntime

    def __init__(self, instance_id: str) -> None:
        fake = FakeRuntime(instance_id)
        for image in (BASE, WEBAPL, PAUSE):
            fake.set_image(image)
        fake.set_image(ENTRYPOINT_IMAGE, entrypoint=("echo", "entry"), cmd=("cmd",))
        super().__init__(fake)
        self.others: list[FakeRuntime] = []

    async def play(
        self,
        container_id: str,
        lines: tuple[bytes, ...] = (),
        code: int | None = 0,
        oom: bool = False,
    ) -> None:
        await anyio.wait_all_tasks_blocked()  # let subscribers and followers get there first
        argv = self.runtime.effective_argv(container_id)
        if not lines and argv[:1] == ["echo"]:
            lines = (" ".join(argv[1:]).encode(),)  # the one program the fake can play
        for line in lines:
            self.runtime.add_log(container_id, line)
        if code is not None:
            self.runtime.exit_container(container_id, code, oom=oom)

    def ignore_sigterm(self, container_id: str) -> None:
        self.runtime.ignore_sigterm(container_id)

    def script_exec(self, argv: list[str], result: ExecResult) -> None:
        self.runtime.set_exec(argv, result)

    async def name_of(self, container_id: str) -> str:
        return self.runtime.containers[container_id].name

    async def other(self) -> Runtime:
        other = FakeRuntime(f"{self.runtime.instance_id}-other")
        other.set_image(BASE)
        self.others.append(other)
        return other


class DockerHarness(Harness):
    kind = "docker"

    def __init__(self, instance_id: str) -> None:
        from minikubelet.runtime.docker import DockerRuntime

        self.instance_ids = [instance_id]
        super().__init__(DockerRuntime(instance_id))
        self.others: list[Runtime] = []

    async def name_of(self, container_id: str) -> str:
        return await anyio.to_thread.run_sync(_docker_name, container_id)

    async def other(self) -> Runtime:
        from minikubelet.runtime.docker import DockerRuntime

        instance_id = f"{self.instance_ids[0]}-b"
        self.instance_ids.append(instance_id)
        other = DockerRuntime(instance_id)
        self.others.append(other)
        return other


def _docker_name(container_id: str) -> str:
    import docker

    client = docker.from_env()
    try:
        return str(client.api.inspect_container(container_id)["Name"]).lstrip("/")
    finally:
        client.close()


def remove_instance(instance_id: str) -> None:
    """Remove every container and network labelled with the instance, whatever its state:
    sandboxes last (Podman refuses to remove one while a container joined to it exists)."""
    import docker

    from tests.e2e.engines import sandboxes_last

    client = docker.from_env()
    try:
        selector: dict[str, str | list[str] | bool] = {"label": f"{LABEL_INSTANCE}={instance_id}"}
        found = client.containers.list(all=True, filters=selector, ignore_removed=True)
        for container in sandboxes_last(found):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        for network in client.api.networks(filters=selector):
            client.api.remove_network(network["Id"])
    finally:
        client.close()


@pytest.fixture(params=["fake", pytest.param("docker", marks=pytest.mark.e2e)])
def runtime_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def instance_id() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def docker_cleanup(runtime_kind: str, instance_id: str) -> Iterator[None]:
    """Synchronous, so it runs even when the test's event loop is gone."""
    yield
    if runtime_kind == "docker":
        for suffix in ("", "-b"):
            remove_instance(instance_id + suffix)


@pytest.fixture
async def harness(
    runtime_kind: str, instance_id: str, docker_cleanup: None
) -> AsyncIterator[Harness]:
    made: Harness = (
        FakeHarness(instance_id) if runtime_kind == "fake" else DockerHarness(instance_id)
    )
    try:
        yield made
    finally:
        for runtime in [made.runtime, *getattr(made, "others", [])]:
            await runtime.close()


async def gone(runtime: Runtime, container_id: str) -> bool:
    try:
        await runtime.inspect_container(container_id)
    except ContainerNotFound:
        return True
    return False


def monotonic() -> float:
    """Real elapsed time for the e2e stop timing only (the fake runs on the real clock here)."""
    return time.monotonic()
