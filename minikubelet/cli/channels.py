"""The CLI's end of an exec or attach session: `v5.channel.k8s.io` over the agent's socket.

Blocking and small, as the rest of the CLI: the upgrade is written by hand on a UNIX socket,
frames are `cli/wsframes.py`'s (a client's half of RFC 6455, without wsproto's import cost).
The caller's thread reads the connection and writes stdout/stderr; one more thread copies
stdin, then sends v5's `FF 00` at its EOF.

Every `exec` pays for what this imports, so it takes no `urllib.parse` (which brings
`ipaddress`), `base64` or `threading` for a session without stdin: the query is
percent-encoded here and the key made with `binascii`.
"""

from __future__ import annotations

import _socket
import _thread
import binascii
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator

from minikubelet.errors import MinikubeletError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    import threading
    from typing import Any

__all__ = ["Session", "UpgradeFailed", "exit_code", "open_session", "query_string"]

V5 = "v5.channel.k8s.io"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_READ = 1 << 20  # the agent sends port-forward data in messages of up to 1 MiB (a frame head more)


class UpgradeFailed(MinikubeletError):
    """The agent answered the upgrade with an error: a Status body, or the kubelet's text."""

    def __init__(self, code: int, body: bytes) -> None:
        super().__init__(body.decode("utf-8", "replace").strip())
        self.code = code
        self.body = body


def _quote(text: str) -> str:
    """RFC 3986 percent-encoding of everything but the unreserved characters."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def query_string(pairs: list[tuple[str, str]]) -> str:
    """`urlencode(pairs, quote_via=quote)`, which the agent's query parser reads back."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs)


def open_session(
    socket_path: str, path: str, query: list[tuple[str, str]], protocol: str = V5
) -> Session:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.connect(socket_path)
    key = binascii.b2a_base64(os.urandom(16), newline=False).decode()
    head = (
        f"GET {path}?{query_string(query)} HTTP/1.1\r\nHost: minikubelet\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
    )
    sock.sendall(head.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise UpgradeFailed(500, b"the agent closed the connection")
        data += chunk
    answer, _, rest = data.partition(b"\r\n\r\n")
    code = int(answer.split(b" ", 2)[1])
    if code != 101:
        length = next(
            (int(line.split(b":", 1)[1]) for line in answer.split(b"\r\n")
             if line.lower().startswith(b"content-length:")), 0,
        )  # fmt: skip
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        sock.close()
        raise UpgradeFailed(code, rest[:length])
    return Session(sock, rest)


class Session:
    """Frames in and out of one channel session."""

    def __init__(self, sock: _socket.socket, initial: bytes) -> None:
        from minikubelet.cli.wsframes import FrameReader

        self._sock = sock
        self._reader = FrameReader()
        self._initial = initial
        self._lock = _thread.allocate_lock()  # threading.Lock(), without importing threading

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        from minikubelet.cli.wsframes import encode

        with self._lock:
            self._sock.sendall(encode(opcode, payload))

    def send(self, channel: int, data: bytes) -> None:
        from minikubelet.cli.wsframes import BINARY

        self._send_frame(BINARY, bytes((channel,)) + data)

    def resize(self, width: int, height: int) -> None:
        self.send(4, json.dumps({"Width": width, "Height": height}).encode() + b"\n")

    def copy_stdin(self, fd: int) -> threading.Thread:
        import threading

        def copy() -> None:
            try:
                while chunk := os.read(fd, 32 * 1024):
                    self.send(0, chunk)
                self.send(255, b"\x00")  # v5: stdin reached EOF
            except OSError:
                pass

        thread = threading.Thread(target=copy, daemon=True)
        thread.start()
        return thread

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(channel, data) of each message, until the agent closes the session."""
        from minikubelet.cli.wsframes import BINARY, CLOSE, PING, PONG

        data, self._initial = self._initial, b""
        while True:
            for opcode, payload in self._reader.feed(data):
                if opcode == PING:
                    self._send_frame(PONG, payload)
                elif opcode == CLOSE:
                    with contextlib.suppress(OSError):
                        self._send_frame(CLOSE, payload[:2])  # the close handshake's answer
                    self.close()
                    return
                elif payload:
                    frame = payload if opcode == BINARY else b""
                    if frame:
                        yield frame[0], frame[1:]
            try:
                data = self._sock.recv(_READ)
            except OSError:
                data = b""
            if not data:
                self.close()
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def run(self, output: Callable[[int, bytes], None]) -> dict[str, Any]:
        """Deliver stdout/stderr until the agent closes; return the error channel's Status."""
        status: dict[str, Any] = {"status": "Failure", "message": "lost connection to the agent"}
        for channel, data in self.frames():
            if channel == 3:
                status = json.loads(data or b"{}")
            elif data:
                output(channel, data)
        return status


def exit_code(status: dict[str, Any]) -> int:
    """kubectl's reading of the error channel (client-go errorDecoderV4)."""
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message", "1"))
                print(f"command terminated with exit code {code}", file=sys.stderr)
                return code
    print(f"error: {status.get('message', 'unknown error')}", file=sys.stderr)
    return 1
