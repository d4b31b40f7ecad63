"""The server end of a SPDY/3.1 session, as Kubernetes' peers run it (moby/spdystream).

Clients open every stream (odd ids, increasing); the server answers each SYN_STREAM with an
empty SYN_REPLY, or RST_STREAM CANCEL when its handler refuses it. No flow control (spdystream
sends no WINDOW_UPDATE and ignores them), PINGs are echoed, a GOAWAY or the end of the byte
stream ends the session. Each `send` is one DATA frame; `close()` is an empty DATA with FIN.
streaming.md Part 3.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream

from minikubelet.server.streams import spdy

__all__ = ["SpdyConnection", "SpdyStream"]

# Our DATA frames carry at most this much: what one read of a pod's socket gives
# (`portforward._READ`), so a read is one frame. kubectl pays per frame (a few goroutine
# hand-offs each): 64 KiB frames cost it 6.7 ms of CPU per MiB in a tunnelled download, 256 KiB
# ones 1.2-4.0 ms, 1 MiB ones 1.1-1.2. SPDY allows 16 MiB; spdystream reads any length.
_CHUNK = 1 << 20


class SpdyStream:
    """One stream the client opened: its headers, its incoming data, our writes to it."""

    def __init__(self, conn: SpdyConnection, stream_id: int, headers: spdy.HeaderBlock) -> None:
        self.conn = conn
        self.id = stream_id
        self.headers = headers
        self._incoming: MemoryObjectSendStream[bytes]
        self._incoming, self._received = anyio.create_memory_object_stream[bytes](64)
        self.finished = False  # we sent FIN or RST

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    async def receive(self) -> bytes:
        """The next DATA payload; EndOfStream after the client's FIN or RST."""
        return await self._received.receive()

    async def send(self, data: bytes) -> None:
        for at in range(0, max(len(data), 1), _CHUNK):
            await self.conn.write_data(self.id, data[at : at + _CHUNK])

    async def close(self) -> None:
        if not self.finished:
            self.finished = True
            await self.conn.write(spdy.Data(self.id, b"", fin=True))

    async def reset(self, status: int = spdy.CANCEL) -> None:
        if not self.finished:
            self.finished = True
            await self.conn.write(spdy.RstStream(self.id, status))

    def _end_input(self) -> None:
        self._incoming.close()

    def _release(self) -> None:
        self._incoming.close()
        self._received.close()


class SpdyConnection:
    """Runs the session: `serve(accept)` reads frames until the client goes; `accept(stream)`
    says whether to reply to a new stream (True) or reset it, and may keep it."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._writer = spdy.FrameWriter()
        # fast_acquire: a free lock is taken without a trip through the event loop (anyio's
        # default yields on every acquire: a sixth of the agent's time relaying a download)
        self._lock = anyio.Lock(fast_acquire=True)
        # A WebSocket tunnel frames our head and payload without joining them first (one copy
        # of every payload less); other streams get them joined.
        self._send_parts: Callable[..., Awaitable[None]] = getattr(
            stream, "send_parts", self._joined
        )
        self._streams: dict[int, SpdyStream] = {}
        self._last_id = 0
        self.new_streams: MemoryObjectSendStream[SpdyStream]
        self.new_streams, self.accepted = anyio.create_memory_object_stream[SpdyStream](math.inf)
        self.closed = anyio.Event()

    async def write(self, frame: spdy.Frame) -> None:
        async with self._lock:
            await self._stream.send(self._writer.encode(frame))

    async def write_data(self, stream_id: int, data: bytes, fin: bool = False) -> None:
        """One DATA frame, the bytes `write(spdy.Data(...))` sends, with one copy less."""
        head = spdy.data_head(stream_id, len(data), fin)
        async with self._lock:
            await self._send_parts(head, data)

    async def _joined(self, *parts: bytes) -> None:
        await self._stream.send(b"".join(parts))

    async def serve(self, accept: Callable[[SpdyStream], bool] = lambda s: True) -> None:
        """Read until the client closes, sends GOAWAY or breaks the framing."""
        reader = spdy.FrameReader()
        try:
            while True:
                try:
                    data = await self._stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    return
                for frame in reader.feed(data):
                    if not await self._handle(frame, accept):
                        return
        except spdy.SpdyError:
            return
        finally:
            for stream in self._streams.values():
                stream._end_input()
            self.new_streams.close()
            self.closed.set()

    async def _handle(self, frame: spdy.Frame, accept: Callable[[SpdyStream], bool]) -> bool:
        match frame:
            case spdy.Data(stream_id, data, fin):
                stream = self._streams.get(stream_id)
                if stream is not None:  # data for a stream we never replied to is dropped
                    if data:
                        try:
                            await stream._incoming.send(data)
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                            pass
                    if fin:
                        stream._end_input()
            case spdy.SynStream(stream_id, headers):
                if stream_id <= self._last_id or stream_id % 2 == 0:
                    await self.write(spdy.RstStream(stream_id, spdy.PROTOCOL_ERROR))
                    return True
                self._last_id = stream_id
                stream = SpdyStream(self, stream_id, headers)
                if not accept(stream):
                    stream._release()
                    await stream.reset()
                    return True
                self._streams[stream_id] = stream
                await self.write(spdy.SynReply(stream_id, {}))
                if frame.fin:
                    stream._end_input()
                self.new_streams.send_nowait(stream)
            case spdy.RstStream(stream_id, _):
                found = self._streams.get(stream_id)
                if found is not None:
                    found.finished = True
                    found._end_input()
            case spdy.Ping(ping_id):
                await self.write(spdy.Ping(ping_id))
            case spdy.GoAway():
                return False
        return True

    async def aclose(self) -> None:
        """GOAWAY (last good stream id, status OK), then drop the connection."""
        try:
            with anyio.move_on_after(1):
                await self.write(spdy.GoAway(self._last_id, 0))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            for stream in self._streams.values():
                stream._release()
            self.new_streams.close()
            self.accepted.close()
            await self._stream.aclose()
