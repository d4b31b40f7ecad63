"""HTTP for the CLI: the standard library over the agent's UNIX socket, so a command starts in
tens of milliseconds (httpx alone takes 60 ms to import). Tests plug in any httpx client
(an ASGI app in-process) through `HttpxTransport`, which only they import httpx for."""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HttpxTransport",
    "Transport",
    "TransportError",
    "UnixTransport",
    "warning_texts",
]

TIMEOUT = 60.0


class TransportError(OSError):
    """The agent could not be reached, or the connection broke."""


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


def target(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("minikubelet", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class UnixTransport:
    """HTTP/1.1 over a UNIX socket with `http.client`; one kept-alive connection per command."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: _UnixConnection | None = None

    def request(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, list[str]]:
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once
            stale = self._conn is not None
            if self._conn is None:
                self._conn = _UnixConnection(self.path, TIMEOUT)
            try:
                self._conn.request(method, target, body=body, headers=headers)
                response = self._conn.getresponse()
                return response.status, response.read(), response.headers.get_all("Warning") or []
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                closed = isinstance(
                    exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
                )
                if attempt == 2 or not (stale and closed):
                    raise TransportError(str(exc)) from exc
        raise AssertionError("unreachable")

    @contextmanager
    def stream(self, target: str, headers: dict[str, str]) -> Iterator[tuple[int, Iterator[bytes]]]:
        conn = _UnixConnection(self.path, None)
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            yield response.status, iter(response.readline, b"")
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(str(exc)) from exc
        finally:
            conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


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
