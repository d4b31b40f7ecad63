"""SPDY/3.1 framing from bytes written down by hand from the protocol (draft-mbelshe-httpbis-
spdy-00 §2.2, §2.6) and the frames kubectl sent and accepted (streaming.md §3.6)."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from minikubelet.server.streams import spdy
from minikubelet.server.streams._spdy_dictionary import HEADER_DICTIONARY
from minikubelet.server.streams.spdy import (
    Data,
    FrameReader,
    FrameWriter,
    GoAway,
    Headers,
    Ping,
    RstStream,
    Settings,
    SpdyError,
    SynReply,
    SynStream,
    WindowUpdate,
)

H = bytes.fromhex

# The uncompressed header block of `streamtype: error` (count 1, then length-prefixed name, value).
STREAMTYPE_ERROR = H("00000001 0000000a") + b"streamtype" + H("00000005") + b"error"


def compress(*blocks: bytes) -> list[bytes]:
    """Blocks through one zlib stream with the SPDY dictionary and sync flushes (the peer)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, HEADER_DICTIONARY)
    return [z.compress(b) + z.flush(zlib.Z_SYNC_FLUSH) for b in blocks]


def test_the_dictionary_is_the_spdy3_one() -> None:
    assert len(HEADER_DICTIONARY) == 1423
    assert HEADER_DICTIONARY.startswith(H("00000007") + b"options" + H("00000004") + b"h")
    assert HEADER_DICTIONARY.endswith(b"-1,utf-,*,enq=0.")
    assert zlib.adler32(HEADER_DICTIONARY) == 0xE3C6A7C2
    digest = "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
    assert hashlib.sha256(HEADER_DICTIONARY).hexdigest() == digest


def test_header_block_encoding() -> None:
    assert spdy.encode_header_block({"streamtype": ["error"]}) == STREAMTYPE_ERROR
    assert spdy.decode_header_block(STREAMTYPE_ERROR) == {"streamtype": ["error"]}
    two = spdy.encode_header_block({"X-Stream-Protocol-Version": ["a", "b"]})
    assert two == H("00000001 00000019") + b"x-stream-protocol-version" + H("00000003") + b"a\0b"


@pytest.mark.parametrize(
    "block, error",
    [
        (H("00000001 00000001") + b"A" + H("00000000"), "header was not lowercased"),
        (H("00000002") + (H("00000001") + b"a" + H("00000000")) * 2, "multiple headers"),
        (H("00000001 00000009") + b"short", "truncated"),
    ],
)
def test_bad_header_blocks_end_the_session(block: bytes, error: str) -> None:
    with pytest.raises(SpdyError, match=error):
        spdy.decode_header_block(block)


def test_syn_reply_kubectl_accepted_is_what_we_write() -> None:
    """streaming.md §3.6: an empty SYN_REPLY for stream 1, from Python's zlib, that kubectl took."""
    seen = H("80030002 00000014 00000001 78f9e3c6a7c2 02a623060000 0000ffff")
    assert FrameWriter().encode(SynReply(1, {})) == seen
    assert FrameReader().feed(seen) == [SynReply(1, {})]


def test_syn_stream_as_kubectl_sends_it() -> None:
    (block,) = compress(STREAMTYPE_ERROR)
    assert block.startswith(H("78f9e3c6a7c2"))  # zlib level 9, FDICT, the dictionary's id
    length = (10 + len(block)).to_bytes(3, "big")
    wire = H("80030001 00") + length + H("00000001 00000000 00 00") + block
    assert FrameReader().feed(wire) == [SynStream(1, {"streamtype": ["error"]})]


