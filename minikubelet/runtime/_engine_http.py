"""The engine's HTTP API on its UNIX socket, from the event loop: an exec session's calls.

Through the SDK an exec session costs three requests (create, start, inspect for the exit
code), each in a worker thread with `requests`' machinery around it: traced in the agent, 4-7 ms
for the create, 4-12 ms for the start and ~11 ms for the inspect after the output ended, where
the same requests written by hand took 1, 1 and 0.5-1 ms at that hour. `docker exec` makes the
same three requests, so what we add to them is what `minikubelet exec` and `kubectl exec` pay
over it. Here each request opens its own connection to the socket (a UNIX connect costs
microseconds; no pool to share between tasks), is written by hand, and its answer read with
Content-Length or chunked framing, which is all the engine sends for these calls.

Only an engine on a UNIX socket (`DOCKER_HOST` unset or `unix://`) is reached this way; for
others the runtime keeps the SDK's path. Docker-free: the Engine API's JSON, not the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.abc

__all__ = ["EngineError", "EngineHTTP", "unix_socket_path"]

TIMEOUT = 60.0  # the SDK client's timeout, per request
_HEAD_LIMIT = 1 << 16


def unix_socket_path(env: Mapping[str, str]) -> str | None:
    """The engine's UNIX socket as the SDK finds it from the environment; None for others."""
    host = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return host.removeprefix("unix://") if host.startswith("unix://") else None


class EngineError(Exception):
    """The engine answered with an error status; `message` is its own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EngineHTTP:
    """Requests to the engine at `socket_path`, under the API version prefix `version`."""

    def __init__(self, socket_path: str, version: str) -> None:
        self.socket_path = socket_path
        self.prefix = f"/v{version}"

    async def json(self, method: str, path: str, body: Any = None) -> Any:
        """One request; its JSON answer. EngineError for an error status; OSError (and
        TimeoutError) when the engine cannot be reached."""
        with anyio.fail_after(TIMEOUT):
            stream = await anyio.connect_unix(self.socket_path)
            async with stream:
                await stream.send(self._head(method, path, body))
                status, headers, rest = await _read_head(stream)
                data = await _read_body(stream, headers, rest)
        if status >= 400:
            raise EngineError(status, _message(data))
        return json.loads(data) if data else None

    async def upgrade(self, path: str, body: Any) -> tuple[anyio.abc.SocketStream, bytes]:
        """A POST that switches the connection to the raw stream (`Upgrade: tcp`, as the SDK
        and the docker CLI ask): the connected stream and the bytes read past the answer's
        head. An engine that answers 200 instead of 101 streams on the same connection."""
        with anyio.fail_after(TIMEOUT):
            stream = await anyio.connect_unix(self.socket_path)
        try:
            with anyio.fail_after(TIMEOUT):
                await stream.send(self._head("POST", path, body, upgrade=True))
                status, headers, rest = await _read_head(stream)
                if status >= 400:
                    raise EngineError(status, _message(await _read_body(stream, headers, rest)))
        except BaseException:
            await anyio.aclose_forcefully(stream)
            raise
        return stream, rest

    def _head(self, method: str, path: str, body: Any, upgrade: bool = False) -> bytes:
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", "Host: docker"]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        if upgrade:
            lines += ["Connection: Upgrade", "Upgrade: tcp"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _receive(stream: anyio.abc.ByteStream) -> bytes:
    try:
        return await stream.receive()
    except anyio.EndOfStream:
        raise ConnectionResetError("the engine closed the connection") from None


async def _read_head(stream: anyio.abc.ByteStream) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lowercase names, the bytes after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            raise ConnectionResetError("the engine's answer has no end of head")
        data += await _receive(stream)
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionResetError(f"not an HTTP answer from the engine: {status_line!r}")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


async def _read_body(stream: anyio.abc.ByteStream, headers: dict[str, str], rest: bytes) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(stream, rest)
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        rest += await _receive(stream)
    return rest[:length]


async def _read_chunked(stream: anyio.abc.ByteStream, data: bytes) -> bytes:
    body = bytearray()
    while True:
        while b"\r\n" not in data:
            data += await _receive(stream)
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(body)  # trailers, if any, are left unread: the connection is closed
        while len(data) < size + 2:
            data += await _receive(stream)
        body += data[:size]
        data = data[size + 2 :]


def _message(data: bytes) -> str:
    """The engine's words: the `message` of its JSON error, else the text as it came."""
    try:
        found = json.loads(data)
    except ValueError:
        found = None
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"])
    return data.decode("utf-8", "replace").strip()
