"""Port-forward through the whole server to a local echo server: SPDY stream pairs, the
WebSocket tunnel (SPDY split across messages) and the channel protocol with `?ports=`."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage

from minikubelet.server.streams import spdy
from minikubelet.server.streams.portforward import parse_ports
from minikubelet.store import Store
from tests.server.streams.test_exec_sessions import serving, upgrade

pytestmark = pytest.mark.anyio
PF = "/api/v1/namespaces/default/pods/web/portforward"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_ports_parse_as_the_api_server_does() -> None:
    assert parse_ports(["8080,9090", "1"]) == [8080, 9090, 1]
    with pytest.raises(ValueError, match="cannot convert"):
        parse_ports(["70000"])


@asynccontextmanager
async def echo_server() -> AsyncIterator[int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")

    async def echo(conn: anyio.abc.SocketStream) -> None:
        async with conn:
            try:
                while True:
                    await conn.send(b"echo:" + await conn.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, echo)
        yield listener.extra(anyio.abc.SocketAttribute.local_port)
        tg.cancel_scope.cancel()


async def spdy_exchange(
    send: anyio.abc.ByteStream | None, stream: anyio.abc.ByteStream, port: int, rest: bytes
) -> list[spdy.Frame]:
    """Open an error+data pair for `port`, send "hi", read until the echo and the FINs."""
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    headers = {"port": [str(port)], "requestid": ["0"]}
    out = writer.encode(spdy.SynStream(1, {"streamtype": ["error"], **headers}))
    out += writer.encode(spdy.SynStream(3, {"streamtype": ["data"], **headers}))
    out += writer.encode(spdy.Data(3, b"hi")) + writer.encode(spdy.Data(3, b"", fin=True))
    await (send or stream).send(out)
    frames = reader.feed(rest)
    with anyio.fail_after(5):
        while spdy.Data(3, b"", fin=True) not in frames and not any(
            isinstance(f, spdy.RstStream) for f in frames
        ):
            frames += reader.feed(await stream.receive())
    return frames


async def test_spdy_pairs_reach_the_port(tmp_path: Path, store: Store) -> None:
    head = (
        f"POST {PF} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
        "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n"
    )
    async with echo_server() as port, serving(tmp_path, store) as path:
        stream, answer, rest = await upgrade(path, head)
        async with stream:
            assert b"x-stream-protocol-version: portforward.k8s.io" in answer
            frames = await spdy_exchange(None, stream, port, rest)
    assert frames[:2] == [spdy.SynReply(1, {}), spdy.SynReply(3, {})]
    assert spdy.Data(3, b"echo:hi") in frames


async def test_a_closed_port_writes_the_error_and_resets(tmp_path: Path, store: Store) -> None:
    head = (
        f"POST {PF} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
        "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n"
    )
    async with echo_server() as port, serving(tmp_path, store) as path:
        stream, _, rest = await upgrade(path, head)
        async with stream:
            frames = await spdy_exchange(None, stream, port + 1 if port < 65535 else 1, rest)
    (error,) = [f for f in frames if isinstance(f, spdy.Data) and f.stream_id == 1]
    assert error.data.startswith(b"error forwarding port ") and b"to pod sandbox-1, uid : " in (
        error.data
    )
    assert spdy.RstStream(1, spdy.CANCEL) in frames and spdy.RstStream(3, spdy.CANCEL) in frames


class _Tunnel(anyio.abc.ByteStream):
    """The client's side of kubectl's tunnel: each write split into 3-byte messages."""

    def __init__(self, stream: anyio.abc.ByteStream, rest: bytes) -> None:
        self.stream, self.ws = stream, Connection(ConnectionType.CLIENT, trailing_data=rest)

    async def send(self, item: bytes) -> None:
        for at in range(0, len(item), 3):
            await self.stream.send(self.ws.send(BytesMessage(item[at : at + 3])))
        await self.stream.send(self.ws.send(BytesMessage(b"")))  # empty messages happen too

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while True:
            for event in self.ws.events():
                if isinstance(event, BytesMessage):
                    return bytes(event.data)
            self.ws.receive_data(await self.stream.receive())

    async def send_eof(self) -> None:
        return

    async def aclose(self) -> None:
        await self.stream.aclose()


def ws_head(path: str, protocol: str) -> str:
    return (
        f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
    )


async def test_the_websocket_tunnel_carries_a_spdy_session(tmp_path: Path, store: Store) -> None:
    async with echo_server() as port, serving(tmp_path, store) as path:
        stream, answer, rest = await upgrade(path, ws_head(PF, "SPDY/3.1+portforward.k8s.io"))
        assert b"sec-websocket-protocol: SPDY/3.1+portforward.k8s.io" in answer
        tunnel = _Tunnel(stream, rest)
        async with tunnel:
            frames = await spdy_exchange(tunnel, tunnel, port, b"")
    assert spdy.Data(3, b"echo:hi") in frames


async def test_websocket_channels_with_ports(tmp_path: Path, store: Store) -> None:
    async with echo_server() as port, serving(tmp_path, store) as path:
        query = f"{PF}?ports={port}"
        stream, _, rest = await upgrade(path, ws_head(query, "v4.channel.k8s.io"))
        client = Connection(ConnectionType.CLIENT, trailing_data=rest)
        await stream.send(client.send(BytesMessage(b"\x00hello")))
        got: list[bytes] = []
        async with stream:
            with anyio.fail_after(5):
                while len(got) < 3:
                    for event in client.events():
                        if isinstance(event, BytesMessage):
                            got.append(bytes(event.data))
                    if len(got) < 3:
                        client.receive_data(await stream.receive())
    prefix = struct.pack("<H", port)
    assert got == [b"\x00" + prefix, b"\x01" + prefix, b"\x00echo:hello"]


async def test_minikubelet_port_forward_gets_the_pods_socket(tmp_path: Path, store: Store) -> None:
    """The `minikubelet-socket` upgrade: the node dials, the CLI gets the connected socket
    over the UNIX socket and talks to the port itself; a dial that fails is a 500 with the
    error stream's words."""
    from minikubelet.cli.channels import UpgradeFailed
    from minikubelet.cli.portforward import receive_socket

    async with echo_server() as port, serving(tmp_path, store) as path:
        pod = await anyio.to_thread.run_sync(receive_socket, path, PF, port)
        with pod:

            def talk() -> bytes:
                pod.sendall(b"hi")
                return pod.recv(100)

            assert await anyio.to_thread.run_sync(talk) == b"echo:hi"
        closed = port + 1 if port < 65535 else 1
        with pytest.raises(UpgradeFailed) as refused:
            await anyio.to_thread.run_sync(receive_socket, path, PF, closed)
    assert refused.value.code == 500
    assert str(refused.value).startswith(f"error forwarding port {closed} to pod sandbox-1, uid : ")
