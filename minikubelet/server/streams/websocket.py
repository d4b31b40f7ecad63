"""The server end of a WebSocket (RFC 6455) over an upgraded connection.

The frames are wsproto's, not ours: masking, fragmentation, control frames in the middle of a
fragmented message, close handshakes and UTF-8 checks are easy to get subtly wrong, and wsproto
(python-hyper, the h11/h2 authors, and one of the two libraries uvicorn itself serves WebSockets
with) is a small, sans-I/O, well-kept state machine that fits a connection we already own after
the HTTP upgrade (see `upgrade.py` for why we own it). The handshake is checked here, with
the answers the API server gives.

PINGs are answered as they arrive (kubectl drops a session whose pings go unanswered for 61 s).

One exception, for speed: a binary message we send is framed here (`_binary_head`), not by
wsproto. A server's frame is the simple half of RFC 6455 (no mask; FIN, opcode, length), and
wsproto copies the payload three times per frame, which was a sixth of the agent's time in a
port-forward download (py-spy). wsproto keeps no state about whole messages it did not
fragment, so the two can write on the same connection.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Iterable

import anyio
import anyio.abc
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import CloseConnection, Message, Ping, TextMessage
from wsproto.utilities import LocalProtocolError, RemoteProtocolError, generate_accept_token

from minikubelet.server.streams.channels import negotiate, offered_protocols

__all__ = ["HandshakeError", "WebSocket", "accept"]

NORMAL_CLOSURE = 1000
_FIN_BINARY = 0x82


def _binary_head(size: int) -> bytes:
    """The head of one final, unmasked binary frame of `size` bytes (RFC 6455 §5.2)."""
    if size < 126:
        return struct.pack("!BB", _FIN_BINARY, size)
    if size < 1 << 16:
        return struct.pack("!BBH", _FIN_BINARY, 126, size)
    return struct.pack("!BBQ", _FIN_BINARY, 127, size)


class HandshakeError(Exception):
    """A WebSocket upgrade refused before the 101; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in headers if k.lower() == name]


def accept(
    headers: Iterable[tuple[bytes, bytes]], supported: Iterable[str]
) -> tuple[str, list[tuple[bytes, bytes]]]:
    """Check a WebSocket upgrade request; return (protocol, the 101's headers).

    The protocol is the first one offered that we support ("" if none was offered). A mismatch
    is 403 with no body, as the Go x/net websocket server answers (streaming.md §1.2)."""
    headers = list(headers)
    keys = _values(headers, b"sec-websocket-key")
    if _values(headers, b"sec-websocket-version") != ["13"] or len(keys) != 1:
        raise HandshakeError(400, "bad WebSocket handshake")
    protocol = negotiate(offered_protocols(_values(headers, b"sec-websocket-protocol")), supported)
    if protocol is None:
        raise HandshakeError(403, "")
    answer = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-accept", generate_accept_token(keys[0].encode())),
    ]
    if protocol:
        answer.append((b"sec-websocket-protocol", protocol.encode()))
    return protocol, answer


class WebSocket:
    """Messages over a byte stream that has already switched protocols.

    `receive()` returns whole messages (bytes or str) and None once the peer closed or the
    connection ended; `send()` is safe from several tasks; `close()` sends a close frame and
    waits briefly for the peer's."""

    def __init__(self, stream: anyio.abc.ByteStream, initial: bytes = b"") -> None:
        self._stream = stream
        self._ws = Connection(ConnectionType.SERVER, trailing_data=initial)
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._send_parts: Callable[..., Awaitable[None]] | None = getattr(
            stream, "send_parts", None
        )
        self._parts: list[bytes | str] = []
        self._ended = False

    async def _write(self, data: bytes) -> None:
        async with self._send_lock:
            await self._stream.send(data)

    async def send(self, message: bytes | str) -> None:
        if isinstance(message, bytes):
            await self.send_binary(message)
            return
        if self._ws.state is not ConnectionState.OPEN:
            raise anyio.BrokenResourceError("the WebSocket is closing")
        await self._write(self._ws.send(TextMessage(message)))

    async def send_binary(self, *parts: bytes) -> None:
        """One binary message of the parts: the frame head joined with all but the last part
        (a channel byte, a SPDY frame's head), the last (the payload) written as it is where
        the stream can write several buffers at once (`send_parts`), else joined."""
        if self._ws.state is not ConnectionState.OPEN:
            raise anyio.BrokenResourceError("the WebSocket is closing")
        *heads, payload = parts
        head = b"".join((_binary_head(sum(map(len, parts))), *heads))
        async with self._send_lock:
            if self._send_parts is not None:
                await self._send_parts(head, payload)
            else:
                await self._stream.send(head + payload)

    async def receive(self) -> bytes | str | None:
        while True:
            for event in self._ws.events():
                if isinstance(event, Ping):
                    await self._write(self._ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    if self._ws.state is ConnectionState.REMOTE_CLOSING:
                        await self._write(self._ws.send(event.response()))
                    self._ended = True
                    return None
                elif isinstance(event, Message):
                    self._parts.append(event.data)
                    if event.message_finished:
                        parts, self._parts = self._parts, []
                        if isinstance(event, TextMessage):
                            return "".join(str(p) for p in parts)
                        return b"".join(p for p in parts if isinstance(p, bytes))
            if self._ended:
                return None
            try:
                data = await self._stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                self._ended = True
                return None
            try:
                self._ws.receive_data(data)
            except RemoteProtocolError:
                self._ended = True
                return None

    async def close(self, code: int = NORMAL_CLOSURE, wait: float = 1.0) -> None:
        """Send the close frame; wait up to `wait` s for the peer's, then drop the connection."""
        try:
            if self._ws.state is ConnectionState.OPEN:
                await self._write(self._ws.send(CloseConnection(code=code)))
                with anyio.move_on_after(wait):
                    while await self.receive() is not None:
                        pass
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        except LocalProtocolError:
            pass
        finally:
            await self._stream.aclose()
