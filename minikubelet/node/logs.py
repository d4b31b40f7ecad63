"""Pod logs from the engine: which instance to read, chosen from the pod's status as the kubelet
does (`validateContainerLogStatus`), with its errors when there is nothing to read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from minikubelet.api.codec import from_dict
from minikubelet.api.models import ContainerStatus, Pod
from minikubelet.errors import BadRequest, ContainerNotFound
from minikubelet.runtime.types import LogOptions, Runtime

__all__ = ["last_lines", "log_container_id", "open_logs"]


def _status(pod: Pod, container: str) -> ContainerStatus | None:
    statuses = []
    if pod.status is not None:
        ephemeral = pod.status.extra.get("ephemeralContainerStatuses") or []
        statuses = [
            *(pod.status.initContainerStatuses or []),
            *(pod.status.containerStatuses or []),
            *(from_dict(ContainerStatus, s) for s in ephemeral),
        ]
    return next((s for s in statuses if s.name == container), None)


def log_container_id(pod: Pod, container: str, previous: bool) -> str:
    """The `docker://<id>` whose output `logs` reads; BadRequest in the kubelet's words."""
    where = f'container "{container}" in pod "{pod.name}"'
    status = _status(pod, container)
    state = status.state if status and status.state else None
    last = status.lastState.terminated if status and status.lastState else None
    if previous:
        if last is None or not last.containerID:
            raise BadRequest(f"previous terminated {where} not found")
        return last.containerID
    if state is not None and state.running is not None and status is not None:
        return status.containerID or ""
    if state is not None and state.terminated is not None:
        if state.terminated.containerID:
            return state.terminated.containerID
        if last is not None and last.containerID:
            return last.containerID
        raise BadRequest(f"{where} is terminated")
    if last is not None:
        if not last.containerID:
            raise BadRequest(f"{where} is terminated")
        return last.containerID
    if state is not None and state.waiting is not None:
        reason = state.waiting.reason or ""
        detail = {
            "ErrImagePull": "image can't be pulled",
            "ImagePullBackOff": "trying and failing to pull image",
        }.get(reason, reason)
        raise BadRequest(f"{where} is waiting to start: {detail}")
    raise BadRequest(f"{where} is waiting to start - no logs yet")


async def open_logs(
    runtime: Runtime, now: datetime, pod: Pod, container: str, options: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The chosen instance's output; raises BadRequest before anything is streamed."""
    chosen = log_container_id(pod, container, bool(options.get("previous")))
    container_id = chosen.split("://", 1)[-1]
    since = options.get("sinceTime")
    if options.get("sinceSeconds"):
        since = now - timedelta(seconds=options["sinceSeconds"])
    log_options = LogOptions(
        follow=bool(options.get("follow")) and not options.get("previous"),
        tail=options.get("tailLines"),
        since=since,
        timestamps=bool(options.get("timestamps")),
    )
    lines = runtime.logs(container_id, log_options)
    try:  # the engine's errors surface here, before a 200 is sent, not in mid-stream
        first = await anext(lines)
    except StopAsyncIteration:
        first = None
    except ContainerNotFound as gone:
        # The status named an instance the container GC removed since (one dead instance is
        # kept per container, so a newer exit may have just taken it): the kubelet's server
        # answers a log read it cannot serve with 400, not 500.
        if options.get("previous"):
            raise BadRequest(
                f'previous terminated container "{container}" in pod "{pod.name}" not found'
            ) from gone
        raise BadRequest(str(gone)) from gone
    return _limited(first, lines, options.get("limitBytes"))


async def _limited(
    first: bytes | None, rest: AsyncIterator[bytes], limit: int | None
) -> AsyncIterator[bytes]:
    async def lines() -> AsyncIterator[bytes]:
        if first is None:
            return
        yield first
        async for line in rest:
            yield line

    sent = 0
    async for line in lines():
        if limit is not None and sent + len(line) >= limit:
            yield line[: limit - sent]
            return
        sent += len(line)
        yield line


async def last_lines(runtime: Runtime, container_id: str, count: int = 5) -> list[str]:
    """The last `count` lines a container logged (each cut at 200 characters), for the cause
    of its restart; the engine's error (container gone) propagates."""
    lines: list[str] = []
    stream = runtime.logs(container_id.split("://", 1)[-1], LogOptions(tail=count))
    async for chunk in stream:
        lines.append(chunk.decode("utf-8", errors="replace").rstrip("\r\n")[:200])
    return lines[-count:]
