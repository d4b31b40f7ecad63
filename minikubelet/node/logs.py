"""Pod logs from the engine, with the API server's answers when there is nothing to read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from minikubelet.api.models import Pod
from minikubelet.errors import BadRequest
from minikubelet.runtime.types import ContainerInfo, LogOptions, Runtime
from minikubelet.status.records import newest_first

__all__ = ["open_logs"]


def _waiting_reason(pod: Pod, container: str) -> str:
    statuses = (
        [*(pod.status.initContainerStatuses or []), *(pod.status.containerStatuses or [])]
        if pod.status
        else []
    )
    for status in statuses:
        if status.name == container and status.state and status.state.waiting:
            return status.state.waiting.reason or "ContainerCreating"
    return "ContainerCreating"


async def open_logs(
    runtime: Runtime, now: datetime, pod: Pod, container: str, options: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The chosen instance's output (`previous` = the one before the newest); raises
    BadRequest in the kubelet's words when there is none, before anything is streamed."""
    uid = pod.metadata.uid or ""
    instances = newest_first([c for c in await runtime.list_containers() if c.pod_uid == uid])
    found: list[ContainerInfo] = instances.get(container, [])
    where = f'container "{container}" in pod "{pod.name}"'
    if options.get("previous"):
        if len(found) < 2:
            raise BadRequest(f"previous terminated {where} not found")
        chosen = found[1]
    elif not found:
        raise BadRequest(f"{where} is waiting to start: {_waiting_reason(pod, container)}")
    else:
        chosen = found[0]
    since = options.get("sinceTime")
    if options.get("sinceSeconds"):
        since = now - timedelta(seconds=options["sinceSeconds"])
    log_options = LogOptions(
        follow=bool(options.get("follow")) and not options.get("previous"),
        tail=options.get("tailLines"),
        since=since,
        timestamps=bool(options.get("timestamps")),
    )
    return _limited(runtime.logs(chosen.id, log_options), options.get("limitBytes"))


async def _limited(lines: AsyncIterator[bytes], limit: int | None) -> AsyncIterator[bytes]:
    sent = 0
    async for line in lines:
        if limit is not None and sent + len(line) >= limit:
            yield line[: limit - sent]
            return
        sent += len(line)
        yield line
