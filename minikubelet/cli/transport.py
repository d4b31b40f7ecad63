"""HTTP for the CLI: HTTP/1.1 written and read by hand on the agent's UNIX socket, so a command
starts in tens of milliseconds. `http.client` would cost ~10 ms of imports (`email`, `ssl`,
`urllib`) for the one or two requests a command sends to a server we wrote ourselves; httpx
alone takes 60 ms. Tests plug in any httpx client (an ASGI app in-process) through
`HttpxTransport`, which only they import httpx for.

The socket is `_socket`'s: `socket.py` turns every constant of the module into an enum member
when it is imported (~3 ms of every command, `exec` included), for nothing a UNIX client
needs; `_Reader` is the `makefile("rb")` it would give.
"""

from __future__ import annotations

import _socket
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Protocol

    import httpx
    from _typeshed import WriteableBuffer

__all__ = [
    "HttpxTransport",
    "TransportError",
    "UnixTransport",
    "warning_texts",
]

TIMEOUT = 60.0
OPEN_TIMEOUT = 2.0  # `open()` asks whether the agent listens: a full backlog is not an answer
_MAX_LINE = 65536  # a status or header line longer than this is not from our agent


class TransportError(OSError):
    """The agent could not be reached, or the connection broke."""


class _Closed(TransportError):
    """The server closed the connection before answering (a kept-alive one may be retried)."""


if TYPE_CHECKING:  # for mypy only: every command would pay typing's import for a Protocol

    class Transport(Protocol):
        def request(
            self, method: str, target: str, body: bytes | None, headers: dict[str, str]
        ) -> tuple[int, bytes, list[str]]:
            """One request; (status code, body, its `Warning` header values)."""
            ...

        def stream(
            self, target: str, headers: dict[str, str]
        ) -> AbstractContextManager[tuple[int, Iterator[bytes]]]:
            """A streaming GET: (status code, its lines, each ending in a newline)."""
            ...

        def close(self) -> None: ...


def warning_texts(values: list[str]) -> list[str]:
    """The texts of `Warning: 299 - "text", 299 - "text2"` header values."""
    texts = []
    for value in values:
        for match in re.finditer(r'\d{3} [^ ]+ "((?:[^"\\]|\\.)*)"', value):
            texts.append(match.group(1).replace('\\"', '"').replace("\\\\", "\\"))
    return texts


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quote_plus(text: str) -> str:
    """`urllib.parse.quote_plus`, without importing urllib."""
    return "".join(
        chr(b) if b in _UNRESERVED else "+" if b == 0x20 else f"%{b:02X}" for b in text.encode()
    )


def target(path: str, query: dict[str, str]) -> str:
    """`path?k=v&...`, encoded as `urllib.parse.urlencode` encodes a query."""
    if not query:
        return path
    return path + "?" + "&".join(f"{_quote_plus(k)}={_quote_plus(v)}" for k, v in query.items())


def _connect(path: str, timeout: float | None) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


class _Reader(io.RawIOBase):
    """The raw stream under `makefile("rb")`: reads from the socket; closing it leaves the
    socket open (its owner closes both)."""

    def __init__(self, sock: _socket.socket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._sock.recv_into(buffer)


def _reader(sock: _socket.socket) -> io.BufferedReader:
    return io.BufferedReader(_Reader(sock))


def _send(
    sock: _socket.socket, method: str, target: str, body: bytes | None, headers: dict[str, str]
) -> None:
    lines = [f"{method} {target} HTTP/1.1", "Host: minikubelet"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))


def _line(rfile: io.BufferedReader) -> bytes:
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise TransportError("response line too long")
    return line


