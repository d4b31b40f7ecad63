"""SPDY/3.1 frames, as Kubernetes' peers (moby/spdystream's framer) write and read them.

Pure: `FrameReader.feed(bytes) -> frames` and `FrameWriter.encode(frame) -> bytes`, each
holding its direction's zlib stream. All integers are big-endian.

    control frame: 1 | version (15 bits) = 3 | type (16) | flags (8) | length (24) | payload
    data frame:    0 | stream id (31 bits)    | flags (8) | length (24) | data

Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are `count (4)` then per header `name length
(4) · name · value length (4) · value`, names lower-case, several values of one name joined by
NUL; compressed with one zlib stream per direction for the whole connection, primed with the
SPDY/3 dictionary, each block ending in a sync flush. streaming.md Part 3.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from minikubelet.server.streams._spdy_dictionary import HEADER_DICTIONARY

__all__ = [
    "FLAG_FIN",
    "Data",
    "Frame",
    "FrameReader",
    "FrameWriter",
    "GoAway",
    "HeaderBlock",
    "Headers",
    "Ping",
    "RstStream",
    "Settings",
    "SpdyError",
    "SynReply",
    "SynStream",
    "WindowUpdate",
    "data_head",
    "decode_header_block",
    "encode_header_block",
]

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1, 2, 3, 4, 6, 7, 8, 9,
)  # fmt: skip
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
FLAG_CLEAR_SETTINGS = 0x01
MAX_LENGTH = (1 << 24) - 1
_ID = 0x7FFFFFFF

# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL, INTERNAL_ERROR = 1, 2, 3, 5, 6

HeaderBlock = dict[str, list[str]]


class SpdyError(Exception):
    """A framing error: the session ends (spdystream's reader loop stops on one)."""


@dataclass(frozen=True, slots=True)
class SynStream:
    stream_id: int
    headers: HeaderBlock
    associated_id: int = 0
    priority: int = 0
    slot: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True, slots=True)
class SynReply:
    stream_id: int
    headers: HeaderBlock = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True, slots=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True, slots=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...] = ()  # (flags, id, value)
    clear: bool = False


@dataclass(frozen=True, slots=True)
class Ping:
    ping_id: int


@dataclass(frozen=True, slots=True)
class GoAway:
    last_good_stream_id: int
    status: int = 0


@dataclass(frozen=True, slots=True)
class Headers:
    stream_id: int
    headers: HeaderBlock
    fin: bool = False


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    stream_id: int
    delta: int


@dataclass(frozen=True, slots=True)
class Data:
    stream_id: int
    data: bytes
    fin: bool = False


Frame = SynStream | SynReply | RstStream | Settings | Ping | GoAway | Headers | WindowUpdate | Data


# -- header blocks --------------------------------------------------------------------------


def encode_header_block(headers: HeaderBlock) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        raw_name, raw_value = name.lower().encode(), "\0".join(values).encode()
        out += [struct.pack(">I", len(raw_name)), raw_name, struct.pack(">I", len(raw_value))]
        out.append(raw_value)
    return b"".join(out)


def decode_header_block(block: bytes) -> HeaderBlock:
    def take(at: int) -> tuple[bytes, int]:
        if at + 4 > len(block):
            raise SpdyError("header block truncated")
        (size,) = struct.unpack_from(">I", block, at)
        if at + 4 + size > len(block):
            raise SpdyError("header block truncated")
        return block[at + 4 : at + 4 + size], at + 4 + size

    if len(block) < 4:
        raise SpdyError("header block truncated")
    (count,) = struct.unpack_from(">I", block)
    headers: HeaderBlock = {}
    at = 4
    for _ in range(count):
        raw_name, at = take(at)
        raw_value, at = take(at)
        name = raw_name.decode("utf-8", "replace")
        if name != name.lower():
            raise SpdyError("header was not lowercased")
        if name in headers:
            raise SpdyError("multiple headers with same name")
        headers[name] = raw_value.decode("utf-8", "replace").split("\0")
    return headers


# -- writing --------------------------------------------------------------------------------


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise SpdyError("frame too large")
    return struct.pack(">HHI", 0x8000 | VERSION, kind, flags << 24 | len(payload)) + payload


def data_head(stream_id: int, size: int, fin: bool = False) -> bytes:
    """The 8 bytes before a DATA frame's payload of `size` bytes."""
    if size > MAX_LENGTH:
        raise SpdyError("frame too large")
    return struct.pack(">II", stream_id & _ID, (FLAG_FIN << 24 if fin else 0) | size)


