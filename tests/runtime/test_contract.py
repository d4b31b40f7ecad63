"""One contract for every Runtime: the fake and Docker must answer these the same way.

Each test runs twice, on FakeRuntime and (marked e2e) on DockerRuntime; see conftest.py for how
the fake's harness plays the part of processes it cannot run.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from minikubelet.errors import ContainerNotFound, ImagePullError
from minikubelet.runtime import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_POD,
    LABEL_UID,
    ExecResult,
    InstanceState,
    LogOptions,
    Mount,
    RuntimeEvent,
)
from minikubelet.runtime._cgroup import CGROUP_ROOT
from minikubelet.runtime._oom import KernelLog
from minikubelet.runtime.docker import DockerRuntime
from tests.runtime.conftest import (
    BASE,
    ENTRYPOINT_IMAGE,
    WEBAPL,
    Harness,
    gone,
    monotonic,
)

pytestmark = pytest.mark.anyio

TIMESTAMPED = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


async def collect_logs(harness: Harness, container_id: str, options: LogOptions) -> list[bytes]:
    with anyio.fail_after(30):
        return [line async for line in harness.runtime.logs(container_id, options)]


async def test_sandbox_gets_an_ip_and_is_listed(harness: Harness) -> None:
    sandbox = await harness.sandbox("web", hostname="web-host")
    assert sandbox.running
    assert re.fullmatch(r"10\.89\.\d+\.\d+", sandbox.ip)
    listed = {s.id: s for s in await harness.runtime.list_sandboxes()}
    assert listed[sandbox.id].ip == sandbox.ip
    assert listed[sandbox.id].pod_uid == sandbox.pod_uid


async def test_names_and_labels_follow_dockershim(harness: Harness) -> None:
    sandbox = await harness.sandbox("web")
    uid = sandbox.pod_uid
    assert await harness.name_of(sandbox.id) == f"k8s_POD_web_default_{uid}_0"
    spec = harness.spec(sandbox, "app", attempt=2, labels={"team": "a"}, command=("sleep", "60"))
    first = await harness.runtime.create_container(spec)
    assert await harness.name_of(first) == f"k8s_app_web_default_{uid}_2"
    info = await harness.runtime.inspect_container(first)
    assert (info.pod_uid, info.name, info.attempt, info.state) == (
        uid,
        "app",
        2,
        InstanceState.CREATED,
    )
    assert info.labels[LABEL_INSTANCE] == harness.runtime.instance_id  # type: ignore[attr-defined]
    assert info.labels[LABEL_KIND] == "container"
    assert info.labels[LABEL_ATTEMPT] == "2"
    assert (info.labels[LABEL_UID], info.labels[LABEL_POD]) == (uid, "web")
    assert (info.labels[LABEL_NAMESPACE], info.labels[LABEL_CONTAINER]) == ("default", "app")
    assert info.labels["team"] == "a"
    second = await harness.runtime.create_container(spec)  # same name: dockershim adds a suffix
    assert re.fullmatch(
        rf"k8s_app_web_default_{uid}_2_[0-9a-f]{{8}}", await harness.name_of(second)
    )


async def test_containers_of_a_pod_share_localhost(harness: Harness) -> None:
    if harness.kind == "fake":
        pytest.skip("the fake has no network namespaces to share; Docker proves the join")
    sandbox = await harness.sandbox("web")
    server = await harness.run(harness.spec(sandbox, "web", image=WEBAPL))
    fetch = (
        "import time, urllib.request\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        print(urllib.request.urlopen('http://127.0.0.1:3000/', timeout=2).status)\n"
        "        break\n"
        "    except OSError:\n"
        "        time.sleep(0.1)\n"
    )
    client = await harness.run(harness.spec(sandbox, "client", command=("python3", "-c", fetch)))
    info = await harness.wait_state(client, InstanceState.EXITED)
    assert info.exit_code == 0
    assert await collect_logs(harness, client, LogOptions()) == [b"200\n"]
    await harness.runtime.stop_container(server, 0)


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        pytest.param(None, None, b"entry cmd\n", id="image ENTRYPOINT and CMD"),
        pytest.param(None, ("a", "b"), b"entry a b\n", id="args replace CMD only"),
        pytest.param(("echo", "c"), None, b"c\n", id="command drops CMD"),
        pytest.param(("echo", "c"), ("a",), b"c a\n", id="command and args"),
    ],
)
async def test_command_and_args_follow_kubernetes(
    harness: Harness,
    request: pytest.FixtureRequest,
    command: tuple[str, ...] | None,
    args: tuple[str, ...] | None,
    expected: bytes,
) -> None:
    if harness.kind == "docker":
        request.getfixturevalue("entrypoint_image")
    sandbox = await harness.sandbox()
    spec = harness.spec(sandbox, "c", image=ENTRYPOINT_IMAGE, command=command, args=args)
    container_id = await harness.run(spec)
    await harness.play(container_id)
    await harness.wait_state(container_id, InstanceState.EXITED)
    assert await collect_logs(harness, container_id, LogOptions()) == [expected]


async def test_env_and_working_dir_land(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    script = 'echo "$GREETING $OTHER"; pwd'
    spec = harness.spec(
        sandbox,
        "c",
        command=("sh", "-c", script),
        env=(("GREETING", "hello world"), ("OTHER", "x=y")),
        working_dir="/usr/share",
    )
    container_id = await harness.run(spec)
    await harness.play(container_id, (b"hello world x=y", b"/usr/share"))
    info = await harness.wait_state(container_id, InstanceState.EXITED)
    assert info.exit_code == 0
    logs = await collect_logs(harness, container_id, LogOptions())
    assert logs == [b"hello world x=y\n", b"/usr/share\n"]


async def test_a_bind_mount_is_shared_and_read_only_where_asked(
    harness: Harness, tmp_path: Path
) -> None:
    sandbox = await harness.sandbox()
    writer = await harness.run(
        harness.spec(
            sandbox,
            "writer",
            command=("sh", "-c", "echo shared > /data/note"),
            mounts=(Mount(str(tmp_path), "/data"),),
        )
    )
    await harness.play(writer)
    assert (await harness.wait_state(writer, InstanceState.EXITED)).exit_code == 0
    script = "cat /data/note; touch /data/other 2>/dev/null || echo read-only"
    reader = await harness.run(
        harness.spec(
            sandbox,
            "reader",
            command=("sh", "-c", script),
            mounts=(Mount(str(tmp_path), "/data", read_only=True),),
        )
    )
    await harness.play(reader, (b"shared", b"read-only"))
    await harness.wait_state(reader, InstanceState.EXITED)
    assert await collect_logs(harness, reader, LogOptions()) == [b"shared\n", b"read-only\n"]


async def test_memory_limit_ends_in_oomkilled_137(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    hog = "b = b'x' * (256 << 20); print(len(b))"  # touches every page, unlike bytearray(n)
    spec = harness.spec(sandbox, "hog", command=("python3", "-c", hog), memory_limit=32 << 20)
    container_id = await harness.run(spec)
    await harness.play(container_id, code=137, oom=True)
    info = await harness.wait_state(container_id, InstanceState.EXITED)
    assert (info.exit_code, info.oom_killed) == (137, True)
    if isinstance(harness.runtime, DockerRuntime) and (_kernel_log_readable() or CGROUP_V2):
        # The agent saw the kill itself (the kernel's log names the container's cgroup): the
        # container reads OOMKilled also when the engine misses the kill (`runtime/_oom.py`).
        assert harness.runtime._oom.killed(container_id)


CGROUP_V2 = (CGROUP_ROOT / "cgroup.controllers").exists()


def _kernel_log_readable() -> bool:
    try:
        KernelLog().close()
    except OSError:
        return False
    return True


async def test_stop_kills_after_the_timeout_when_sigterm_is_ignored(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    container_id = await harness.run(harness.spec(sandbox, "web", image=WEBAPL))
    harness.ignore_sigterm(container_id)
    await harness.wait_state(container_id, InstanceState.RUNNING)
    timeout = 2.0
    started = monotonic()
    await harness.runtime.stop_container(container_id, timeout)
    elapsed = monotonic() - started
    info = await harness.runtime.inspect_container(container_id)
    assert (info.state, info.exit_code, info.oom_killed) == (InstanceState.EXITED, 137, False)
    assert timeout <= elapsed <= timeout + 5
    await harness.runtime.stop_container(container_id, timeout)  # stopped already: no error


async def test_a_start_does_not_wait_behind_stops_in_their_grace(harness: Harness) -> None:
    """Eight containers that ignore SIGTERM stopping at once with a 60 s grace (eight pods
    being deleted): another pod's sandbox and container start now, not when those grace
    periods end. On Docker a stop holds its engine call for the whole grace period."""
    sandbox = await harness.sandbox()
    deaf = ("sh", "-c", "trap '' TERM; while :; do sleep 1; done")
    stopping = [await harness.run(harness.spec(sandbox, f"s{i}", command=deaf)) for i in range(8)]
    for container_id in stopping:
        harness.ignore_sigterm(container_id)
        await harness.wait_state(container_id, InstanceState.RUNNING)

    async def stop(container_id: str) -> None:
        with contextlib.suppress(ContainerNotFound):
            await harness.runtime.stop_container(container_id, 60)

    async with anyio.create_task_group() as tg:
        for container_id in stopping:
            tg.start_soon(stop, container_id)
        await anyio.wait_all_tasks_blocked()  # the eight stops are with the engine
        with anyio.fail_after(30):
            other = await harness.sandbox("other")
            started = await harness.run(harness.spec(other, "app", command=("sleep", "600")))
            await harness.wait_state(started, InstanceState.RUNNING)
        for container_id in stopping:  # ends the stops' waits
            await harness.runtime.remove_container(container_id)


async def test_exit_code_and_exited_containers_are_listed(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    container_id = await harness.run(harness.spec(sandbox, "c", command=("sh", "-c", "exit 3")))
    await harness.play(container_id, code=3)
    info = await harness.wait_state(container_id, InstanceState.EXITED)
    assert info.exit_code == 3 and not info.oom_killed
    assert info.started_at is not None and info.finished_at is not None
    # Not started <= finished: Docker may record StartedAt after a quick process already ended.
    assert info.created_at is not None and info.created_at <= info.started_at
    assert info.created_at <= info.finished_at
    assert info.image == BASE and info.image_id
    listed = {c.id: c for c in await harness.runtime.list_containers()}
    assert listed[container_id].state is InstanceState.EXITED
    assert listed[container_id].exit_code == 3
    assert sandbox.id not in listed  # sandboxes are listed apart


async def test_events_report_die_promptly_and_destroy(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    seen: list[RuntimeEvent] = []
    died, destroyed = anyio.Event(), anyio.Event()
    container_id = ""

    async def watch() -> None:
        async for event in harness.runtime.events():
            seen.append(event)
            if event.container_id == container_id and event.action == "die":
                died.set()
            if event.container_id == container_id and event.action == "destroy":
                destroyed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        # The process lives a second, so the subscription is surely in place when it dies.
        spec = harness.spec(sandbox, "c", command=("sh", "-c", "sleep 1; exit 4"))
        container_id = await harness.run(spec)
        await harness.play(container_id, code=4)
        with anyio.fail_after(10):
            await died.wait()
        await harness.runtime.remove_container(container_id)
        with anyio.fail_after(10):
            await destroyed.wait()
        tg.cancel_scope.cancel()
    die = next(e for e in seen if e.container_id == container_id and e.action == "die")
    assert (die.pod_uid, die.container_name) == (sandbox.pod_uid, "c")


async def test_exec_success_failure_and_timeout(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    container_id = await harness.run(harness.spec(sandbox, "c", command=("sleep", "600")))
    await harness.wait_state(container_id, InstanceState.RUNNING)
    # `RunInContainer`: stdout, then stderr, whatever order the process wrote them in.
    ok = ["sh", "-c", "echo err >&2; sleep 0.2; echo out; sleep 0.2; echo err2 >&2"]
    harness.script_exec(ok, ExecResult(0, b"out\nerr\nerr2\n"))
    result = await harness.runtime.exec(container_id, ok, 10)
    assert (result.exit_code, result.timed_out) == (0, False)
    assert result.output == b"out\nerr\nerr2\n"
    failing = ["sh", "-c", "exit 2"]
    harness.script_exec(failing, ExecResult(2))
    assert (await harness.runtime.exec(container_id, failing, 10)).exit_code == 2
    hang = ["sh", "-c", "echo started; sleep 4242; echo never"]
    harness.script_exec(hang, ExecResult(137, b"started\n", timed_out=True))
    result = await harness.runtime.exec(container_id, hang, 1)
    assert result.timed_out and result.output == b"started\n"
    # The killed process (and its child sleep) is gone: read every cmdline in the container.
    survey = ["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\000' ' '"]
    harness.script_exec(survey, ExecResult(0, b"sleep 600 "))
    listing = await harness.runtime.exec(container_id, survey, 10)
    assert b"sleep 600" in listing.output and b"4242" not in listing.output
    big = ["python3", "-c", "print('x' * 100000)"]
    harness.script_exec(big, ExecResult(0, b"x" * 10240))
    assert len((await harness.runtime.exec(container_id, big, 10)).output) == 10 * 1024


async def test_an_exec_timeout_is_about_the_process_not_its_turn(harness: Harness) -> None:
    """24 exec probes at once, each a 1 s process with a 3 s timeout: none times out. Their
    outputs are read side by side; a read waiting for a thread token behind the others (8 at a
    time: the third eight would start reading 2 s late) must not count against its timeout."""
    sandbox = await harness.sandbox()
    container_id = await harness.run(harness.spec(sandbox, "c", command=("sleep", "600")))
    await harness.wait_state(container_id, InstanceState.RUNNING)
    argv = ["sh", "-c", "sleep 1; echo done"]
    harness.script_exec(argv, ExecResult(0, b"done\n"))
    results: list[ExecResult] = []

    async def probe() -> None:
        results.append(await harness.runtime.exec(container_id, argv, 3))

    async with anyio.create_task_group() as tg:
        for _ in range(24):
            tg.start_soon(probe)
    assert [(r.exit_code, r.timed_out, r.output) for r in results] == [(0, False, b"done\n")] * 24


async def test_logs_tail_timestamps_and_follow(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    script = "echo line1; echo line2; echo line3; sleep 1; echo late"
    container_id = await harness.run(harness.spec(sandbox, "c", command=("sh", "-c", script)))
    followed: list[bytes] = []
    async with anyio.create_task_group() as tg:

        async def follow() -> None:
            followed.extend(await collect_logs(harness, container_id, LogOptions(follow=True)))

        tg.start_soon(follow)
        await harness.play(container_id, (b"line1", b"line2", b"line3"), code=None)
        await harness.play(container_id, (b"late",))
    # The follower ended by itself when the container stopped.
    assert followed == [b"line1\n", b"line2\n", b"line3\n", b"late\n"]
    assert await collect_logs(harness, container_id, LogOptions(tail=2)) == [b"line3\n", b"late\n"]
    stamped = await collect_logs(harness, container_id, LogOptions(tail=1, timestamps=True))
    assert len(stamped) == 1 and TIMESTAMPED.match(stamped[0]) and stamped[0].endswith(b" late\n")


async def test_instances_do_not_see_each_other(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    mine = await harness.runtime.create_container(harness.spec(sandbox, "c", command=("true",)))
    other = await harness.other()
    assert mine not in {c.id for c in await other.list_containers()}
    assert sandbox.id not in {s.id for s in await other.list_sandboxes()}
    assert mine in {c.id for c in await harness.runtime.list_containers()}


async def test_container_not_found_after_removal(harness: Harness) -> None:
    sandbox = await harness.sandbox()
    container_id = await harness.run(harness.spec(sandbox, "c", command=("sleep", "600")))
    await harness.runtime.remove_container(container_id)  # force: running is fine
    assert await gone(harness.runtime, container_id)
    with pytest.raises(ContainerNotFound):
        await harness.runtime.stop_container(container_id, 1)
    with pytest.raises(ContainerNotFound):
        await harness.runtime.exec(container_id, ["true"], 1)
    await harness.runtime.remove_container(container_id)  # gone already: no error
    await harness.runtime.remove_sandbox(sandbox.id)
    assert sandbox.id not in {s.id for s in await harness.runtime.list_sandboxes()}


async def test_images_and_pull_failure(harness: Harness) -> None:
    present = await harness.runtime.image_info(BASE)
    assert present is not None and present.id
    missing = "127.0.0.1:5999/minikubelet/nothing:1"  # a loopback registry where nothing listens
    assert await harness.runtime.image_info(missing) is None
    with pytest.raises(ImagePullError):
        await harness.runtime.pull_image(missing)


@pytest.fixture
def silent_registry() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a registry that hangs."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.mark.e2e
async def test_docker_pull_honours_its_timeout(silent_registry: int, instance_id: str) -> None:
    from minikubelet.runtime.docker import DockerRuntime

    runtime = DockerRuntime(instance_id, pull_timeout=1.0)
    try:
        with anyio.fail_after(15):
            with pytest.raises(ImagePullError, match="timed out"):
                await runtime.pull_image(f"127.0.0.1:{silent_registry}/hangs:1")
    finally:
        await runtime.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_listing_one_pod(harness: Harness) -> None:
    first, second = await harness.sandbox("one"), await harness.sandbox("two")
    spec = harness.spec(first, "app", command=("sleep", "60"))
    mine = await harness.runtime.create_container(spec)
    assert [s.id for s in await harness.runtime.list_sandboxes(first.pod_uid)] == [first.id]
    assert [c.id for c in await harness.runtime.list_containers(first.pod_uid)] == [mine]
    assert await harness.runtime.list_containers(second.pod_uid) == []


async def test_attach_reaches_the_containers_own_stdio(harness: Harness) -> None:
    """stdin kept open by the spec, reached by attach; with stdin_once the client's EOF is the
    process's EOF, so `cat` ends, and with it the output; attach reports no exit code (0)."""
    sandbox = await harness.sandbox()
    spec = harness.spec(sandbox, "c", command=("cat",), stdin=True, stdin_once=True)
    container_id = await harness.run(spec)
    await harness.wait_state(container_id, InstanceState.RUNNING)
    with anyio.fail_after(30):
        async with harness.runtime.attach(container_id, stdin=True, tty=False) as process:
            await process.write(b"abc\n")
            await process.close_stdin()
            out = b""
            while (chunk := await process.read()) is not None:
                out += chunk[1]
            assert (out, await process.wait()) == (b"abc\n", 0)
