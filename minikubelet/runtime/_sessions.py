"""Interactive sessions on the engine (exec, attach, a port-forward's dial), and the bounded
`exec` (CRI's ExecSync: exec probes) run through one, a part of `DockerRuntime` kept apart.

Docker-free: an exec's create, start and exit code are requests written on the event loop
(`_engine_http`) when the engine listens on a UNIX socket; otherwise (and for Podman, whose
answers to them are not tested this way) the SDK calls go through the runtime's own `_call` (a
worker thread behind the sessions gate, STYLE pattern 5) on the client it gives. The session's
bytes move on the event loop either way (`_exec_stream`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.to_thread

from minikubelet.api.raw import JSON as Raw
from minikubelet.clock import Clock
from minikubelet.errors import ContainerNotFound, RuntimeFailure, RuntimeUnavailable
from minikubelet.runtime._direct import (
    DirectExec,
    Helper,
    Target,
    Unsupported,
    target_of,
    with_command,
)
from minikubelet.runtime._docker_json import container_gone
from minikubelet.runtime._engine_http import EngineError, EngineHTTP, unix_socket_path
from minikubelet.runtime._exec_stream import (
    STDERR,
    STDOUT,
    RawExec,
    create_and_start_exec,
    engine_exec,
    open_attach,
    open_exec,
)
from minikubelet.runtime._netns import PodSocketStream, dial_in_netns
from minikubelet.runtime._proc import kill_tree
from minikubelet.runtime._streams import EXEC_OUTPUT_CAP
from minikubelet.runtime.types import ExecResult, ExecStream

__all__ = ["Sessions", "engine_failure"]

DIAL_TIMEOUT = 10.0
log = logging.getLogger(__name__)
T = TypeVar("T")


def engine_failure(exc: EngineError) -> RuntimeFailure:
    """As the runtime translates the SDK's errors: a missing (or going) container, else the
    call's failure, in the engine's words."""
    if container_gone(exc.status, exc.message):
        return ContainerNotFound(exc.message)
    return RuntimeFailure(exc.message)


class Sessions:
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    _sessions: Any
    _call: Callable[..., Awaitable[Any]]
    _clock: Clock
    _inspect: Callable[[str], Awaitable[dict[str, Any]]]
    _netns: dict[str, tuple[str, int]]  # sandbox id -> its /proc/<pid>/ns/net, and inode
    _client: Callable[[Any], Awaitable[Any]]
    _api_version: str | None
    _podman: bool
    _engine_http: EngineHTTP | None | bool = False  # False: not decided yet
    _helper: Helper | None
    _targets: dict[str, Target | None]

    async def _engine(self) -> EngineHTTP | None:
        """The engine's API on the event loop, once a client learnt its version; None when
        the engine is not on a UNIX socket or is Podman."""
        if self._engine_http is False:
            await self._client(self._sessions)  # the API version and the engine's kind
            path = unix_socket_path(os.environ)
            version = self._api_version
            usable = path is not None and version is not None and not self._podman
            self._engine_http = EngineHTTP(path, version) if usable and path and version else None
        return self._engine_http if isinstance(self._engine_http, EngineHTTP) else None

    async def _engine_call(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except EngineError as exc:
            raise engine_failure(exc) from exc
        except OSError as exc:  # TimeoutError included
            raise RuntimeUnavailable(f"Docker engine unreachable: {exc}") from exc

    # -- exec ---------------------------------------------------------------------------

    async def exec(self, container_id: str, argv: list[str], timeout: float) -> ExecResult:
        """Run argv (no shell) with stdout and stderr each capped at 10 KiB, through the same
        session as `exec_stream` (on the event loop: no worker thread waits on the process).
        `timeout` counts from the process's start, as CRI `ExecSync`'s (containerd starts its
        timer once the process runs; the engine answers the start request before it asks
        runc to start it, which on a busy engine takes seconds: `_running`). Past it the
        process and its children are SIGKILLed from the host by their PIDs (exec inspect gives
        the host PID): no wrapper binary is needed in the image, nothing is quoted into a shell."""
        kept: dict[int, list[bytes]] = {STDOUT: [], STDERR: []}
        sizes = {STDOUT: 0, STDERR: 0}
        code: int | None = None
        done = anyio.Event()

        async def drain(session: ExecStream) -> None:
            nonlocal code
            while (got := await session.read()) is not None:
                kind, data = got
                if sizes[kind] < EXEC_OUTPUT_CAP:
                    kept[kind].append(data[: EXEC_OUTPUT_CAP - sizes[kind]])
                    sizes[kind] += len(kept[kind][-1])
            code = await session.wait()
            done.set()

        async with self._exec_session(container_id, argv, stdin=False, tty=False) as (
            exec_id,
            session,
        ):
            async with anyio.create_task_group() as tg:
                tg.start_soon(drain, session)
                if exec_id is not None:  # the engine's: it may not run yet
                    await self._running(exec_id, done)
                with anyio.move_on_after(timeout) as deadline:
                    await done.wait()
                tg.cancel_scope.cancel()
            # Leaving the session before `wait` kills the process: the timeout's SIGKILL.
        stdout, stderr = b"".join(kept[STDOUT]), b"".join(kept[STDERR])
        return ExecResult(
            exit_code=137 if code is None else code,
            output=(stdout + stderr)[:EXEC_OUTPUT_CAP],
            timed_out=deadline.cancelled_caught,
            stdout=stdout,
            stderr=stderr,
        )

    async def _running(self, exec_id: str, done: anyio.Event) -> None:
        """Until the engine says the exec's process runs (or ran): asked at 10 ms, then at
        twice the wait each time up to 0.2 s, so an exec that starts at once costs one
        request. Through the SDK (no `exec_state`), at once: the start request's answer."""
        wait = 0.01
        while not done.is_set():
            state = await self.exec_state(exec_id)
            if state is None or state.get("Running") or state.get("ExitCode") is not None:
                return
            with anyio.move_on_after(wait):
                await done.wait()
            wait = min(2 * wait, 0.2)

    async def _exit_code(self, exec_id: str) -> int | None:
        """The engine records an exec's exit a moment after its output closes: ask again."""
        for _ in range(50):
            found = await self.exec_state(exec_id)
            info: Raw = (
                found
                if found is not None
                else await self._call(lambda c: c.exec_inspect(exec_id), gate=self._sessions)
            )
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            await self._clock.sleep(0.02)
        return None

    async def _kill_exec(self, exec_id: str) -> None:
        """Through the control gate: the sessions' tokens may all be held by hung execs."""
        info: Raw = await self._call(lambda c: c.exec_inspect(exec_id))
        pid = int(info.get("Pid") or 0)
        if info.get("Running") and pid > 0:
            await anyio.to_thread.run_sync(kill_tree, pid)

    @contextlib.asynccontextmanager
    async def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[ExecStream]:
        async with self._exec_session(container_id, argv, stdin=stdin, tty=tty) as (_, session):
            yield session

    @contextlib.asynccontextmanager
    async def _exec_session(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AsyncIterator[tuple[str | None, RawExec | DirectExec]]:
        """A started exec and the engine's id for it (None for one started without the
        engine, `_direct`); leaving before its exit code kills the process."""
        direct = await self._direct_exec(container_id, argv, stdin=stdin, tty=tty)
        if direct is not None:
            try:
                yield None, direct
            finally:
                with anyio.CancelScope(shield=True):
                    if direct.exited is None:
                        await direct.kill()
                    await direct.aclose()
            return
        call = partial(self._call, gate=self._sessions)
        engine = await self._engine()
        if engine is None:
            exec_id, started = await call(create_and_start_exec, container_id, argv, stdin, tty)
            exit_code = partial(self._exit_code, exec_id)
            session = await open_exec(call, exec_id, started, tty, exit_code)
        else:
            # Shielded, as a worker thread is never abandoned: an exec the engine started is
            # always in our hands to kill when the session ends early.
            with anyio.CancelScope(shield=True):
                exec_id, stream, initial = await self._engine_call(
                    engine_exec(engine, container_id, argv, stdin=stdin, tty=tty)
                )
            session = RawExec(
                stream, tty=tty, initial=initial,
                resize=partial(self._resize_exec, exec_id),
                exit_code=partial(self._exit_code, exec_id),
            )  # fmt: skip
        try:
            yield exec_id, session
        finally:
            with anyio.CancelScope(shield=True):
                if session.exited is None:  # the client left first: no process stays behind
                    await self._kill_exec(exec_id)
                await session.aclose()

    async def _direct_exec(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> DirectExec | None:
        """The process started without the engine (`_direct`), or None: the engine's exec
        then, which also says what is wrong (a container gone, not running)."""
        if self._helper is None or self._podman or not argv:
            return None
        target = self._targets.get(container_id)
        if target is not None and not target.alive():
            del self._targets[container_id]  # restarted: plan it again
        if container_id not in self._targets:
            target = await self._target(container_id)
        if target is None:
            return None
        return await self._helper.start(with_command(target.plan, argv, tty), stdin=stdin)

    async def _target(self, container_id: str) -> Target | None:
        try:
            state = (await self._inspect(container_id)).get("State") or {}
        except RuntimeFailure:
            return None  # the engine's exec says it in its words
        pid = int(state.get("Pid") or 0)
        if not state.get("Running") or pid <= 0:
            return None
        try:
            target: Target | None = await anyio.to_thread.run_sync(target_of, pid)
        except (Unsupported, OSError, ValueError, KeyError) as exc:
            log.info("exec into %s goes through the engine: %s", container_id[:12], exc)
            target = None
        self._targets[container_id] = target
        return target

    def _forget_target(self, container_id: str) -> None:
        self._targets.pop(container_id, None)

    async def _resize_exec(self, exec_id: str, width: int, height: int) -> None:
        await self._call(lambda c: c.exec_resize(exec_id, height, width), gate=self._sessions)

    async def exec_state(self, exec_id: str) -> dict[str, Any] | None:
        """`GET /exec/{id}/json` on the event loop; None when the engine is reached only
        through the SDK (the caller asks it then)."""
        engine = await self._engine()
        if engine is None:
            return None
        found: dict[str, Any] = await self._engine_call(engine.json("GET", f"/exec/{exec_id}/json"))
        return found

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
        return PodSocketStream(sock)

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
