"""Exec without the engine (`runtime/_direct`, `_nsexec`) against the engine's own exec.

Every process here runs twice in the same container: once through a runtime that enters the
container itself, once through one that asks the engine (`direct_exec=False`); what the
process sees of itself (user, groups, capabilities, cgroups, namespaces, limits, environment,
terminal) and what the caller gets (output, exit code, runc's failure text) must be the same.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from minikubelet.runtime import ExecResult, InstanceState
from minikubelet.runtime._proc import process_tree
from minikubelet.runtime.docker import DockerRuntime
from minikubelet.runtime.types import ContainerSecurity, ExecStream, PodNamespaces
from tests.runtime.conftest import DockerHarness, remove_instance

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

POD_OWN = PodNamespaces()  # the pod's own network, PID and IPC namespaces
UNCONFINED = ContainerSecurity(seccomp="unconfined")  # the kubelet's default (no --seccomp-default)
SECURITIES = {
    "root": UNCONFINED,
    "user": ContainerSecurity(
        seccomp="unconfined",
        user="1000:1000",
        group_add=("44", "2000"),
        cap_drop=("ALL",),
        cap_add=("NET_BIND_SERVICE",),
        no_new_privs=True,
    ),
    "named-user": ContainerSecurity(seccomp="unconfined", user="nobody"),
    "added-caps": ContainerSecurity(seccomp="unconfined", cap_add=("NET_ADMIN", "SYS_PTRACE")),
}
SURVEY = r"""
grep -E '^(Uid|Gid|Groups|Cap...|NoNewPrivs|Seccomp|Umask):' /proc/self/status
cat /proc/self/cgroup /proc/self/oom_score_adj /proc/self/limits
for n in /proc/self/ns/*; do echo "$n $(readlink $n)"; done
env | sort; pwd; umask; id
stat -L -c 'stdio %u %g %a %F' /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2
[ "$(cut -d' ' -f6 /proc/$$/stat)" = "$$" ] && echo "a session leader"
echo to-stderr >&2
exit 7
"""
TTY_SURVEY = "tty; stty size; stat -c '%u %g %a' $(tty); echo TERM=$TERM; env | sort; exit 3"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def instance() -> Iterator[str]:
    instance_id = f"test-{uuid.uuid4().hex[:10]}"
    yield instance_id
    remove_instance(instance_id)


@pytest.fixture
async def pair(instance: str) -> AsyncIterator[tuple[DockerHarness, DockerRuntime]]:
    """A harness whose runtime enters containers itself, and one on the engine's exec."""
    harness = DockerHarness(instance)
    engine = DockerRuntime(f"{instance}-engine", direct_exec=False)
    try:
        yield harness, engine
    finally:
        await harness.runtime.close()
        await engine.close()


async def _container(
    harness: DockerHarness,
    security: ContainerSecurity,
    namespaces: PodNamespaces = POD_OWN,
) -> str:
    sandbox = await harness.sandbox(namespaces=namespaces)
    spec = harness.spec(
        sandbox, "c", command=("sleep", "600"), security=security, namespaces=namespaces
    )
    container_id = await harness.run(spec)
    await harness.wait_state(container_id, InstanceState.RUNNING)
    return container_id


def _direct_used(runtime: DockerRuntime, container_id: str) -> bool:
    return runtime._targets.get(container_id) is not None


@pytest.mark.parametrize("kind", sorted(SECURITIES))
async def test_a_process_sees_what_runc_exec_gives_it(
    pair: tuple[DockerHarness, DockerRuntime], kind: str
) -> None:
    harness, engine = pair
    container_id = await _container(harness, SECURITIES[kind])
    direct = await harness.runtime.exec(container_id, ["sh", "-c", SURVEY], 10)
    assert isinstance(harness.runtime, DockerRuntime)
    assert _direct_used(harness.runtime, container_id)
    expected = await engine.exec(container_id, ["sh", "-c", SURVEY], 10)
    assert (
        (direct.exit_code, direct.stderr)
        == (expected.exit_code, expected.stderr)
        == (
            7,
            b"to-stderr\n",
        )
    )
    assert direct.stdout == expected.stdout
    assert b"a session leader" in (direct.stdout or b"")


@pytest.mark.parametrize(
    "namespaces",
    [PodNamespaces(share_pid=True), PodNamespaces(host_network=True, host_ipc=True)],
    ids=["shareProcessNamespace", "hostNetwork-hostIPC"],
)
async def test_the_pods_namespaces_are_the_ones_entered(
    pair: tuple[DockerHarness, DockerRuntime], namespaces: PodNamespaces
) -> None:
    """A pod sharing one PID namespace (pause as PID 1) or the host's network and IPC: the
    process is where runc exec puts it, and sees the same processes and interfaces."""
    harness, engine = pair
    container_id = await _container(harness, UNCONFINED, namespaces)
    survey = [
        "sh",
        "-c",
        "for n in /proc/self/ns/*; do echo $n $(readlink $n); done;"
        " cat /proc/1/cmdline | tr '\\000' ' '; echo; cat /proc/net/dev | cut -d: -f1 | sort",
    ]
    direct = await harness.runtime.exec(container_id, survey, 10)
    assert isinstance(harness.runtime, DockerRuntime)
    assert _direct_used(harness.runtime, container_id)
    expected = await engine.exec(container_id, survey, 10)
    assert (direct.exit_code, direct.output) == (expected.exit_code, expected.output)
    assert direct.exit_code == 0 and direct.output
    first = b"catatonit" if namespaces.share_pid else b"sleep 600"
    assert first in direct.output, direct.output


async def test_a_terminal_is_the_containers_and_the_users(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    harness, engine = pair
    container_id = await _container(harness, SECURITIES["user"])

    async def run(runtime: DockerRuntime) -> tuple[int | None, bytes]:
        async with runtime.exec_stream(
            container_id, ["sh", "-c", f"sleep 0.2; {TTY_SURVEY}"], stdin=True, tty=True
        ) as session:
            await session.resize(100, 30)
            output = await _drain(session)
            return await session.wait(), output

    direct = await run(harness.runtime)  # type: ignore[arg-type]
    expected = await run(engine)
    assert direct == expected
    assert direct[0] == 3 and b"/dev/pts/0\r\n30 100\r\n1000 5 620\r\nTERM=xterm" in direct[1]


async def test_a_terminals_stdin_ending_is_no_hangup(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    """A TTY exec's stdin ends (a client's EOF): the CRI does not hang the terminal up
    (containerd's ExecIO, as Docker's attach, stops relaying the output and leaves the process
    to its exit code), so the process runs on; here it prints 4 MiB more than a terminal
    holds, which the node reads and drops, and its own exit code comes back, not SIGHUP's."""
    harness, engine = pair
    container_id = await _container(harness, UNCONFINED)
    argv = ["sh", "-c", "trap 'exit 9' HUP; head -c 4194304 /dev/zero; exit 7"]

    async def run(runtime: DockerRuntime) -> int | None:
        async with runtime.exec_stream(container_id, argv, stdin=True, tty=True) as session:
            await session.close_stdin()
            await _drain(session)
            with anyio.fail_after(30):
                return await session.wait()

    assert await run(harness.runtime) == 7  # type: ignore[arg-type]
    assert await run(engine) == 7


async def _drain(session: ExecStream) -> bytes:
    chunks = []
    with anyio.fail_after(20):
        while (got := await session.read()) is not None:
            chunks.append(got[1])
    return b"".join(chunks)


@pytest.mark.parametrize(
    "argv",
    [["nope"], ["/etc"], ["/nope/x"], ["/etc/hostname"], ["sh", "-c", "kill -9 $$"]],
)
async def test_failures_read_as_the_engines(
    pair: tuple[DockerHarness, DockerRuntime], argv: list[str]
) -> None:
    """runc's words for a command it cannot start (126), 128 + the signal for a killed one."""
    harness, engine = pair
    container_id = await _container(harness, UNCONFINED)
    direct = await harness.runtime.exec(container_id, argv, 10)
    expected = await engine.exec(container_id, argv, 10)
    assert (direct.exit_code, direct.output) == (expected.exit_code, expected.output)
    assert direct.exit_code in (126, 137)


async def test_stdin_and_a_large_output_pass_whole(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    harness, _ = pair
    container_id = await _container(harness, UNCONFINED)
    data = os.urandom(1 << 20)
    async with harness.runtime.exec_stream(
        container_id, ["sh", "-c", "cat; echo done >&2"], stdin=True, tty=False
    ) as session:
        received: list[bytes] = []
        errors: list[bytes] = []

        async def feed() -> None:
            await session.write(data)
            await session.close_stdin()

        async with anyio.create_task_group() as tg:
            tg.start_soon(feed)
            with anyio.fail_after(30):
                while (got := await session.read()) is not None:
                    (received if got[0] == 1 else errors).append(got[1])
        assert await session.wait() == 0
    assert b"".join(received) == data and b"".join(errors) == b"done\n"


async def test_a_timeout_or_a_caller_leaving_kills_the_process_and_its_children(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    harness, engine = pair
    container_id = await _container(harness, UNCONFINED)
    hang = ["sh", "-c", "echo started; sleep 4242; echo never"]
    result = await harness.runtime.exec(container_id, hang, 1)
    assert (result.exit_code, result.timed_out, result.output) == (137, True, b"started\n")
    async with harness.runtime.exec_stream(
        container_id, ["sh", "-c", "sleep 4343"], stdin=False, tty=False
    ):
        pass  # the caller leaves before the exit code
    survey = ["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\000' ' '"]
    listing = await engine.exec(container_id, survey, 10)
    assert b"sleep 600" in listing.output
    assert b"4242" not in listing.output and b"4343" not in listing.output


async def test_many_execs_leave_no_descriptor_or_child_behind(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    harness, _ = pair
    container_id = await _container(harness, UNCONFINED)
    runtime = harness.runtime
    await runtime.exec(container_id, ["true"], 5)  # the helper started
    before = len(os.listdir("/proc/self/fd"))
    results = [await runtime.exec(container_id, ["true"], 5) for _ in range(100)]
    assert {r.exit_code for r in results} == {0}
    assert len(os.listdir("/proc/self/fd")) == before
    assert isinstance(runtime, DockerRuntime) and runtime._helper is not None
    helper = runtime._helper._process
    assert helper is not None
    children = process_tree(helper.pid)[1:]
    assert children == [], f"the helper keeps {children}"


async def test_what_runc_exec_would_do_otherwise_goes_through_the_engine(
    pair: tuple[DockerHarness, DockerRuntime],
) -> None:
    """The engine's seccomp profile (RuntimeDefault) is not reproduced: its exec runs it."""
    harness, _ = pair
    assert isinstance(harness.runtime, DockerRuntime)
    container_id = await _container(harness, ContainerSecurity(seccomp="runtime/default"))
    result = await harness.runtime.exec(container_id, ["grep", "Seccomp:", "/proc/self/status"], 10)
    assert re.match(rb"Seccomp:\s+2\n", result.output), result
    assert container_id in harness.runtime._targets
    assert not _direct_used(harness.runtime, container_id)
    assert result == ExecResult(0, result.output, False, result.output, b"")


async def test_execs_started_together_all_run(pair: tuple[DockerHarness, DockerRuntime]) -> None:
    """Forty at once (a node's exec probes coming due together): one task at a time waits on
    the helper's socket, none is refused, each gets its own output and exit code."""
    harness, _ = pair
    container_id = await _container(harness, UNCONFINED)
    results: dict[int, ExecResult] = {}

    async def one(index: int) -> None:
        argv = ["sh", "-c", f"echo {index}; exit {index % 5}"]
        results[index] = await harness.runtime.exec(container_id, argv, 30)

    async with anyio.create_task_group() as tg:
        for index in range(40):
            tg.start_soon(one, index)
    assert {i: (r.exit_code, r.output) for i, r in results.items()} == {
        i: (i % 5, f"{i}\n".encode()) for i in range(40)
    }


async def test_a_helper_that_died_is_started_again_and_none_outlives_the_runtime(
    instance: str,
) -> None:
    harness = DockerHarness(instance)
    runtime = harness.runtime
    assert isinstance(runtime, DockerRuntime) and runtime._helper is not None
    try:
        container_id = await _container(harness, UNCONFINED)
        assert (await runtime.exec(container_id, ["true"], 5)).exit_code == 0
        first = runtime._helper._process
        assert first is not None
        first.kill()
        first.wait(timeout=10)
        result = await runtime.exec(container_id, ["sh", "-c", "echo again"], 5)
        assert (result.exit_code, result.output) == (0, b"again\n")
        second = runtime._helper._process
        assert second is not None and second.pid != first.pid
    finally:
        await runtime.close()
    assert second.poll() is not None, "the helper outlived its runtime"
