"""An interactive exec (or attach) over the engine's hijacked connection, without threads.

Docker-free: `runtime/docker.py` makes the SDK calls (create, start, resize, inspect) in worker
threads behind its limiters and hands the switched socket here, where anyio reads and writes it
on the event loop, so a session costs a socket, not a thread. Without a TTY the engine
multiplexes stdout and stderr in frames of `stream (1) · 0 0 0 · length (4, big-endian)`; with
a TTY the bytes are the terminal's, all on stdout. Shutting the write side down is stdin's EOF.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc

from minikubelet.runtime._engine_http import EngineHTTP

__all__ = [
    "RawExec",
    "create_and_start_exec",
    "engine_exec",
    "open_attach",
    "open_exec",
    "start_attach",
    "start_exec",
]

STDOUT, STDERR = 1, 2


def start_exec(client: Any, exec_id: str, tty: bool) -> tuple[Any, bytes, Any]:
    """`exec_start` with the connection switched (Upgrade: tcp): the raw socket, the bytes the
    HTTP reader already buffered past the 101's head (docker-py's own `socket=True` drops them),
    and the response that owns the socket."""
    response = client._post_json(
        client._url("/exec/{0}/start", exec_id),
        headers=_UPGRADE,
        data={"Tty": tty, "Detach": False},
        stream=True,
    )
    return _switched(client, response)


def start_attach(client: Any, container_id: str, stdin: bool) -> tuple[Any, bytes, Any]:
    """`POST /containers/{id}/attach`, switched as `start_exec`: new output only (no logs)."""
    params = {"stream": 1, "stdout": 1, "stderr": 1, "stdin": int(stdin)}
    response = client._post(
        client._url("/containers/{0}/attach", container_id),
        headers=_UPGRADE,
        params=params,
        stream=True,
    )
    return _switched(client, response)


_UPGRADE = {"Connection": "Upgrade", "Upgrade": "tcp"}


def _switched(client: Any, response: Any) -> tuple[Any, bytes, Any]:
    client._raise_for_status(response)
    reader = response.raw._fp.fp
    sock = reader.raw._sock
    sock.setblocking(False)
    try:
        initial = reader.read1(1 << 16) or b""
    except BlockingIOError:
        initial = b""
    return sock, initial, response


async def socket_stream(sock: socket.socket) -> anyio.abc.SocketStream:
    if sock.family == socket.AF_UNIX:
        return await anyio.abc.UNIXSocketStream.from_socket(sock)
    return await anyio.abc.SocketStream.from_socket(sock)


class RawExec:
    """`runtime.types.ExecStream` over a switched engine connection."""

    def __init__(
        self,
        stream: anyio.abc.SocketStream,
        *,
        tty: bool,
        initial: bytes = b"",
        resize: Callable[[int, int], Awaitable[None]],
        exit_code: Callable[[], Awaitable[int | None]],
        release: Callable[[], None] = lambda: None,
    ) -> None:
        self._release = release
        self._stream = stream
        self._tty = tty
        self._buffer = bytearray(initial)
        self._resize = resize
        self._exit_code = exit_code
        self._ended = False
        self.exited: int | None = None

    async def _fill(self) -> bool:
        try:
            self._buffer += await self._stream.receive()
            return True
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self._ended = True
            return False

    async def read(self) -> tuple[int, bytes] | None:
        """The next output: (1 stdout | 2 stderr, bytes); None once the output ended."""
        if self._tty:
            if not self._buffer and (self._ended or not await self._fill()):
                return None
            data, self._buffer = bytes(self._buffer), bytearray()
            return STDOUT, data
        while True:
            if len(self._buffer) >= 8:
                kind, size = self._buffer[0], struct.unpack_from(">I", self._buffer, 4)[0]
                if len(self._buffer) >= 8 + size:
                    data = bytes(self._buffer[8 : 8 + size])
                    del self._buffer[: 8 + size]
                    if size:
                        return (STDERR if kind == 2 else STDOUT), data
                    continue
            if self._ended or not await self._fill():
                return None

    async def write(self, data: bytes) -> None:
        await self._stream.send(data)

    async def close_stdin(self) -> None:
        try:
            await self._stream.send_eof()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass

    async def resize(self, width: int, height: int) -> None:
        if width and height:
            await self._resize(width, height)

    async def wait(self) -> int | None:
        """The exit code, once the output ended (the engine records it a moment later)."""
        self.exited = await self._exit_code()
        return self.exited

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


def create_and_start_exec(
    client: Any, container_id: str, argv: list[str], stdin: bool, tty: bool
) -> tuple[str, tuple[Any, bytes, Any]]:
    """`exec_create`, then `start_exec`, in one worker thread's turn (one hop, not two, on a
    path docker exec takes with one process): the exec's id and the switched connection."""
    created = client.exec_create(container_id, argv, stdin=stdin, tty=tty)
    exec_id = str(created["Id"])
    return exec_id, start_exec(client, exec_id, tty)


async def engine_exec(
    engine: EngineHTTP, container_id: str, argv: list[str], *, stdin: bool, tty: bool
) -> tuple[str, anyio.abc.SocketStream, bytes]:
    """`create_and_start_exec` on the event loop: the requests the SDK's `exec_create` and
    `start_exec` write (the same JSON bodies, `Upgrade: tcp`); the exec's id, the switched
    connection and the bytes read past its head."""
    created = await engine.json(
        "POST",
        f"/containers/{container_id}/exec",
        {
            "Container": container_id, "User": "", "Privileged": False, "Tty": tty,
            "AttachStdin": stdin, "AttachStdout": True, "AttachStderr": True, "Cmd": argv,
        },
    )  # fmt: skip
    exec_id = str(created["Id"])
    stream, initial = await engine.upgrade(f"/exec/{exec_id}/start", {"Tty": tty, "Detach": False})
    return exec_id, stream, initial


async def open_exec(
    call: Callable[..., Awaitable[Any]],
    exec_id: str,
    started: tuple[Any, bytes, Any],
    tty: bool,
    exit_code: Callable[[], Awaitable[int | None]],
) -> RawExec:
    """The session of a started exec (`create_and_start_exec`); `call(fn, *args)` runs
    `fn(client, *args)` in a thread."""
    sock, initial, response = started

    async def resize(width: int, height: int) -> None:
        await call(lambda c: c.exec_resize(exec_id, height, width))

    return RawExec(
        await socket_stream(sock), tty=tty, initial=initial, resize=resize,
        exit_code=exit_code, release=response.close,
    )  # fmt: skip


async def open_attach(
    call: Callable[..., Awaitable[Any]], container_id: str, *, stdin: bool, tty: bool
) -> RawExec:
    """Attach to a running container, switched; its output ends when the process does, and
    attach has no exit code to give (the kubelet reports Success): `wait()` gives 0."""
    sock, initial, response = await call(start_attach, container_id, stdin)

    async def resize(width: int, height: int) -> None:
        await call(lambda c: c.resize(container_id, height, width))

    async def no_exit_code() -> int | None:
        return 0

    return RawExec(
        await socket_stream(sock), tty=tty, initial=initial, resize=resize,
        exit_code=no_exit_code, release=response.close,
    )  # fmt: skip
