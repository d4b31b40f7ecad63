"""The engine's API on its UNIX socket, framed by h11 (runtime/_engine_http.py): the requests
as the SDK writes them, the answers as the engine frames them (Content-Length, chunked, 101),
and its errors in its own words, translated as the runtime translates the SDK's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from minikubelet.errors import ContainerNotFound, RuntimeFailure
from minikubelet.runtime._engine_http import EngineError, EngineHTTP, unix_socket_path
from minikubelet.runtime._exec_stream import engine_exec
from minikubelet.runtime._sessions import engine_failure

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def engine(tmp_path: Path, answers: list[bytes]) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A UNIX socket that answers each connection with the next canned bytes (split in two
    writes, as a slow engine might) and records what each request sent. (asyncio's server:
    anyio's UNIX listener trips over its own cancellation at the end of a test.)"""
    path = str(tmp_path / "engine.sock")
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        seen.append(head + await reader.readexactly(length))
        answer = answers.pop(0)
        for part in (answer[:20], answer[20:]):
            writer.write(part)
            await writer.drain()
        await reader.read()  # until the client closes (an upgraded stream stays open)
        writer.close()

    server = await asyncio.start_unix_server(serve, path)
    try:
        yield path, seen
    finally:
        server.close()


def test_the_socket_is_the_sdks() -> None:
    assert unix_socket_path({}) == "/var/run/docker.sock"
    assert unix_socket_path({"DOCKER_HOST": "unix:///run/podman/podman.sock"}) == (
        "/run/podman/podman.sock"
    )
    assert unix_socket_path({"DOCKER_HOST": "tcp://10.0.0.1:2375"}) is None


async def test_create_and_start_write_what_the_sdk_writes(tmp_path: Path) -> None:
    created = b'{"Id":"e1"}\n'
    answers = [
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(created)
        + created,
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi",
    ]
    async with engine(tmp_path, answers) as (path, seen):
        exec_id, stream, initial = await engine_exec(
            EngineHTTP(path, "1.41"), "c0ffee", ["sh", "-c", "echo hi"], stdin=False, tty=False
        )
        async with stream:
            output = initial
            while len(output) < 10:
                output += await stream.receive()
    assert exec_id == "e1"
    assert output == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    create, start = seen
    assert create.startswith(b"POST /v1.41/containers/c0ffee/exec HTTP/1.1\r\n")
    assert create.endswith(
        b'{"Container": "c0ffee", "User": "", "Privileged": false, "Tty": false, '
        b'"AttachStdin": false, "AttachStdout": true, "AttachStderr": true, '
        b'"Cmd": ["sh", "-c", "echo hi"]}'
    )
    assert b"Content-Type: application/json\r\n" in create
    assert start.startswith(b"POST /v1.41/exec/e1/start HTTP/1.1\r\n")
    assert b"Connection: Upgrade\r\nUpgrade: tcp\r\n" in start
    assert start.endswith(b'{"Tty": false, "Detach": false}')


async def test_a_chunked_answer_is_read_whole(tmp_path: Path) -> None:
    answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'6\r\n{"Runn\r\n14\r\ning":false,"ExitCode\r\n4\r\n":3}\r\n0\r\n\r\n'
    ]
    async with engine(tmp_path, answers) as (path, seen):
        found = await EngineHTTP(path, "1.41").json("GET", "/exec/e1/json")
    assert found == {"Running": False, "ExitCode": 3}
    assert seen[0].startswith(b"GET /v1.41/exec/e1/json HTTP/1.1\r\nHost: docker\r\n\r\n")


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, "No such container: c0ffee", ContainerNotFound),
        (409, "Container c0ffee is not running", RuntimeFailure),
        (409, "container is dead or marked for removal", ContainerNotFound),
    ],
)
async def test_errors_are_the_engines_words(
    tmp_path: Path, status: int, message: str, kind: type[RuntimeFailure]
) -> None:
    body = b'{"message":"%s"}\n' % message.encode()
    answers = [b"HTTP/1.1 %d Oops\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body]
    async with engine(tmp_path, answers) as (path, _):
        with pytest.raises(EngineError) as caught:
            await EngineHTTP(path, "1.41").upgrade("/exec/e1/start", {"Tty": False})
    assert (caught.value.status, caught.value.message) == (status, message)
    translated = engine_failure(caught.value)
    assert type(translated) is kind
    assert str(translated) == message


async def test_no_engine_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        await EngineHTTP(str(tmp_path / "none.sock"), "1.41").json("GET", "/version")
