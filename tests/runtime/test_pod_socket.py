"""`PodSocketStream`, the byte stream over a socket dialed into a pod (port-forward)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anyio
import pytest

from minikubelet.runtime._netns import PodSocketStream

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pair() -> Iterator[tuple[PodSocketStream, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    with theirs:
        yield PodSocketStream(ours), theirs
    ours.close()


async def test_a_read_takes_all_the_socket_holds_up_to_what_was_asked(
    pair: tuple[PodSocketStream, socket.socket],
) -> None:
    stream, peer = pair
    peer.sendall(b"a" * 150_000)  # what a socket pair's buffer holds without a reader
    with anyio.fail_after(5):
        assert await stream.receive(1 << 20) == b"a" * 150_000
        peer.sendall(b"bcd")
        assert await stream.receive(2) == b"bc"
        assert await stream.receive() == b"d"
        peer.shutdown(socket.SHUT_WR)
        with pytest.raises(anyio.EndOfStream):
            await stream.receive()


async def test_a_send_waits_for_room_and_delivers_everything(
    pair: tuple[PodSocketStream, socket.socket],
) -> None:
    stream, peer = pair
    payload = bytes(range(256)) * 16384  # 4 MiB: far more than the socket buffers

    def drain() -> bytes:
        got = bytearray()
        while len(got) < len(payload):
            got += peer.recv(1 << 20)
        return bytes(got)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            received: list[bytes] = []

            async def read() -> None:
                received.append(await anyio.to_thread.run_sync(drain))

            tg.start_soon(read)
            await stream.send(payload)
            await stream.send_eof()
    assert received == [payload]
    assert peer.recv(1) == b""  # our end's EOF


async def test_closing_wakes_a_waiting_reader_and_refuses_more(
    pair: tuple[PodSocketStream, socket.socket],
) -> None:
    stream, _ = pair
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            errors: list[BaseException] = []

            async def read() -> None:
                try:
                    await stream.receive()
                except anyio.ClosedResourceError as exc:
                    errors.append(exc)

            tg.start_soon(read)
            await anyio.wait_all_tasks_blocked()
            await stream.aclose()
    assert len(errors) == 1
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send(b"x")
    await stream.aclose()  # again: nothing


async def test_a_peer_that_resets_breaks_the_stream(
    pair: tuple[PodSocketStream, socket.socket],
) -> None:
    stream, peer = pair
    peer.close()
    with anyio.fail_after(5), pytest.raises(anyio.BrokenResourceError):
        for _ in range(100):  # the first sends may still be buffered
            await stream.send(b"x" * 65536)
    assert stream.extra(anyio.abc.SocketAttribute.family) == socket.AF_UNIX
