"""Docker SDK streams (logs, exec output, events) read from worker threads, and shut safely.

Docker-free: these take the SDK's stream objects as they are. Only `runtime/docker.py` and its
`_sessions` use them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel

from minikubelet.api.raw import JSON as Raw

__all__ = [
    "EXEC_OUTPUT_CAP",
    "continued",
    "drain",
    "pump_events",
    "release",
    "shutdown",
]

EXEC_OUTPUT_CAP = 10 * 1024  # what a probe keeps; the kubelet keeps 10 KiB of probe output too
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


def continued(pending: bytes, frame: bytes) -> bytes:
    """A log frame (asked with timestamps) without the engine's timestamp when it continues a
    line (`pending`: what came since the last newline). The kubelet stamps a line once, where
    it starts (kuberuntime/logs `write(msg, addPrefix)`); Podman stamps each piece a process
    wrote (`partial2026-12-03T14:48:56Z  end`), Docker a piece of a line over 16 KiB."""
    if pending and (stamp := _STAMP.match(frame)):
        return frame[stamp.end() :]
    return frame


def drain(stream: Iterator[bytes], chunks: list[bytes]) -> None:
    """Read an exec's output to its end; keep the first 10 KiB, discard the rest."""
    kept = 0
    try:
        for chunk in stream:
            if kept < EXEC_OUTPUT_CAP:
                chunks.append(chunk[: EXEC_OUTPUT_CAP - kept])
                kept += len(chunks[-1])
    finally:
        release(stream)


def shutdown(stream: Any) -> None:
    """Shut an SDK stream's socket down: safe from any thread, it wakes a blocked reader.
    The descriptor stays open (the response still holds it) until `release`."""
    with contextlib.suppress(OSError):
        stream.close()


def release(stream: Any) -> None:
    """Shut down and close for good; only once no thread reads the stream any more."""
    shutdown(stream)
    response = getattr(stream, "_response", None)  # CancellableStream keeps it private
    if response is not None:
        response.close()


def pump_events(stream: Iterator[Raw], send: Any, token: anyio.lowlevel.EventLoopToken) -> None:
    """The events thread: SDK stream to memory stream, until either side closes."""
    try:
        for raw in stream:
            anyio.from_thread.run(send.send, raw, token=token)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.RunFinishedError):
        pass
    finally:
        with contextlib.suppress(anyio.RunFinishedError):
            anyio.from_thread.run_sync(send.close, token=token)