class _Head:
    """A response's status line and headers (names lower-cased, repeated ones kept)."""

    def __init__(self, rfile: io.BufferedReader) -> None:
        status = _line(rfile)
        if not status:
            raise _Closed("the agent closed the connection without answering")
        parts = status.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise TransportError(f"not an HTTP response: {status[:80]!r}")
        self.code = int(parts[1])
        self.headers: list[tuple[str, str]] = []
        while (line := _line(rfile)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            self.headers.append((name.strip().lower(), value.strip()))

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def keep_alive(self) -> bool:
        return "close" not in ",".join(self.get_all("connection")).lower()


def _body(rfile: io.BufferedReader, head: _Head, method: str) -> Iterator[bytes]:
    """The body's bytes as they arrive: chunked, by Content-Length, or up to the close."""
    if method == "HEAD" or head.code in (204, 304) or 100 <= head.code < 200:
        return
    if "chunked" in ",".join(head.get_all("transfer-encoding")).lower():
        while True:
            size_line = _line(rfile).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise TransportError(f"bad chunk size {size_line[:20]!r}") from None
            if size == 0:
                while _line(rfile) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return
            yield _exactly(rfile, size)
            _line(rfile)  # the CRLF after each chunk
    elif lengths := head.get_all("content-length"):
        yield _exactly(rfile, int(lengths[0]))
    else:
        while data := rfile.read1(65536):
            yield data


def _exactly(rfile: io.BufferedReader, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise TransportError("the connection closed in the middle of a response")
    return data


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The body's lines, each ending in a newline (the last one as it came)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


class UnixTransport:
    """HTTP/1.1 over a UNIX socket; one kept-alive connection per command."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sock: _socket.socket | None = None
        self._rfile: io.BufferedReader | None = None

    def open(self) -> bool:
        """Connect now, unless connected: whether the agent accepted. The next request goes
        on this connection, so a command that checks for its agent (`connect()`) and then asks
        it something opens one connection, not two."""
        if self._sock is None:
            try:
                sock = _connect(self.path, OPEN_TIMEOUT)
            except OSError:
                return False
            sock.settimeout(TIMEOUT)
            self._sock, self._rfile = sock, _reader(sock)
        return True

    def request(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, list[str]]:
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once
            stale = self._sock is not None
            try:
                if self._sock is None or self._rfile is None:
                    self._sock = _connect(self.path, TIMEOUT)
                    self._rfile = _reader(self._sock)
                _send(self._sock, method, target, body, headers)
                head = _Head(self._rfile)
                data = b"".join(_body(self._rfile, head, method))
            except OSError as exc:
                self.close()
                closed = isinstance(exc, _Closed | BrokenPipeError | ConnectionResetError)
                if attempt == 2 or not (stale and closed):
                    raise (
                        exc if isinstance(exc, TransportError) else TransportError(str(exc))
                    ) from exc
                continue
            if not head.keep_alive:
                self.close()
            return head.code, data, head.get_all("warning")
        raise AssertionError("unreachable")

    @contextmanager
    def stream(self, target: str, headers: dict[str, str]) -> Iterator[tuple[int, Iterator[bytes]]]:
        try:
            sock = _connect(self.path, None)
        except OSError as exc:
            raise TransportError(str(exc)) from exc
        rfile = _reader(sock)
        try:
            _send(sock, "GET", target, None, headers)
            head = _Head(rfile)
            yield head.code, _lines(_body(rfile, head, "GET"))
        except TransportError:
            raise
        except OSError as exc:
            raise TransportError(str(exc)) from exc
        finally:
            rfile.close()
            sock.close()

    def close(self) -> None:
        if self._rfile is not None:
            self._rfile.close()
            self._rfile = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class HttpxTransport:
    """Any httpx client as a transport (tests: Starlette's TestClient over the API app)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def request(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, list[str]]:
        response = self.client.request(method, target, content=body, headers=headers)
        return response.status_code, response.content, response.headers.get_list("warning")

    @contextmanager
    def stream(self, target: str, headers: dict[str, str]) -> Iterator[tuple[int, Iterator[bytes]]]:
        with self.client.stream("GET", target, headers=headers) as response:
            yield response.status_code, (line.encode() + b"\n" for line in response.iter_lines())

    def close(self) -> None:
        return
