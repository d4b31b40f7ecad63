"""The server end of a WebSocket, from frames written by hand after RFC 6455 §5 and the bytes
kubectl 1.32 exchanged with a fake API server (streaming.md §2.7)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest

from minikubelet.server.streams.channels import REMOTECOMMAND_PROTOCOLS
from minikubelet.server.streams.websocket import HandshakeError, WebSocket, accept

pytestmark = pytest.mark.anyio
H = bytes.fromhex
MASK = H("37fa213d")  # RFC 6455 §5.7's example key


def client_frame(first: int, payload: bytes) -> bytes:
    """A masked client frame: FIN/opcode byte, MASK bit + length, key, masked payload."""
    assert len(payload) < 126
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes((first, 0x80 | len(payload))) + MASK + masked


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def pair() -> AsyncIterator[tuple[WebSocket, anyio.abc.SocketStream]]:
    ours, theirs = socket.socketpair()
    server = await anyio.abc.UNIXSocketStream.from_socket(ours)
    client = await anyio.abc.UNIXSocketStream.from_socket(theirs)
    async with server, client:
        yield WebSocket(server), client


async def read_exactly(stream: anyio.abc.SocketStream, n: int) -> bytes:
    data = b""
    with anyio.fail_after(5):
        while len(data) < n:
            data += await stream.receive(n - len(data))
    return data


def handshake(*protocols: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
    ]
    return headers + [(b"sec-websocket-protocol", p.encode()) for p in protocols]


def test_handshake_answers_the_rfc_example_and_echoes_the_protocol() -> None:
    protocol, answer = accept(handshake("v5.channel.k8s.io"), REMOTECOMMAND_PROTOCOLS)
    assert protocol == "v5.channel.k8s.io"
    assert (b"sec-websocket-accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") in answer
    assert (b"sec-websocket-protocol", b"v5.channel.k8s.io") in answer


def test_handshake_refusals() -> None:
    with pytest.raises(HandshakeError) as refused:
        accept(handshake("SPDY/3.1+portforward.k8s.io"), REMOTECOMMAND_PROTOCOLS)
    assert refused.value.status == 403
    with pytest.raises(HandshakeError) as bad:
        accept([(b"sec-websocket-version", b"8")], REMOTECOMMAND_PROTOCOLS)
    assert bad.value.status == 400


async def test_server_frames_are_unmasked_binary_and_the_close_is_1000() -> None:
    async with pair() as (ws, client):
        await ws.send(b"\x01")
        assert await read_exactly(client, 3) == H("820101")  # the empty stdout frame
        await ws.send(b"\x02to stderr\n")
        assert await read_exactly(client, 13) == H("820b02") + b"to stderr\n"
        async with anyio.create_task_group() as tg:
            tg.start_soon(ws.close)
            assert await read_exactly(client, 4) == H("880203e8")
            await client.send(client_frame(0x88, H("03e8")))


@pytest.mark.parametrize(
    ("size", "head"),
    [
        (125, "827d"),  # the length in the second byte
        (126, "827e007e"),  # 16-bit length
        (65535, "827effff"),
        (65536, "827f0000000000010000"),  # 64-bit length
    ],
)
async def test_binary_messages_of_every_length_form(size: int, head: str) -> None:
    """send_binary frames by itself (RFC 6455 §5.2): the parts joined, one unmasked frame."""
    async with pair() as (ws, client):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ws.send_binary, b"\x00", b"z" * (size - 1))
            frame = await read_exactly(client, len(H(head)) + size)
        assert frame == H(head) + b"\x00" + b"z" * (size - 1)


async def test_masked_client_messages_pings_and_fragments() -> None:
    async with pair() as (ws, client):
        await client.send(client_frame(0x82, H("006162630a")))  # stdin "abc\n"
        assert await ws.receive() == b"\x00abc\n"
        await client.send(client_frame(0x89, b""))  # PING, answered while we read
        await client.send(client_frame(0x82, H("ff00")))  # v5: stdin closed
        assert await ws.receive() == b"\xff\x00"
        assert await read_exactly(client, 2) == H("8a00")  # PONG
        await client.send(client_frame(0x01, b"\x00ab") + client_frame(0x80, b"c"))
        assert await ws.receive() == "\x00abc"  # a fragmented text message, whole


async def test_the_peers_close_is_answered_and_ends_receiving() -> None:
    async with pair() as (ws, client):
        await client.send(client_frame(0x88, H("03e8")))
        assert await ws.receive() is None
        assert await read_exactly(client, 4) == H("880203e8")
        with pytest.raises(anyio.BrokenResourceError):
            await ws.send(b"\x01late")


async def test_a_dropped_connection_ends_receiving() -> None:
    async with pair() as (ws, client):
        await client.aclose()
        assert await ws.receive() is None


class PartsRecorder:
    """A byte stream that can write several buffers at once, recording each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, ...]] = []

    async def send(self, item: bytes) -> None:
        self.calls.append((item,))

    async def send_parts(self, *parts: bytes) -> None:
        self.calls.append(parts)


async def test_the_payload_goes_out_as_it_is_beside_one_joined_head() -> None:
    """A relayed MiB is not copied for a head of a few bytes: the WebSocket head and all but
    the last part are one buffer, the payload (the same object) the other."""
    recorder = PartsRecorder()
    ws = WebSocket(recorder)  # type: ignore[arg-type]
    payload = b"z" * 65536
    await ws.send_binary(H("0000000100010000"), payload)
    [(head, sent)] = recorder.calls
    assert head == H("827f0000000000010008") + H("0000000100010000")
    assert sent is payload
