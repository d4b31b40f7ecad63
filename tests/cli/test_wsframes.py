"""The CLI's WebSocket frames, from RFC 6455 §5.7's examples written down by hand, and against
wsproto (the agent's side) both ways."""

from __future__ import annotations

from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping

from minikubelet.cli.wsframes import BINARY, CLOSE, PING, TEXT, FrameReader, encode

HELLO = b"\x48\x65\x6c\x6c\x6f"


def test_the_rfcs_examples() -> None:
    # a single-frame masked text message, with the RFC's own key
    assert encode(TEXT, b"Hello", key=b"\x37\xfa\x21\x3d") == bytes.fromhex(
        "818537fa213d7f9f4d5158"
    )
    reader = FrameReader()
    assert list(reader.feed(b"\x81\x05" + HELLO)) == [(TEXT, b"Hello")]  # unmasked
    assert list(reader.feed(bytes.fromhex("818537fa213d7f9f4d5158"))) == [(TEXT, b"Hello")]
    # fragmented, with a ping between the fragments; fed a byte at a time
    stream = b"\x01\x03Hel" + b"\x89\x05" + HELLO + b"\x80\x02lo"
    got = [m for i in range(len(stream)) for m in reader.feed(stream[i : i + 1])]
    assert got == [(PING, b"Hello"), (TEXT, b"Hello")]
    # 256 bytes (a 16-bit length) and 64 KiB (a 64-bit length), unmasked
    big = bytes(256)
    assert list(reader.feed(b"\x82\x7e\x01\x00" + big)) == [(BINARY, big)]
    huge = bytes(65536)
    assert list(reader.feed(b"\x82\x7f" + (65536).to_bytes(8, "big") + huge)) == [(BINARY, huge)]
    assert encode(BINARY, big, key=bytes(4))[:8] == b"\x82\xfe\x01\x00" + bytes(4)
    assert encode(BINARY, huge, key=bytes(4))[:14] == b"\x82\xff" + (65536).to_bytes(
        8, "big"
    ) + bytes(4)


def test_against_wsproto_both_ways() -> None:
    server = Connection(ConnectionType.SERVER)
    server.receive_data(encode(BINARY, b"\x00abc") + encode(BINARY, bytes(70000)))
    events = list(server.events())
    assert [bytes(e.data) for e in events if isinstance(e, BytesMessage)] == [
        b"\x00abc",
        bytes(70000),
    ]
    out = server.send(BytesMessage(b"\x01out")) + server.send(Ping(b"p"))
    out += server.send(CloseConnection(1000))
    reader = FrameReader()
    assert list(reader.feed(out)) == [(BINARY, b"\x01out"), (PING, b"p"), (CLOSE, b"\x03\xe8")]
    server.receive_data(encode(CLOSE, b"\x03\xe8"))
    (closed,) = list(server.events())
    assert isinstance(closed, CloseConnection) and closed.code == 1000
