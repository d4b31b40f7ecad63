"""exec through the whole server (uvicorn, the upgrade, the app, a session) with a scripted
process: the WebSocket v5/v4 and SPDY/3.1 sessions frame by frame, and the API server's checks."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
import uvicorn
from starlette.testclient import TestClient
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, TextMessage

from minikubelet.clock import FakeClock
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime.fake import _FakeProcess
from minikubelet.runtime.types import ExecResult, ExecStream
from minikubelet.server import ApiDeps, create_app
from minikubelet.server.streams import spdy
from minikubelet.server.streams.upgrade import UpgradingH11Protocol
from minikubelet.store import Store

pytestmark = pytest.mark.anyio
EXEC = "/api/v1/namespaces/default/pods/web/exec"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Streams:
    """The node's side, scripted: `cat`, then the exit code of `exit N` (argv ["exit", "N"])."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], bool, bool]] = []

    async def running_container(self, pod: dict[str, Any], container: str) -> str | None:
        return None if container == "stopped" else f"id-{container}"

    @asynccontextmanager
    async def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        self.calls.append((container_id, argv, stdin, tty))
        if argv[0] == "gone":  # the container stopped since `running_container` found it
            raise RuntimeFailure(f"Container {container_id} is not running")
        code = int(argv[1]) if argv[0] == "exit" else 0
        process = _FakeProcess(ExecResult(exit_code=code, output=b"bye\n"), stdin)
        try:
            yield process
        finally:
            process.close()

    @asynccontextmanager
    async def attach_stream(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        """The container's process: stdin echoed, then `bye`; attach has no exit code.
        Container `ended` exits as the client's keystrokes and resize arrive."""
        self.calls.append((container_id, ["<attach>"], stdin, tty))
        if container_id == "id-ended":
            yield Ended()
            return
        process = _FakeProcess(ExecResult(exit_code=0, output=b"bye\n"), stdin)
        try:
            yield process
        finally:
            process.close()

    async def pod_sandbox(self, pod: dict[str, Any]) -> str | None:
        return "sandbox-1"

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.ByteStream:
        try:
            return await anyio.connect_tcp("127.0.0.1", port)
        except OSError as exc:
            raise RuntimeFailure(f"failed to connect to localhost:{port}: {exc}") from None


class Ended:
    """A process that exits as the client's keystroke and terminal size arrive: the engine
    refuses both (its stdin is closed; a resize is 409 "is not running"), then the last output
    comes and the stream ends, as when `exit` was typed just before kubectl's second resize."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self._both = anyio.Event()
        self._done = False

    def _refuse(self, what: str) -> None:
        self.refused.append(what)
        if len(self.refused) == 2:
            self._both.set()

    async def read(self) -> tuple[int, bytes] | None:
        if self._done:
            return None
        await self._both.wait()
        self._done = True
        return 1, b"exit\r\n"

    async def write(self, data: bytes) -> None:
        self._refuse("stdin")
        raise anyio.BrokenResourceError

    async def close_stdin(self) -> None:
        pass

    async def resize(self, width: int, height: int) -> None:
        self._refuse("resize")
        raise RuntimeFailure("Container id-ended is not running")

    async def wait(self) -> int | None:
        return 0


@asynccontextmanager
async def serving(tmp_path: Path, store: Store) -> AsyncIterator[str]:
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="n", streams=Streams()))
    path = str(tmp_path / "api.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    config = uvicorn.Config(app, http=UpgradingH11Protocol, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(5):
            while not server.started:
                await anyio.sleep(0.01)
        yield path
        server.should_exit = True


async def upgrade(path: str, head: str) -> tuple[anyio.abc.SocketStream, bytes, bytes]:
    stream = await anyio.connect_unix(path)
    await stream.send(head.encode())
    data = b""
    with anyio.fail_after(5):
        while b"\r\n\r\n" not in data:
            data += await stream.receive()
    answer, _, rest = data.partition(b"\r\n\r\n")
    return stream, answer, rest


async def spdy_session(
    path: str, head: str, opened: list[tuple[int, str]], sent: Sequence[spdy.Frame]
) -> tuple[bytes, list[spdy.Frame]]:
    """Upgrade with `head`, open the streams `opened` (id, type), send `sent`; the answer's
    head and every frame the server sent until its GOAWAY or the end of the connection."""
    stream, answer, rest = await upgrade(path, head)
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    out = b"".join(writer.encode(spdy.SynStream(i, {"streamtype": [t]})) for i, t in opened)
    await stream.send(out + b"".join(writer.encode(frame) for frame in sent))
    frames = reader.feed(rest)
    async with stream:
        with anyio.fail_after(5):
            while not any(isinstance(f, spdy.GoAway) for f in frames):
                try:
                    frames += reader.feed(await stream.receive())
                except anyio.EndOfStream:
                    break
    return answer, frames


def ws_head(query: str, protocol: str, path: str = EXEC) -> str:
    return (
        f"GET {path}?{query} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
    )


async def ws_session(
    path: str, query: str, protocol: str, sends: list[bytes | str], resource: str = EXEC
) -> list[bytes | int]:
    """Everything the server sent: binary messages, then the close code."""
    stream, answer, rest = await upgrade(path, ws_head(query, protocol, resource))
    assert answer.startswith(b"HTTP/1.1 101 ")
    assert f"sec-websocket-protocol: {protocol}".encode() in answer
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(rest)
    for message in sends:
        out = TextMessage(message) if isinstance(message, str) else BytesMessage(message)
        await stream.send(client.send(out))
    got: list[bytes | int] = []
    async with stream:
        with anyio.fail_after(5):
            while True:
                for event in client.events():
                    if isinstance(event, BytesMessage):
                        got.append(bytes(event.data))
                    elif isinstance(event, CloseConnection):
                        got.append(event.code)
                        await stream.send(client.send(event.response()))
                        return got
                client.receive_data(await stream.receive())


async def test_websocket_v5_stdin_its_close_signal_and_the_exit_code(
    tmp_path: Path, store: Store
) -> None:
    async with serving(tmp_path, store) as path:
        query = "command=exit&command=3&container=app&stderr=true&stdin=true&stdout=true"
        got = await ws_session(path, query, "v5.channel.k8s.io", [b"\x00abc\n", b"\xff\x00"])
    status = {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: "
        "command terminated with exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    compact = json.dumps(status, separators=(",", ":")).encode()
    assert got == [b"\x01", b"\x01abc\n", b"\x01bye\n", b"\x03" + compact, 1000]


async def test_websocket_v4_from_the_python_client(tmp_path: Path, store: Store) -> None:
    async with serving(tmp_path, store) as path:
        query = "command=true&container=app&stderr=True&stdin=False&stdout=True&tty=False"
        got = await ws_session(path, query, "v4.channel.k8s.io", [])
    assert got == [b"\x01", b"\x01bye\n", b'\x03{"metadata":{},"status":"Success"}', 1000]


async def test_spdy_session_streams_replies_and_goaway(tmp_path: Path, store: Store) -> None:
    head = (
        f"POST {EXEC}?command=exit&command=2&container=app&stderr=true&stdin=true&stdout=true"
        " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        "X-Stream-Protocol-Version: v5.channel.k8s.io\r\n"
        "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
    )
    async with serving(tmp_path, store) as path:
        opened = [(1, "error"), (3, "stdin"), (5, "stdout"), (7, "stderr")]
        sent = [spdy.Data(3, b"hi\n"), spdy.Data(3, b"", fin=True)]
        answer, frames = await spdy_session(path, head, opened, sent)
        assert b"x-stream-protocol-version: v4.channel.k8s.io" in answer
    assert frames[:4] == [spdy.SynReply(i, {}) for i, _ in opened]
    assert spdy.Data(5, b"hi\n") in frames and spdy.Data(5, b"bye\n") in frames
    assert spdy.Data(5, b"", fin=True) in frames and spdy.Data(7, b"", fin=True) in frames
    (error,) = [f for f in frames if isinstance(f, spdy.Data) and f.stream_id == 1 and f.data]
    assert json.loads(error.data)["message"] == (
        "command terminated with non-zero exit code: error executing command [exit 2], exit code 2"
    )
    assert frames[-1] == spdy.GoAway(7, 0)


def test_the_api_servers_checks_come_first(store: Store) -> None:
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="n", streams=Streams()))
    with TestClient(app, base_url="http://minikubelet") as api:

        def status(path: str) -> tuple[int, str]:
            answer = api.post(path)
            return answer.status_code, answer.json()["message"]

        assert status("/api/v1/namespaces/default/pods/nope/exec?command=x") == (
            404,
            'pods "nope" not found',
        )
        assert status(f"{EXEC}?command=x&stdout=true") == (
            400,
            "a container name must be specified for pod web, choose one of: [app stopped]",
        )
        assert status(f"{EXEC}?command=x&container=foo&stdout=true") == (
            400,
            "container foo is not valid for pod web",
        )
        assert status(f"{EXEC}?command=x&container=app") == (
            400,
            "you must specify at least 1 of stdin, stdout, stderr",
        )
        assert status(f"{EXEC}?command=x&container=app&stdout=1") == (
            400,
            "Upgrade request required",
        )


async def test_a_stopped_container_is_the_kubelets_500(tmp_path: Path, store: Store) -> None:
    async with serving(tmp_path, store) as path:
        stream, answer, _ = await upgrade(
            path, ws_head("command=x&container=stopped&stdout=true", "v5.channel.k8s.io")
        )
        await stream.aclose()
    assert answer.startswith(b"HTTP/1.1 500 ")


async def test_a_container_gone_after_the_upgrade_is_the_kubelets_internal_error(
    tmp_path: Path, store: Store
) -> None:
    async with serving(tmp_path, store) as path:
        query = "command=gone&container=app&stdout=true"
        got = await ws_session(path, query, "v5.channel.k8s.io", [])
    error = "error executing command in container: Container id-app is not running"
    status = {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {error}",
        "reason": "InternalError",
        "details": {"causes": [{"message": error}]},
        "code": 500,
    }
    assert got == [b"\x03" + json.dumps(status, separators=(",", ":")).encode(), 1000]


async def test_attach_carries_stdin_and_ends_in_success(tmp_path: Path, store: Store) -> None:
    """Attach is exec without a command, to the container's own process; the kubelet reports
    Success when the stream ends (ServeAttach), whatever the process's exit code."""
    attach = EXEC.replace("/exec", "/attach")
    async with serving(tmp_path, store) as path:
        query = "container=app&stderr=true&stdin=true&stdout=true"
        got = await ws_session(
            path, query, "v5.channel.k8s.io", [b"\x00abc\n", b"\xff\x00"], attach
        )
    assert got == [
        b"\x01",
        b"\x01abc\n",
        b"\x01bye\n",
        b'\x03{"metadata":{},"status":"Success"}',
        1000,
    ]


def _ended_pod(store: Store) -> str:
    """A pod `term` whose container `ended` exits as the client's input arrives; its attach."""
    meta = {"name": "term", "namespace": "default", "uid": "u2"}
    spec = {"nodeName": "n", "containers": [{"name": "ended"}]}
    store.create("Pod", {"metadata": meta, "spec": spec})
    return EXEC.replace("/web/exec", "/term/attach")


async def test_a_process_gone_before_the_clients_input_still_ends_the_session_well(
    tmp_path: Path, store: Store
) -> None:
    """kubectl sends a resize (and maybe keystrokes) the process does not live to see: they are
    dropped, and the session still ends in its output, Success and close 1000 (it was cut
    with no close frame, so kubectl debug fell back to logs: `close 1006`)."""
    attach = _ended_pod(store)
    async with serving(tmp_path, store) as path:
        query = "container=ended&stdin=true&stdout=true&tty=true"
        sends: list[bytes | str] = [b"\x00x", b'\x04{"Width":111,"Height":33}']
        got = await ws_session(path, query, "v5.channel.k8s.io", sends, attach)
    assert got == [
        b"\x01",
        b"\x01exit\r\n",
        b'\x03{"metadata":{},"status":"Success"}',
        1000,
    ]


async def test_spdy_drops_input_the_process_does_not_live_to_see(
    tmp_path: Path, store: Store
) -> None:
    head = (
        f"POST {_ended_pod(store)}?container=ended&stdin=true&stdout=true&tty=true"
        " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
        "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
    )
    async with serving(tmp_path, store) as path:
        opened = [(1, "error"), (3, "stdin"), (5, "stdout"), (7, "resize")]
        sent = [spdy.Data(3, b"x"), spdy.Data(3, b"y")]
        sent.append(spdy.Data(7, b'{"Width":111,"Height":33}\n'))
        _, frames = await spdy_session(path, head, opened, sent)
    assert spdy.Data(5, b"exit\r\n") in frames and spdy.Data(5, b"", fin=True) in frames
    assert spdy.Data(1, b"", fin=True) in frames  # v4 success: an empty error stream
    assert frames[-1] == spdy.GoAway(7, 0)


def test_attach_checks_as_exec(store: Store) -> None:
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="n", streams=Streams()))
    attach = EXEC.replace("/exec", "/attach")
    with TestClient(app, base_url="http://minikubelet") as api:
        for query, message in [
            ("container=foo&stdout=true", "container foo is not valid for pod web"),
            ("container=app", "you must specify at least 1 of stdin, stdout, stderr"),
            ("container=app&stdout=1", "Upgrade request required"),
        ]:
            answer = api.get(f"{attach}?{query}")
            assert (answer.status_code, answer.json()["message"]) == (400, message)
