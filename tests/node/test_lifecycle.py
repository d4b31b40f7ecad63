"""`HookRunner` (`handlers.go` `Run`, `executePreStopHook`): the kubelet's messages, and the
preStop wait bounded by the grace period, in virtual time."""

from __future__ import annotations

import socket

import anyio
import pytest

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.clock import FakeClock
from minikubelet.node.lifecycle import HookRunner, hook
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import ContainerSpec, ExecResult, SandboxSpec

POD = Pod(metadata=ObjectMeta(name="web", namespace="default", uid="u1"), spec=PodSpec())
WEB = Container(name="web", image="busybox")
WHERE = 'for Container "web" in Pod "web_default(u1)"'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def running(runtime: FakeRuntime) -> str:
    runtime.set_image("busybox")
    sandbox = await runtime.run_sandbox(
        SandboxSpec(pod_uid="u1", pod_name="web", namespace="default")
    )
    cid = await runtime.create_container(
        ContainerSpec(pod_uid="u1", pod_name="web", namespace="default", name="web", attempt=0,
                      image="busybox", sandbox_id=sandbox.id)
    )  # fmt: skip
    await runtime.start_container(cid)
    return cid


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.anyio
async def test_exec_hook_failure_reads_as_the_kubelet_words_it() -> None:
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    cid = await running(runtime)
    runtime.set_exec(["sh", "-c", "exit 1"], ExecResult(1, b"out\nerr\n", stderr=b"err\n"))
    runner = HookRunner(runtime, clock)
    message = await runner.run(POD, WEB, cid, {"exec": {"command": ["sh", "-c", "exit 1"]}}, "")
    assert message == (
        f"Exec lifecycle hook ([sh -c exit 1]) {WHERE} failed - error: command 'sh -c exit 1' "
        'exited with 1: err\n, message: "out\\nerr\\n"'
    )
    assert await runner.run(POD, WEB, cid, {"exec": {"command": ["true"]}}, "") is None


@pytest.mark.anyio
async def test_http_hook_fails_on_transport_errors_only() -> None:
    clock = FakeClock()
    runner = HookRunner(FakeRuntime(clock=clock), clock)
    port = closed_port()
    message = await runner.run(
        POD, WEB, "c", {"httpGet": {"path": "/quit", "port": port}}, "127.0.0.1"
    )
    assert message is not None
    assert message.startswith(f"HTTP lifecycle hook (/quit) {WHERE} failed - error: Get ")
    assert "connection refused" in message
    named = await runner.run(POD, WEB, "c", {"httpGet": {"port": "admin"}}, "127.0.0.1")
    assert named is not None and named.endswith('strconv.Atoi: parsing "admin": invalid syntax')


@pytest.mark.anyio
async def test_pre_stop_is_awaited_at_most_the_grace_period() -> None:
    clock = FakeClock()
    runner = HookRunner(FakeRuntime(clock=clock), clock)
    took: list[tuple[int, str | None]] = []

    async def stop(seconds: int, grace: int) -> None:
        took.append(
            await runner.pre_stop(POD, WEB, "c", {"sleep": {"seconds": seconds}}, "", grace)
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop, 3, 30)
        tg.start_soon(stop, 60, 10)
        for _ in range(80):
            await clock.advance(0.25)
    assert sorted(took) == [(3, None), (10, None)]


def test_hook_reads_the_lifecycle_field() -> None:
    container = Container(name="web", extra={"lifecycle": {"preStop": {"sleep": {"seconds": 1}}}})
    assert hook(container, "preStop") == {"sleep": {"seconds": 1}}
    assert hook(container, "postStart") is None and hook(WEB, "preStop") is None
