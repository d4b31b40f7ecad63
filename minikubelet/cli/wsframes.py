"""RFC 6455 frames for the CLI's end of a session: masked frames out, the agent's frames in.

The CLI talks only to its own agent, whose frames wsproto writes (`server/streams/websocket`):
this small codec is what a client needs of the protocol (data, continuation, ping, close), and
it spares every `minikubelet exec` the import of wsproto and h11 (about 100 ms here). Lengths
are packed with `int.to_bytes`/`from_bytes`, not `struct` (another module every exec would load).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

__all__ = ["BINARY", "CLOSE", "PING", "PONG", "TEXT", "FrameReader", "encode"]

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def _mask(data: bytes, key: bytes) -> bytes:
    if not data:
        return data
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode(opcode: int, payload: bytes = b"", *, key: bytes | None = None) -> bytes:
    """One final frame, masked as a client's must be (RFC 6455 §5.3)."""
    key = key if key is not None else os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + key + _mask(payload, key)


class FrameReader:
    """Whole messages (opcode, payload) from the bytes received, fragments joined; control
    frames (ping, close) come out as they arrive, between fragments too."""

    def __init__(self, initial: bytes = b"") -> None:
        self._buffer = bytearray(initial)
        self._at = 0  # where the next frame starts; the bytes before it are consumed
        self._opcode = 0
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        if self._at:  # drop what was consumed once per feed, not once per frame
            del self._buffer[: self._at]
            self._at = 0
        self._buffer += data
        while (frame := self._frame()) is not None:
            fin, opcode, payload = frame
            if opcode >= CLOSE:
                yield opcode, payload
                continue
            if opcode != CONTINUATION:
                self._opcode, self._parts = opcode, []
            self._parts.append(payload)
            if fin:
                parts = self._parts
                yield self._opcode, parts[0] if len(parts) == 1 else b"".join(parts)
                self._parts = []

    def _frame(self) -> tuple[bool, int, bytes] | None:
        buf, at = self._buffer, self._at
        if len(buf) < at + 2:
            return None
        fin, opcode = bool(buf[at] & 0x80), buf[at] & 0x0F
        masked, size = bool(buf[at + 1] & 0x80), buf[at + 1] & 0x7F
        at += 2
        if size == 126:
            if len(buf) < at + 2:
                return None
            size, at = int.from_bytes(buf[at : at + 2], "big"), at + 2
        elif size == 127:
            if len(buf) < at + 8:
                return None
            size, at = int.from_bytes(buf[at : at + 8], "big"), at + 8
        key = b""
        if masked:
            key, at = bytes(buf[at : at + 4]), at + 4
        if len(buf) < at + size:
            return None
        payload = bytes(buf[at : at + size])
        self._at = at + size
        return fin, opcode, _mask(payload, key) if masked else payload
