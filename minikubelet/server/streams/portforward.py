"""Port-forward sessions: SPDY `portforward.k8s.io` (directly, or tunnelled in a WebSocket as
`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+'s first try) and the WebSocket channel protocol
with `?ports=` (the Python client).

SPDY: per forwarded connection the client opens an `error` and a `data` stream with the same
`port` and `requestID` headers; once both exist the node dials localhost:port inside the pod
and copies both ways on the data stream. A dial that fails writes the runtime's words to the
error stream and resets both (kubectl then drops the whole session: `lost connection to pod`).
WebSocket channels: for the i-th port, channel 2i carries data and 2i+1 errors; each starts
with the port as a little-endian uint16. kubelet `cri/streaming/portforward`; streaming.md
§3.5, Part 4, Part 8.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc

from minikubelet.errors import RuntimeFailure
from minikubelet.server.streams import channels
from minikubelet.server.streams.spdy_conn import SpdyConnection, SpdyStream
from minikubelet.server.streams.websocket import WebSocket

__all__ = ["TunnelStream", "accept_stream", "parse_ports", "serve_spdy", "serve_websocket"]

Dial = Callable[[int], Awaitable[anyio.abc.ByteStream]]
# What one read from the pod's socket may take (`runtime._netns.PodSocketStream` returns what
# the socket holds, up to this): each read is relayed as one frame, and the agent and kubectl
# both pay per frame. Relaying a download, 64 KiB frames ran at a fifth of the direct rate,
# 256 KiB ones cost the agent 1.2-1.3 ms of CPU per MiB and kubectl 1.2-1.3, 1 MiB ones
# 0.84-0.92 and 1.1-1.2; 2 MiB ones cost the agent 2.3 (glibc maps each such buffer afresh).
_READ = 1 << 20
_CLOSED = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream, OSError)


def parse_ports(values: list[str]) -> list[int]:
    """`?ports=8080,9090` (repeatable): unsigned 16-bit numbers, as the API server parses them."""
    ports: list[int] = []
    for value in values:
        for word in value.split(","):
            try:
                port = int(word)
            except ValueError:
                port = -1
            if not 0 <= port <= 0xFFFF:
                raise ValueError(f"cannot convert to []int32: {word!r}")
            ports.append(port)
    return ports


def accept_stream(stream: SpdyStream) -> bool:
    """The kubelet refuses (resets) a stream without a valid port or stream type."""
    port = stream.header("port") or ""
    return port.isdigit() and int(port) > 0 and stream.header("streamtype") in ("error", "data")


async def _copy_to_upstream(stream: SpdyStream, upstream: anyio.abc.ByteStream) -> None:
    try:
        while True:
            await upstream.send(await stream.receive())
    except anyio.EndOfStream:
        pass
    finally:
        try:
            await upstream.send_eof()
        except _CLOSED:
            pass


async def _forward(
    error: SpdyStream, data: SpdyStream, port: int, dial: Dial, sandbox: str
) -> None:
    try:
        upstream = await dial(port)
    except RuntimeFailure as exc:
        message = f"error forwarding port {port} to pod {sandbox}, uid : {exc}"
        try:
            await error.send(message.encode())
            await error.reset()
            await data.reset()
        except _CLOSED:
            pass
        return
    async with upstream, anyio.create_task_group() as tg:
        tg.start_soon(_copy_to_upstream, data, upstream)
        try:
            while True:
                await data.send(await upstream.receive(_READ))
        except _CLOSED:
            pass
        try:
            await data.close()
            await error.close()
        except _CLOSED:
            pass
        tg.cancel_scope.cancel()


async def serve_spdy(conn: SpdyConnection, dial: Dial, sandbox: str) -> None:
    """Pair the streams the client opens and forward each pair, until the connection ends."""
    waiting: dict[str, dict[str, SpdyStream]] = {}
    async with anyio.create_task_group() as tg:
        async for stream in conn.accepted:
            kind = stream.header("streamtype") or ""
            request = stream.header("requestid") or str(stream.id - (2 if kind == "data" else 0))
            pair = waiting.setdefault(request, {})
            pair[kind] = stream
            if "error" in pair and "data" in pair:
                del waiting[request]
                port = int(pair["data"].header("port") or 0)
                tg.start_soon(_forward, pair["error"], pair["data"], port, dial, sandbox)
        tg.cancel_scope.cancel()


class TunnelStream(anyio.abc.ByteStream):
    """The byte stream a WebSocket tunnel carries: binary messages are arbitrary slices of the
    SPDY session (a frame may span many, a message may be empty)."""

    def __init__(self, ws: WebSocket) -> None:
        self._ws = ws

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while True:
            message = await self._ws.receive()
            if message is None:
                raise anyio.EndOfStream
            if isinstance(message, str):
                raise anyio.BrokenResourceError("invalid message type received")
            if message:
                return message

    async def send(self, item: bytes) -> None:
        await self._ws.send(item)

    async def send_parts(self, *parts: bytes) -> None:
        """One binary message of the parts (a SPDY frame's head and payload), joined once."""
        await self._ws.send_binary(*parts)

    async def send_eof(self) -> None:
        return

    async def aclose(self) -> None:
        await self._ws.close()


async def serve_websocket(
    ws: WebSocket, protocol: str, ports: list[int], dial: Dial, sandbox: str
) -> None:
    """The channel protocol: one connection per requested port for the life of the WebSocket."""

    async def send(channel: int, data: bytes) -> None:
        if channels.is_binary(protocol):
            await ws.send_binary(bytes((channel,)), data)
        else:
            await ws.send(channels.encode(protocol, channel, data))

    upstreams: dict[int, anyio.abc.ByteStream] = {}
    for index, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        await send(2 * index, prefix)
        await send(2 * index + 1, prefix)
    for index, port in enumerate(ports):  # before reading: the client may send at once
        try:
            upstreams[index] = await dial(port)
        except RuntimeFailure as exc:
            text = f"error forwarding port {port} to pod {sandbox}, uid : {exc}"
            await send(2 * index + 1, text.encode())

    async def pump(index: int, upstream: anyio.abc.ByteStream) -> None:
        try:
            while True:
                await send(2 * index, await upstream.receive(_READ))
        except _CLOSED:
            pass

    async with anyio.create_task_group() as tg:

        async def read_client() -> None:
            while (message := await ws.receive()) is not None:
                frame = channels.decode(protocol, message)
                if frame is None or frame.channel % 2 or frame.channel // 2 >= len(ports):
                    continue
                upstream = upstreams.get(frame.channel // 2)
                if upstream is not None and frame.data:
                    try:
                        await upstream.send(frame.data)
                    except _CLOSED:
                        pass
            tg.cancel_scope.cancel()

        tg.start_soon(read_client)
        async with anyio.create_task_group() as pumps:
            for index, upstream in upstreams.items():
                pumps.start_soon(pump, index, upstream)
        tg.cancel_scope.cancel()
    for upstream in upstreams.values():
        await upstream.aclose()
    await ws.close()
