"""Termination messages (`getTerminationMessage`, `readLastStringFromContainerLogs`): the file
the node mounts per instance, read back once the container exited; the log's tail under
`FallbackToLogsOnError`."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikubelet.api.models import Container
from minikubelet.clock import FakeClock
from minikubelet.node.termination_message import (
    LABEL_MESSAGE_FILE,
    LABEL_MESSAGE_POLICY,
    TerminationMessages,
    message_file,
)
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import ContainerSpec, SandboxSpec


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def exited(
    runtime: FakeRuntime,
    tmp_path: Path,
    *,
    policy: str,
    code: int,
    written: bytes = b"",
    logged: list[bytes] | None = None,
    path: str = "/dev/termination-log",
) -> str:
    """A container that wrote `written` to its message file and `logged` to its log, then
    exited with `code`; returns its id."""
    runtime.set_image("busybox")
    sandbox = await runtime.run_sandbox(SandboxSpec(pod_uid="u1", pod_name="web", namespace="d"))
    mount = message_file(tmp_path, "u1", Container(name="app", terminationMessagePath=path))
    labels = {LABEL_MESSAGE_POLICY: policy, LABEL_MESSAGE_FILE: mount.source if mount else ""}
    spec = ContainerSpec(pod_uid="u1", pod_name="web", namespace="d", name="app", attempt=0,
                         image="busybox", sandbox_id=sandbox.id, labels=labels)  # fmt: skip
    cid = await runtime.create_container(spec)
    await runtime.start_container(cid)
    if mount is not None and written:
        Path(mount.source).write_bytes(written)
    for line in logged or []:
        runtime.add_log(cid, line)
    runtime.exit_container(cid, code)
    return cid


async def message_of(runtime: FakeRuntime, cid: str) -> str:
    infos = await TerminationMessages(runtime).enrich(await runtime.list_containers("u1"))
    return next(i.termination_message for i in infos if i.id == cid)


@pytest.mark.anyio
async def test_the_file_is_mounted_empty_and_writable(tmp_path: Path) -> None:
    mount = message_file(tmp_path, "u1", Container(name="app", terminationMessagePath="/m"))
    assert mount is not None and mount.target == "/m" and not mount.read_only
    source = Path(mount.source)
    assert source.parent == tmp_path / "u1" / "containers" / "app"
    assert source.read_bytes() == b"" and source.stat().st_mode & 0o777 == 0o666
    assert message_file(tmp_path, "u1", Container(name="app", terminationMessagePath="")) is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("policy", "code", "written", "logged", "expected"),
    [
        pytest.param("File", 1, b"bye\n", [b"log"], "bye\n", id="File: what it wrote"),
        pytest.param("File", 1, b"", [b"log"], "", id="File: nothing written, nothing"),
        pytest.param(
            "FallbackToLogsOnError", 2, b"", [b"a", b"b"], "a\nb\n", id="fallback: the log"
        ),
        pytest.param("FallbackToLogsOnError", 0, b"", [b"a"], "", id="fallback: not on exit 0"),
        pytest.param(
            "FallbackToLogsOnError", 1, b"mine", [b"a"], "mine", id="fallback: the file wins"
        ),
        pytest.param(
            "File",
            1,
            b"x" * 5000 + b"END",
            [],
            ("x" * 5000 + "END")[-4096:],
            id="the file's last 4096 bytes",
        ),
        pytest.param(
            "FallbackToLogsOnError",
            1,
            b"",
            [f"line {i}".encode() for i in range(100)],
            "".join(f"line {i}\n" for i in range(20, 100))[-2048:],
            id="the log's last 80 lines, their last 2048 bytes",
        ),
    ],
)
async def test_messages(
    tmp_path: Path, policy: str, code: int, written: bytes, logged: list[bytes], expected: str
) -> None:
    runtime = FakeRuntime(clock=FakeClock())
    cid = await exited(runtime, tmp_path, policy=policy, code=code, written=written, logged=logged)
    assert await message_of(runtime, cid) == expected
