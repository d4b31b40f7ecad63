"""Upgrades through uvicorn: the app decides, auth holds, the connection is handed over."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from minikubelet.server.auth import TokenAuth
from minikubelet.server.streams.upgrade import Upgraded, UpgradingH11Protocol, upgrader

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def echo(request: Request) -> Response:
    upgrade = upgrader(request)
    if upgrade is None:
        return PlainTextResponse("Upgrade request required", status_code=400)
    stream = await upgrade([(b"connection", b"Upgrade"), (b"upgrade", b"SPDY/3.1")])
    async with stream:
        try:
            while True:
                await stream.send(b"echo:" + await stream.receive())
        except anyio.EndOfStream:
            await stream.send(b"bye")
    return Upgraded()


def make_app() -> Starlette:
    return Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])])


@asynccontextmanager
async def serving(tmp_path: Path, app: ASGIApp) -> AsyncIterator[str]:
    path = str(tmp_path / "s.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    config = uvicorn.Config(
        app, http=UpgradingH11Protocol, ws="none", lifespan="off", log_level="error"
    )  # as the agent runs it
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(5):
            while not server.started:
                await anyio.sleep(0.01)
        yield path
        server.should_exit = True


async def request(path: str, head: str) -> tuple[anyio.abc.SocketStream, bytes]:
    stream = await anyio.connect_unix(path)
    await stream.send(head.encode())
    answer = b""
    with anyio.fail_after(5):
        while b"\r\n\r\n" not in answer:
            answer += await stream.receive()
    return stream, answer


SPDY_UPGRADE = (
    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
    "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n{auth}\r\n"
)


async def test_a_spdy_upgrade_reaches_the_handler_and_gets_the_raw_connection(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, make_app()) as path:
        stream, answer = await request(path, SPDY_UPGRADE.format(auth=""))
        async with stream:
            assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
            assert b"upgrade: SPDY/3.1" in answer
            await stream.send(b"\x80\x03\x00\x06")
            with anyio.fail_after(5):
                assert await stream.receive() == b"echo:\x80\x03\x00\x06"
            await stream.send_eof()
            with anyio.fail_after(5):
                assert await stream.receive() == b"bye"


async def test_plain_requests_are_still_http(tmp_path: Path) -> None:
    async with serving(tmp_path, make_app()) as path:
        stream, answer = await request(path, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        async with stream:
            assert answer.startswith(b"HTTP/1.1 400 Bad Request")


async def test_without_the_token_nothing_is_switched(tmp_path: Path) -> None:
    async with serving(tmp_path, TokenAuth(make_app(), "secret")) as path:
        refused, answer = await request(path, SPDY_UPGRADE.format(auth="Authorization: x\r\n"))
        async with refused:
            assert answer.startswith(b"HTTP/1.1 401 Unauthorized")
        head = SPDY_UPGRADE.format(auth="Authorization: Bearer secret\r\n")
        accepted, answer = await request(path, head)
        async with accepted:
            assert answer.startswith(b"HTTP/1.1 101 ")


async def test_websocket_upgrades_are_http_requests_to_the_app_too(tmp_path: Path) -> None:
    async with serving(tmp_path, TokenAuth(make_app(), "secret")) as path:
        head = (
            "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        refused, answer = await request(path, head)
        async with refused:
            assert answer.startswith(b"HTTP/1.1 401 Unauthorized")
