"""exec and attach sessions: a process's stdio carried over WebSocket channels or SPDY streams.

One pump for both transports: the client's stdin, stdin EOF and terminal sizes go to the
process; its stdout and stderr go to the client on the channels the client asked for; when the
output ends the exit code goes on the error channel as a Status (v4/v5) or text (older), and
the session closes the way each transport expects (WebSocket close 1000; SPDY FINs, then
GOAWAY). If the client goes first, the pump is cancelled and the runtime's context kills what
still runs. kubelet's `pkg/kubelet/cri/streaming/remotecommand`; streaming.md §2–§3.4, Part 5.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from minikubelet.errors import RuntimeFailure
from minikubelet.runtime.types import ExecStream
from minikubelet.server.streams import channels
from minikubelet.server.streams.channels import ERROR, RESIZE, STDERR, STDIN, STDOUT
from minikubelet.server.streams.spdy_conn import SpdyConnection, SpdyStream
from minikubelet.server.streams.websocket import WebSocket

__all__ = [
    "ExecOptions",
    "SPDY_PROTOCOLS",
    "exec_options",
    "go_bool",
    "serve_spdy",
    "serve_websocket",
    "start_failed",
]

# The runtime streaming server's SPDY protocols (apimachinery SupportedStreamingProtocols):
# kubectl offers v5 first, but a node answers v4 over SPDY.
SPDY_PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
STREAM_CREATION_TIMEOUT = 30.0  # DefaultStreamCreationTimeout


def go_bool(value: str | None) -> bool:
    """The API server's query booleans: "false"/"0" (any case) are false, other values true."""
    return value is not None and value.lower() not in ("false", "0")


@dataclass(frozen=True, slots=True)
class ExecOptions:
    command: list[str] = field(default_factory=list)
    container: str = ""
    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False


def exec_options(query: Any) -> ExecOptions:
    """From kubectl's (`stdin=true`) or the Python client's (`stdin=True`) query; with a TTY
    stderr is merged into stdout, as the runtime's `NewOptions` decides."""
    tty = go_bool(query.get("tty"))
    return ExecOptions(
        command=list(query.getlist("command")),
        container=query.get("container") or "",
        stdin=go_bool(query.get("stdin")),
        stdout=go_bool(query.get("stdout")),
        stderr=go_bool(query.get("stderr")) and not tty,
        tty=tty,
    )


def _status(code: int | None, argv: list[str], translated: bool) -> dict[str, Any]:
    if code == 0:
        return channels.success()
    if code is None:
        return channels.internal_error("error executing command in container: exit code unknown")
    if translated:  # the API server's v5 translator words it so (streamtranslator.go)
        return channels.exit_status(code, f"command terminated with exit code {code}")
    return channels.exit_status(
        code, f"error executing command [{' '.join(argv)}], exit code {code}"
    )


Send = Callable[[int, bytes], Awaitable[None]]


def start_failed(exc: RuntimeFailure) -> dict[str, Any]:
    """The kubelet's answer when the runtime cannot start the process after the upgrade (the
    container stopped since it was found): an internal error on the error channel
    (`cri/streaming/remotecommand` ServeExec)."""
    return channels.internal_error(f"error executing command in container: {exc}")


async def _resize(process: ExecStream, size: channels.TerminalSize) -> None:
    """A resize the process did not live to see (the engine answers 409, not running) is
    dropped, as the kubelet logs and drops it: the session's output and status still go out."""
    with contextlib.suppress(RuntimeFailure):
        await process.resize(size.width, size.height)


async def _write_stdin(process: ExecStream, data: bytes) -> bool:
    """Forward stdin; False once the process no longer takes it (it exited, or closed its
    end), after which the client's stdin is read and dropped, never an end of the session."""
    try:
        await process.write(data)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        return False
    return True


async def _pump_output(process: ExecStream, opts: ExecOptions, send: Send) -> int | None:
    while (chunk := await process.read()) is not None:
        channel, data = chunk
        if channel == STDERR and not opts.stderr:
            channel = STDOUT if opts.tty else -1
        if channel == STDOUT and not opts.stdout:
            continue
        if channel >= 0:
            await send(channel, data)
    return await process.wait()


# -- WebSocket ------------------------------------------------------------------------------


