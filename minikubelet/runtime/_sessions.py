"""Interactive sessions on the engine (exec), a part of `DockerRuntime` kept apart.

Docker-free: the SDK calls go through the runtime's own `_call` (a worker thread behind the
sessions gate, STYLE pattern 5) on the client it gives; the session's bytes then move on the
event loop (`_exec_stream`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from minikubelet.errors import RuntimeFailure
from minikubelet.runtime._exec_stream import (
    create_and_start_exec,
    open_attach,
    open_exec,
    socket_stream,
)
from minikubelet.runtime._netns import dial_in_netns
from minikubelet.runtime.types import ExecStream

__all__ = ["Sessions"]

DIAL_TIMEOUT = 10.0


class Sessions:
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    _sessions: Any
    _call: Callable[..., Awaitable[Any]]
    _exit_code: Callable[[str], Awaitable[int | None]]
    _kill_exec: Callable[[str], Awaitable[None]]
    _inspect: Callable[[str], Awaitable[dict[str, Any]]]
    _netns: dict[str, tuple[str, int]]  # sandbox id -> its /proc/<pid>/ns/net, and inode

    @contextlib.asynccontextmanager
    async def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        call = partial(self._call, gate=self._sessions)
        exec_id, started = await call(create_and_start_exec, container_id, argv, stdin, tty)
        session = await open_exec(call, exec_id, started, tty, partial(self._exit_code, exec_id))
        try:
            yield session
        finally:
            with anyio.CancelScope(shield=True):
                if session.exited is None:  # the client left first: no process stays behind
                    await self._kill_exec(exec_id)
                await session.aclose()

    @contextlib.asynccontextmanager
    async def attach(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        """The container's own stdio; its framing follows the container's Tty, whatever the
        caller believes. Leaving detaches; nothing is killed."""
        call = partial(self._call, gate=self._sessions)
        raw = await self._inspect(container_id)
        framed_tty = bool((raw.get("Config") or {}).get("Tty"))
        session = await open_attach(call, container_id, stdin=stdin, tty=framed_tty)
        try:
            yield session
        finally:
            with anyio.CancelScope(shield=True):
                await session.aclose()

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.SocketStream:
        """localhost:port inside the sandbox's network namespace (the host's for hostNetwork).
        The namespace found by an inspect is remembered with its inode, so the next dial into
        it (every connection of a port-forward) needs no engine call; a namespace whose
        process is gone, or whose pid now holds another namespace, is inspected again."""
        ns = self._known_netns(sandbox_id)
        if ns is None:
            raw = await self._inspect(sandbox_id)
            host = (raw.get("HostConfig") or {}).get("NetworkMode") == "host"
            pid = int((raw.get("State") or {}).get("Pid") or 0)
            if not host and pid <= 0:
                raise RuntimeFailure(f"sandbox {sandbox_id} is not running")
            if not host:
                ns = f"/proc/{pid}/ns/net"
                with contextlib.suppress(OSError):
                    self._netns[sandbox_id] = (ns, os.stat(ns).st_ino)
        sock = await anyio.to_thread.run_sync(
            dial_in_netns, ns, port, sandbox_id, DIAL_TIMEOUT, limiter=self._sessions.limiter
        )
        return await socket_stream(sock)

    def _known_netns(self, sandbox_id: str) -> str | None:
        known = self._netns.get(sandbox_id)
        if known is None:
            return None
        path, inode = known
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                return path
        del self._netns[sandbox_id]
        return None
