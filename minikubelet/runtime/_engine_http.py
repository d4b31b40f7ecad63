"""The engine's HTTP API on its UNIX socket, from the event loop: an exec session's calls.

Through the SDK an exec session costs three requests (create, start, inspect for the exit
code), each in a worker thread with `requests`' machinery around it: traced in the agent, 4-7 ms
for the create, 4-12 ms for the start and ~11 ms for the inspect after the output ended, where
the same requests written by hand took 1, 1 and 0.5-1 ms at that hour. `docker exec` makes the
same three requests, so what we add to them is what `minikubelet exec` and `kubectl exec` pay
over it. Here each request opens its own connection to the socket (a UNIX connect costs
microseconds; no pool to share between tasks) and h11 (the HTTP/1.1 state machine uvicorn and
httpx are built on, which the API server's upgrades use too) frames the request and reads the
answer.

Only an engine on a UNIX socket (`DOCKER_HOST` unset or `unix://`) is reached this way; for
others the runtime keeps the SDK's path. Docker-free: the Engine API's JSON, not the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.abc
import h11

__all__ = ["EngineError", "EngineHTTP", "unix_socket_path"]

TIMEOUT = 60.0  # the SDK client's timeout, per request


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
                conn = await self._request(stream, method, path, body)
                status = (await _answer(stream, conn)).status_code
                data = await _body(stream, conn)
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
                conn = await self._request(stream, "POST", path, body, upgrade=True)
                status = (await _answer(stream, conn)).status_code
                if status >= 400:
                    raise EngineError(status, _message(await _body(stream, conn)))
        except BaseException:
            await anyio.aclose_forcefully(stream)
            raise
        rest, _closed = conn.trailing_data  # what came after the head, not read by h11
        return stream, bytes(rest)

    async def _request(
        self,
        stream: anyio.abc.ByteStream,
        method: str,
        path: str,
        body: Any,
        upgrade: bool = False,
    ) -> h11.Connection:
        """Send the request (h11 frames it); the connection, waiting for the answer."""
        data = b"" if body is None else json.dumps(body).encode()
        headers = [("Host", "docker")]
        if body is not None:
            headers += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        if upgrade:
            headers += [("Connection", "Upgrade"), ("Upgrade", "tcp")]
        conn = h11.Connection(h11.CLIENT)
        target = f"{self.prefix}{path}"
        out = conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if data:
            out += conn.send(h11.Data(data=data)) or b""
        out += conn.send(h11.EndOfMessage()) or b""
        await stream.send(out)
        return conn


async def _next(stream: anyio.abc.ByteStream, conn: h11.Connection) -> Any:
    """The next h11 event, reading from the engine as h11 needs."""
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise ConnectionResetError(f"not an HTTP answer from the engine: {exc}") from None
        if event is not h11.NEED_DATA:
            return event
        try:
            conn.receive_data(await stream.receive())
        except anyio.EndOfStream:
            conn.receive_data(b"")


async def _answer(stream: anyio.abc.ByteStream, conn: h11.Connection) -> Any:
    """The answer's head: a Response, or the 101 that switches the connection."""
    while True:
        event = await _next(stream, conn)
        if isinstance(event, h11.Response):
            return event
        if isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            return event
        if isinstance(event, h11.ConnectionClosed):
            raise ConnectionResetError("the engine closed the connection")


async def _body(stream: anyio.abc.ByteStream, conn: h11.Connection) -> bytes:
    """The answer's body, whatever its framing (Content-Length, chunked, until closed)."""
    body = bytearray()
    while True:
        event = await _next(stream, conn)
        if isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return bytes(body)


def _message(data: bytes) -> str:
    """The engine's words: the `message` of its JSON error, else the text as it came."""
    try:
        found = json.loads(data)
    except ValueError:
        found = None
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"])
    return data.decode("utf-8", "replace").strip()
