"""How an upgraded connection (WebSocket, SPDY/3.1) reaches our code through uvicorn.

uvicorn hands a WebSocket upgrade to its own WebSocket protocol (an ASGI `websocket` scope) and
has no way at all to take over a connection for any other protocol: a `POST` with `Upgrade:
SPDY/3.1` would only ever get an HTTP response. kubectl needs both on the same paths, and a
SPDY session over the port-forward tunnel even needs SPDY *inside* a WebSocket. So every
upgrade takes one road instead of two:

- `UpgradingH11Protocol` (passed to uvicorn as its `http` protocol class) leaves upgrade
  requests with the ASGI app as ordinary `http` requests, so the same middleware (the bearer
  token of the HTTPS listener), routing and Status errors apply before anything is switched;
- it adds `scope["extensions"]["minikubelet.upgrade"]`, an async callable; a handler that has
  decided to accept calls it with the 101's headers and gets the raw connection back as an
  anyio `ByteStream` (TLS already terminated by uvicorn's transport), then runs the session
  over it (wsproto for WebSocket framing, our SPDY framer for SPDY) and returns `Upgraded()`.

Auth holds because nothing is switched before the app's middleware ran: the UNIX socket (mode
0600) or the HTTPS listener's token. The ASGI `websocket` scope, which that middleware would
wave through, is never used. Taking the transport from h11 is done with asyncio's
`transport.set_protocol`, the same move uvicorn makes for its own WebSocket upgrade.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import h11
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "EXTENSION",
    "TransportStream",
    "Upgraded",
    "UpgradingH11Protocol",
    "from_unix_peer",
    "upgrader",
]

EXTENSION = "minikubelet.upgrade"
UNIX_PEER = "minikubelet.unix-peer"  # True when the request came over the UNIX socket
Upgrade = Callable[[list[tuple[bytes, bytes]]], Awaitable["TransportStream"]]
_HIGH_WATER = 1 << 20  # buffered and unread (or unsent) past this, stop reading (or wait)


def upgrader(request: Request) -> Upgrade | None:
    """The request's upgrade callable, or None when it is no upgrade (or not from uvicorn)."""
    found: Upgrade | None = request.scope.get("extensions", {}).get(EXTENSION)
    return found


def from_unix_peer(request: Request) -> bool:
    """Whether the upgrade request came over the agent's UNIX socket (not HTTPS)."""
    return bool(request.scope.get("extensions", {}).get(UNIX_PEER))


class Upgraded(Response):
    """What a handler returns after it took the connection over: nothing more is sent."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return


class UpgradingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with upgrades left to the app (see the module docstring)."""

    def _should_upgrade(self) -> bool:
        if self._get_upgrade() is not None:
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[EXTENSION] = self._switch
            sock = self.transport.get_extra_info("socket")
            extensions[UNIX_PEER] = sock is not None and sock.family == socket.AF_UNIX
        return False

    async def _switch(self, headers: list[tuple[bytes, bytes]]) -> TransportStream:
        cycle = self.cycle
        while cycle.more_body and not cycle.disconnected:  # an upgrade request has no body
            await cycle.message_event.wait()
            cycle.message_event.clear()
        if cycle.disconnected or cycle.response_started:
            raise anyio.BrokenResourceError("the client went away before the upgrade")
        switching = h11.InformationalResponse(
            status_code=101, headers=headers, reason=b"Switching Protocols"
        )
        self.transport.write(self.conn.send(switching))
        cycle.response_started = cycle.response_complete = True
        trailing, _ = self.conn.trailing_data
        self._unset_keepalive_if_required()
        self.connections.discard(self)  # no longer an HTTP connection to drain on shutdown
        protocol = _StreamProtocol(self.transport)
        self.transport.set_protocol(protocol)
        # asyncio's default (64 KiB) would make every large frame wait for the peer to read it
        self.transport.set_write_buffer_limits(high=_HIGH_WATER)
        if trailing:
            protocol.data_received(bytes(trailing))
        self.transport.resume_reading()  # h11 paused it when the request asked to switch
        return TransportStream(protocol)


class _StreamProtocol(asyncio.Protocol):
    """The switched connection's bytes, buffered with back-pressure both ways."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.reading_paused = False
        self.readable = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.readable.set()
        if len(self.buffer) > _HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self.readable.set()
        # Keep our half open (the session still writes its last frames); TLS cannot half-close.
        return self.transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = self.lost = True
        self.readable.set()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class TransportStream(anyio.abc.ByteStream):
    """An anyio byte stream over a switched asyncio transport."""

    def __init__(self, protocol: _StreamProtocol) -> None:
        self._p = protocol

    async def receive(self, max_bytes: int = 65536) -> bytes:
        p = self._p
        while not p.buffer:
            if p.eof:
                raise anyio.EndOfStream
            p.readable.clear()
            await p.readable.wait()
        data = bytes(p.buffer[:max_bytes])
        del p.buffer[:max_bytes]
        if p.reading_paused and len(p.buffer) < _HIGH_WATER // 4 and not p.lost:
            p.reading_paused = False
            p.transport.resume_reading()
        return data

    async def send(self, item: bytes) -> None:
        await self.send_parts(item)

    async def send_parts(self, *parts: bytes) -> None:
        """`send` of the parts in order, without joining them first: over TLS each is
        encrypted from where it lies (a relayed MiB is not copied once more for a frame head
        of a few bytes)."""
        p = self._p
        if p.lost or p.transport.is_closing():
            raise anyio.BrokenResourceError("the connection is closed")
        if len(parts) == 1:
            p.transport.write(parts[0])
        else:
            p.transport.writelines(parts)
        await p.writable.wait()
        if p.lost:
            raise anyio.BrokenResourceError("the connection is closed")

    async def send_eof(self) -> None:
        if self._p.transport.can_write_eof():
            self._p.transport.write_eof()

    async def send_socket(self, sock: socket.socket) -> None:
        """Pass a descriptor to the peer (SCM_RIGHTS, with one byte), once what was written
        before it has gone out; only on a UNIX socket."""
        p = self._p
        p.transport.set_write_buffer_limits(high=0)  # writable again only once all is sent
        await p.writable.wait()
        own = p.transport.get_extra_info("socket")
        if p.lost or own is None:
            raise anyio.BrokenResourceError("the connection is closed")
        # A copy of the connection's descriptor: asyncio's own socket object refuses I/O.
        with socket.socket(fileno=os.dup(own.fileno())) as copy:
            copy.setblocking(True)
            socket.send_fds(copy, [b"\0"], [sock.fileno()])

    async def aclose(self) -> None:
        self._p.transport.close()
