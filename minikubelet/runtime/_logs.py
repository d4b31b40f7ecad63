"""A container's logs on the engine, a part of `DockerRuntime` kept apart.

Docker-free: the SDK's log stream is asked for through the runtime's own `_call` on the
streams gate (a worker thread behind its limiter, STYLE pattern 5), then read and shut with the
helpers of `_streams`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread

from minikubelet.runtime._streams import continued, release, shutdown
from minikubelet.runtime.types import LogOptions

__all__ = ["Logs"]


class Logs:
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    _streams: Any  # the gate of long reads (logs, pulls): its client and limiter
    _call: Callable[..., Awaitable[Any]]

    async def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        """Line by line; each read of the stream is its own thread hop (a read-only call, so
        cancellation may abandon it), and closing the stream on exit ends that thread."""
        stream = await self._call(
            lambda c: c.logs(
                container_id,
                stream=True,
                follow=options.follow,
                tail="all" if options.tail is None else options.tail,
                since=options.since.timestamp() if options.since else None,
                timestamps=options.timestamps,
            ),
            gate=self._streams,
        )
        idle = threading.Event()

        def read() -> bytes | None:
            try:
                return next(stream, None)
            finally:
                idle.set()

        pending = b""
        try:
            while True:
                idle.clear()
                chunk = await anyio.to_thread.run_sync(
                    read, abandon_on_cancel=True, limiter=self._streams.limiter
                )
                if chunk is None:
                    break
                if options.timestamps:
                    chunk = continued(pending, chunk)
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    yield line + b"\n"
            if pending:
                yield pending + b"\n"
        finally:
            shutdown(stream)  # ends an abandoned read; wait for it before closing for good
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(idle.wait, 2.0)
            release(stream)