async def serve_websocket(
    ws: WebSocket, protocol: str, opts: ExecOptions, process: ExecStream
) -> None:
    """One exec/attach session on a WebSocket; returns when it is over either way."""
    gone = False

    async def send(channel: int, data: bytes) -> None:
        await ws.send(channels.encode(protocol, channel, data))

    async def read_client(scope: anyio.CancelScope) -> None:
        nonlocal gone
        sizes = channels.ResizeDecoder()
        stdin = opts.stdin
        try:
            while (message := await ws.receive()) is not None:
                frame = channels.decode(protocol, message)
                if frame is None:
                    continue
                if frame.channel == STDIN and stdin:
                    stdin = await _write_stdin(process, frame.data)
                elif frame.channel == channels.CLOSE and protocol == channels.V5:
                    if channels.closed_channel(frame) == STDIN:
                        await process.close_stdin()
                elif frame.channel == RESIZE and opts.tty:
                    for size in sizes.feed(frame.data):
                        await _resize(process, size)
        except (ValueError, anyio.BrokenResourceError, OSError):
            pass
        gone = True
        scope.cancel()

    first = STDOUT if opts.stdout else STDERR if opts.stderr else ERROR
    async with anyio.create_task_group() as tg:
        tg.start_soon(read_client, tg.cancel_scope)
        try:
            await send(first, b"")
            code = await _pump_output(process, opts, send)
            status = _status(code, opts.command, protocol == channels.V5)
            await send(ERROR, channels.status_payload(protocol, status))
        except (anyio.BrokenResourceError, OSError):
            gone = True
        tg.cancel_scope.cancel()
    if not gone:
        await ws.close()


# -- SPDY -----------------------------------------------------------------------------------


async def _await_streams(conn: SpdyConnection, wanted: int) -> dict[str, SpdyStream]:
    found: dict[str, SpdyStream] = {}
    with anyio.move_on_after(STREAM_CREATION_TIMEOUT):
        async for stream in conn.accepted:
            kind = stream.header("streamtype") or ""
            if kind in ("error", "stdin", "stdout", "stderr", "resize"):
                found[kind] = stream
            if len(found) >= wanted:
                break
    return found


async def serve_spdy(
    conn: SpdyConnection,
    protocol: str,
    opts: ExecOptions,
    start: Callable[[], Any],
) -> None:
    """One exec/attach session on a SPDY connection that `conn.serve` is reading (in the
    caller's task group). `start()` is the runtime's context manager of the process, entered
    only once the client's streams exist, as the kubelet waits for them first."""
    v3 = protocol in ("v4.channel.k8s.io", "v3.channel.k8s.io")
    wanted = 1 + opts.stdin + opts.stdout + opts.stderr + (opts.tty and v3)
    streams = await _await_streams(conn, wanted)
    if len(streams) < wanted:
        return  # timed out waiting for client to create streams, or the client left
    outputs: Mapping[int, SpdyStream | None] = {
        STDOUT: streams.get("stdout"),
        STDERR: streams.get("stderr"),
    }

    async def send(channel: int, data: bytes) -> None:
        target = outputs.get(channel)
        if target is not None:
            await target.send(data)

    async with contextlib.AsyncExitStack() as stack:
        try:
            process = await stack.enter_async_context(start())
        except RuntimeFailure as exc:
            with contextlib.suppress(anyio.BrokenResourceError, OSError):
                await streams["error"].send(channels.status_payload(protocol, start_failed(exc)))
                await streams["error"].close()
            return
        async with anyio.create_task_group() as tg:

            async def copy_stdin(stream: SpdyStream) -> None:
                taken = True
                try:
                    while True:
                        data = await stream.receive()
                        taken = taken and await _write_stdin(process, data)
                except anyio.EndOfStream:
                    await process.close_stdin()

            async def resizes(stream: SpdyStream) -> None:
                sizes = channels.ResizeDecoder()
                try:
                    while True:
                        for size in sizes.feed(await stream.receive()):
                            await _resize(process, size)
                except anyio.EndOfStream:
                    pass

            async def watch_client() -> None:
                await conn.closed.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_client)
            if "stdin" in streams:
                tg.start_soon(copy_stdin, streams["stdin"])
            if "resize" in streams:
                tg.start_soon(resizes, streams["resize"])
            try:
                code = await _pump_output(process, opts, send)
                for stream in outputs.values():
                    if stream is not None:
                        await stream.close()
                status = _status(code, opts.command, translated=False)
                payload = channels.status_payload(protocol, status)
                if payload:
                    await streams["error"].send(payload)
                await streams["error"].close()
            except (anyio.BrokenResourceError, OSError):
                pass
            tg.cancel_scope.cancel()