class FrameWriter:
    """Encodes frames; owns the connection's outgoing header compressor."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(
            9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, HEADER_DICTIONARY
        )

    def _block(self, headers: HeaderBlock) -> bytes:
        raw = encode_header_block(headers)
        return self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        match frame:
            case Data(stream_id, data, fin):
                return data_head(stream_id, len(data), fin) + data
            case SynStream():
                flags = (FLAG_FIN if frame.fin else 0) | (
                    FLAG_UNIDIRECTIONAL if frame.unidirectional else 0
                )
                fixed = struct.pack(
                    ">IIBB",
                    frame.stream_id & _ID,
                    frame.associated_id & _ID,
                    (frame.priority & 7) << 5,
                    frame.slot,
                )
                return _control(SYN_STREAM, flags, fixed + self._block(frame.headers))
            case SynReply(stream_id, headers, fin):
                block = struct.pack(">I", stream_id & _ID) + self._block(headers)
                return _control(SYN_REPLY, FLAG_FIN if fin else 0, block)
            case Headers(stream_id, headers, fin):
                block = struct.pack(">I", stream_id & _ID) + self._block(headers)
                return _control(HEADERS, FLAG_FIN if fin else 0, block)
            case RstStream(stream_id, status):
                return _control(RST_STREAM, 0, struct.pack(">II", stream_id & _ID, status))
            case Settings(entries, clear):
                body = struct.pack(">I", len(entries)) + b"".join(
                    struct.pack(">I", flags << 24 | ident) + struct.pack(">I", value)
                    for flags, ident, value in entries
                )
                return _control(SETTINGS, FLAG_CLEAR_SETTINGS if clear else 0, body)
            case Ping(ping_id):
                return _control(PING, 0, struct.pack(">I", ping_id))
            case GoAway(last, status):
                return _control(GOAWAY, 0, struct.pack(">II", last & _ID, status))
            case WindowUpdate(stream_id, delta):
                return _control(WINDOW_UPDATE, 0, struct.pack(">II", stream_id & _ID, delta))
        raise TypeError(f"not a SPDY frame: {frame!r}")


# -- reading --------------------------------------------------------------------------------


class FrameReader:
    """Decodes a byte stream into frames, however it is split; owns the incoming header
    decompressor. `feed` returns the frames completed so far and keeps the rest."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._zlib = zlib.decompressobj(zdict=HEADER_DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            word, flags_length = struct.unpack_from(">II", self._buffer)
            length = flags_length & MAX_LENGTH
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            flags = flags_length >> 24
            if word & 0x80000000:
                frames.append(self._control(word, flags, payload))
            else:
                frames.append(Data(word & _ID, payload, bool(flags & FLAG_FIN)))
        return frames

    def _headers(self, block: bytes) -> HeaderBlock:
        try:
            raw = self._zlib.decompress(block)
        except zlib.error as exc:
            raise SpdyError(f"header block: {exc}") from None
        if self._zlib.unconsumed_tail or self._zlib.unused_data:
            raise SpdyError("compressed payload size was incorrect")
        return decode_header_block(raw)

    def _control(self, word: int, flags: int, payload: bytes) -> Frame:
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise SpdyError(f"unsupported SPDY version {version}")
        fin = bool(flags & FLAG_FIN)
        if kind == SYN_STREAM:
            if len(payload) < 10:
                raise SpdyError("SYN_STREAM too short")
            stream_id, assoc, prio, slot = struct.unpack_from(">IIBB", payload)
            _nonzero(stream_id & _ID)
            return SynStream(
                stream_id & _ID, self._headers(payload[10:]), assoc & _ID, prio >> 5, slot,
                fin, bool(flags & FLAG_UNIDIRECTIONAL),
            )  # fmt: skip
        if kind in (SYN_REPLY, HEADERS):
            if len(payload) < 4:
                raise SpdyError("header frame too short")
            stream_id = _nonzero(struct.unpack_from(">I", payload)[0] & _ID)
            headers = self._headers(payload[4:])
            return (
                SynReply(stream_id, headers, fin)
                if kind == SYN_REPLY
                else Headers(stream_id, headers, fin)
            )
        if kind == SETTINGS:
            if len(payload) < 4:
                raise SpdyError("SETTINGS too short")
            (count,) = struct.unpack_from(">I", payload)
            if len(payload) != 4 + 8 * count:
                raise SpdyError("SETTINGS length mismatch")
            entries = tuple(
                (word >> 24, word & 0xFFFFFF, value)
                for word, value in struct.iter_unpack(">II", payload[4:])
            )
            return Settings(entries, bool(flags & FLAG_CLEAR_SETTINGS))
        if kind == PING:
            if flags or len(payload) != 4:
                raise SpdyError("invalid PING")
            return Ping(struct.unpack(">I", payload)[0])
        if kind in (RST_STREAM, GOAWAY, WINDOW_UPDATE):
            if len(payload) != 8 or (kind == GOAWAY and flags):
                raise SpdyError(f"invalid control frame of type {kind}")
            first, second = struct.unpack(">II", payload)
            if kind == RST_STREAM:
                if second == 0:
                    raise SpdyError("RST_STREAM with status 0")
                return RstStream(first & _ID, second)
            if kind == GOAWAY:
                return GoAway(first & _ID, second)
            return WindowUpdate(first & _ID, second & _ID)
        raise SpdyError(f"invalid control frame type {kind}")


def _nonzero(stream_id: int) -> int:
    if stream_id == 0:
        raise SpdyError("stream id zero is disallowed")
    return stream_id
