"""The WebSocket channel protocols (`*.channel.k8s.io`) from bytes written by hand after
apimachinery's wsstream and what kubectl 1.32 and the Python client sent (streaming.md §2)."""

from __future__ import annotations

import json

import pytest

from minikubelet.server.streams import channels
from minikubelet.server.streams.channels import (
    V4,
    V5,
    Frame,
    ResizeDecoder,
    TerminalSize,
    decode,
    encode,
    negotiate,
    offered_protocols,
)

SERVED = channels.REMOTECOMMAND_PROTOCOLS


@pytest.mark.parametrize(
    "headers, chosen",
    [
        (["v5.channel.k8s.io"], V5),  # kubectl 1.30+
        (["v4.channel.k8s.io"], V4),  # the Python client 32.x
        (["v5.channel.k8s.io,v4.channel.k8s.io"], V5),  # Python 36+: its order decides
        (["v4.channel.k8s.io", "v5.channel.k8s.io"], V4),
        (["base64.channel.k8s.io"], "base64.channel.k8s.io"),
        ([], ""),  # no protocol named: the plain channel protocol
        (["SPDY/3.1+portforward.k8s.io"], None),  # not for exec: 403
    ],
)
def test_negotiation_takes_the_first_offered_protocol_we_serve(
    headers: list[str], chosen: str | None
) -> None:
    assert negotiate(offered_protocols(headers), SERVED) == chosen


def test_binary_frames() -> None:
    assert encode(V5, channels.STDOUT, b"") == b"\x01"  # the empty frame sent first
    assert encode(V5, channels.STDERR, b"to stderr\n") == b"\x02to stderr\n"
    assert decode(V5, b"\x00abc\n") == Frame(0, b"abc\n")
    assert decode(V5, b"\xff\x00") == Frame(255, b"\x00")
    assert decode(V5, b"") is None


def test_text_frames_from_the_python_client_carry_their_utf8_bytes() -> None:
    assert decode(V4, "\x00abc EOF\n") == Frame(0, b"abc EOF\n")


def test_base64_protocols_use_a_digit_and_base64_in_text() -> None:
    b64 = "v4.base64.channel.k8s.io"
    assert encode(b64, 1, b"hello") == "1aGVsbG8="
    assert decode(b64, "0aGk=") == Frame(0, b"hi")
    with pytest.raises(ValueError, match="base64"):
        decode(b64, "0@@")


def test_v5_close_frame() -> None:
    assert channels.closed_channel(Frame(255, b"\x00")) == 0
    with pytest.raises(ValueError):
        channels.closed_channel(Frame(255, b"\x00\x01"))


def test_resize_is_a_stream_of_json_values() -> None:
    decoder = ResizeDecoder()
    assert list(decoder.feed(b'{"Width":100,"Height":30}\n')) == [TerminalSize(100, 30)]
    assert list(decoder.feed(b'{"Width":101,')) == []
    assert list(decoder.feed(b'"Height":31}\n{"Width":80,"Height":24}\n')) == [
        TerminalSize(101, 31),
        TerminalSize(80, 24),
    ]


def test_error_channel_success_and_exit_code_as_the_api_server_sends_them() -> None:
    assert channels.status_payload(V5, channels.success()) == b'{"metadata":{},"status":"Success"}'
    exited = channels.exit_status(3, "command terminated with exit code 3")
    assert channels.status_payload(V5, exited) == (
        b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit'
        b' code: command terminated with exit code 3","reason":"NonZeroExitCode","details":'
        b'{"causes":[{"reason":"ExitCode","message":"3"}]}}'
    )


def test_error_channel_internal_error() -> None:
    status = json.loads(channels.status_payload(V4, channels.internal_error("boom")))
    assert status == {
        "metadata": {},
        "status": "Failure",
        "message": "Internal error occurred: boom",
        "reason": "InternalError",
        "details": {"causes": [{"message": "boom"}]},
        "code": 500,
    }


def test_older_protocols_carry_only_a_failure_message_as_text() -> None:
    assert channels.status_payload("channel.k8s.io", channels.success()) == b""
    failed = channels.exit_status(1, "x")
    assert channels.status_payload("channel.k8s.io", failed) == (
        b"command terminated with non-zero exit code: x"
    )