def test_header_compression_is_one_stream_per_direction() -> None:
    first, second = compress(STREAMTYPE_ERROR, spdy.encode_header_block({"port": ["80"]}))
    frames = b"".join(
        H("80030001") + (10 + len(b)).to_bytes(4, "big") + sid + H("00000000 0000") + b
        for sid, b in ((H("00000001"), first), (H("00000003"), second))
    )
    reader = FrameReader()
    got = [reader.feed(frames[i : i + 1]) for i in range(len(frames))]  # one byte at a time
    assert [f for batch in got for f in batch] == [
        SynStream(1, {"streamtype": ["error"]}),
        SynStream(3, {"port": ["80"]}),
    ]
    # The second block alone cannot be read: it refers to the first one's window.
    alone = H("80030001") + (10 + len(second)).to_bytes(4, "big") + H("00000003 00000000 0000")
    with pytest.raises(SpdyError):
        FrameReader().feed(alone + second)


def test_writer_and_reader_round_trip_headers_across_frames() -> None:
    writer, reader = FrameWriter(), FrameReader()
    frames: list[spdy.Frame] = [
        SynStream(1, {"streamtype": ["stdout"]}, fin=False),
        SynReply(1, {"x-a": ["1"]}, fin=True),
        Headers(3, {"x-b": ["2", "3"]}),
        SynStream(5, {"port": ["8080"], "requestid": ["0"]}, priority=3, unidirectional=True),
    ]
    assert reader.feed(b"".join(writer.encode(f) for f in frames)) == frames


@pytest.mark.parametrize(
    "wire, frame",
    [
        (H("00000003 01000004") + b"abc\n", Data(3, b"abc\n", fin=True)),
        (H("00000005 00000000"), Data(5, b"")),
        (H("80030003 00000008 00000005 00000005"), RstStream(5, spdy.CANCEL)),
        (H("80030006 00000004 00000001"), Ping(1)),
        (H("80030007 00000008 00000003 00000000"), GoAway(3, 0)),
        (H("80030009 00000008 00000001 00010000"), WindowUpdate(1, 65536)),
        (H("80030004 0000000c 00000001 00000007 00010000"), Settings(((0, 7, 65536),))),
        (H("80030004 01000004 00000000"), Settings((), clear=True)),
    ],
)
def test_frames_both_ways(wire: bytes, frame: spdy.Frame) -> None:
    assert FrameReader().feed(wire) == [frame]
    assert FrameWriter().encode(frame) == wire


def test_a_data_head_is_the_data_frames_first_eight_bytes() -> None:
    """What a tunnel sends before a payload it does not copy (SPDY/3.1 §2.2.2: stream id with
    the control bit clear, then flags and a 24-bit length)."""
    assert spdy.data_head(3, 4, fin=True) == H("00000003 01000004")
    assert spdy.data_head(5, 1 << 18) == H("00000005 00040000")
    assert spdy.data_head(7, 0xFFFFFF) == H("00000007 00ffffff")
    with pytest.raises(SpdyError, match="too large"):
        spdy.data_head(1, 1 << 24)


def test_a_partial_frame_waits_for_the_rest() -> None:
    reader = FrameReader()
    assert reader.feed(H("00000001 00000005") + b"he") == []
    assert reader.feed(b"llo" + H("80030006 000000")) == [Data(1, b"hello")]
    assert reader.feed(H("04 00000007")) == [Ping(7)]


@pytest.mark.parametrize(
    "wire, error",
    [
        (H("80020006 00000004 00000001"), "version 2"),
        (H("80030005 00000000"), "type 5"),
        (H("80030006 01000004 00000001"), "PING"),
        (H("80030007 00000004 00000003"), "type 7"),
        (H("80030003 00000008 00000001 00000000"), "status 0"),
        (H("80030002 00000004 00000000"), "zero"),
    ],
)
def test_invalid_control_frames(wire: bytes, error: str) -> None:
    with pytest.raises(SpdyError, match=error):
        FrameReader().feed(wire)


def test_a_corrupt_header_block_is_an_error() -> None:
    with pytest.raises(SpdyError, match="header block"):
        FrameReader().feed(H("80030002 0000000a 00000001") + H("78f9 0000 0000"))
