"""The WebSocket channel protocols of exec and attach (`*.channel.k8s.io`), as pure functions.

Every WebSocket message is one channel frame: byte 0 names the channel, the rest is its data
(apimachinery `util/httpstream/wsstream/conn.go`). The base64 protocols write the channel as an
ASCII digit and the data in base64, in text messages. `v5.channel.k8s.io` is v4 plus one
client-to-server frame, `FF <channel>`: that channel (stdin) reached EOF.

The error channel (3) carries the end of the session: on v4/v5 the JSON of a `metav1.Status`
without kind/apiVersion, in Go's field order (a success is `{"metadata":{},"status":"Success"}`);
on the older protocols only a failure's message, as text. kubelet-reference streaming.md §2.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLOSE",
    "ERROR",
    "REMOTECOMMAND_PROTOCOLS",
    "RESIZE",
    "STDERR",
    "STDIN",
    "STDOUT",
    "V4",
    "V5",
    "Frame",
    "ResizeDecoder",
    "TerminalSize",
    "decode",
    "encode",
    "exit_status",
    "internal_error",
    "is_binary",
    "negotiate",
    "offered_protocols",
    "status_payload",
    "success",
]

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255  # v5: the client closed its end of a channel

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
CHANNEL = "channel.k8s.io"
BASE64 = "base64.channel.k8s.io"
# What this node serves for exec and attach: the API server's v5 and every protocol of the
# runtime's streaming server (the client's order decides among them).
REMOTECOMMAND_PROTOCOLS = (V5, V4, V4_BASE64, CHANNEL, BASE64)
_BASE64 = frozenset({BASE64, V4_BASE64})


def offered_protocols(values: Iterable[str]) -> list[str]:
    """`Sec-WebSocket-Protocol` header values (each may be a comma list), in the client's order."""
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def negotiate(offered: list[str], supported: Iterable[str]) -> str | None:
    """The first offered protocol we support; "" when the client offered none (the channel
    protocol without a name); None when it offered some and we support none (403)."""
    if not offered:
        return ""
    accepted = set(supported)
    return next((p for p in offered if p in accepted), None)


def is_v4_or_later(protocol: str) -> bool:
    return protocol in (V5, V4, V4_BASE64)


@dataclass(frozen=True, slots=True)
class Frame:
    channel: int
    data: bytes


def is_binary(protocol: str) -> bool:
    """Whether frames travel as binary messages (`encode` gives bytes)."""
    return protocol not in _BASE64


def encode(protocol: str, channel: int, data: bytes) -> bytes | str:
    """A frame as the message to send: bytes (binary message) or str (text message)."""
    if protocol in _BASE64:
        return chr(ord("0") + channel) + base64.b64encode(data).decode("ascii")
    return bytes((channel,)) + data


def decode(protocol: str, message: bytes | str) -> Frame | None:
    """A received message as a frame; None for an empty message (ignored, as the runtime does).
    Text messages on a binary protocol are the Python client's: their UTF-8 bytes are the frame."""
    if not message:
        return None
    if protocol in _BASE64:
        text = message if isinstance(message, str) else message.decode("ascii", "replace")
        try:
            return Frame(ord(text[0]) - ord("0"), base64.b64decode(text[1:], validate=True))
        except ValueError as exc:
            raise ValueError(f"invalid base64 frame: {exc}") from None
    raw = message.encode() if isinstance(message, str) else message
    return Frame(raw[0], raw[1:])


def closed_channel(frame: Frame) -> int:
    """The channel a v5 close frame names; ValueError for a malformed one (ends the session)."""
    if len(frame.data) != 1:
        raise ValueError(f"close frame of length {len(frame.data) + 1}, expected 2")
    return frame.data[0]


@dataclass(frozen=True, slots=True)
class TerminalSize:
    width: int
    height: int


class ResizeDecoder:
    """The resize channel is a stream of JSON values `{"Width":W,"Height":H}` (client-go's
    json.Encoder, each followed by a newline), possibly split across frames."""

    def __init__(self) -> None:
        self._buffer = ""
        self._json = json.JSONDecoder()

    def feed(self, data: bytes) -> Iterator[TerminalSize]:
        self._buffer += data.decode("utf-8", "replace")
        while True:
            text = self._buffer.lstrip()
            if not text:
                self._buffer = ""
                return
            try:
                value, end = self._json.raw_decode(text)
            except json.JSONDecodeError:
                self._buffer = text  # an incomplete value: wait for more
                return
            self._buffer = text[end:]
            if isinstance(value, dict):
                yield TerminalSize(_uint16(value.get("Width")), _uint16(value.get("Height")))


def _uint16(value: Any) -> int:
    return value if isinstance(value, int) and 0 <= value <= 0xFFFF else 0


# -- the error channel: metav1.Status -----------------------------------------------------


def success() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, message: str) -> dict[str, Any]:
    """A non-zero exit: reason NonZeroExitCode with exactly one cause `ExitCode` (kubectl takes
    the first such cause, the Python client blindly takes causes[0])."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {message}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error(err: str) -> dict[str, Any]:
    """apierrors.NewInternalError(err) as the error channel carries it."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {err}",
        "reason": "InternalError",
        "details": {"causes": [{"message": err}]},
        "code": 500,
    }


def status_payload(protocol: str, status: dict[str, Any]) -> bytes:
    """What the error channel carries at the end: v4/v5 the Status JSON (Go's compact form);
    older protocols the failure's message as text, and nothing on success."""
    if is_v4_or_later(protocol):
        return json.dumps(status, separators=(",", ":")).encode()
    if status.get("status") == "Success":
        return b""
    return str(status.get("message", "")).encode()
