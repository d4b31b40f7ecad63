"""What the dashboard's streams are made of: server-sent events, and an informer's
list-then-watch over the store, so a stream lists once at connect and then follows changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from anyio.abc import ObjectSendStream

from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.store import Store
from minikubelet.store.selectors import Fields

__all__ = ["KEEPALIVE", "Listed", "keepalive", "list_and_watch", "sse"]

KEEPALIVE = 15.0  # seconds of silence before a comment, so a closed page is noticed
KEEPALIVE_FRAME = b": keepalive\n\n"


def sse(event: str, data: Any) -> bytes:
    """One server-sent event (the data on one line: JSON has no raw newlines)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(frozen=True, slots=True)
class Listed:
    """All the objects, read at once: what came before no longer counts."""

    items: list[JSON]


async def list_and_watch(
    store: Store, kind: str, namespace: str | None, fields: Fields | None = None
) -> AsyncIterator[Listed | tuple[str, JSON]]:
    """`Listed` first, then each change as (type, object); `Listed` again only when the watch
    cannot resume where it stopped (410 Expired), so one list per gap, never one per change.
    The watch starts from the list's revision: no change falls between them. `fields` is a
    field selector: with `metadata.name` or an Event's `involvedObject.uid` the store decodes
    only what matches, not every change of the kind once per stream."""
    while True:
        items, revision = store.list(kind, namespace, field_selector=fields)
        yield Listed(items)
        since: str | None = revision
        while since is not None:
            async with store.watch(kind, namespace, since, field_selector=fields) as watcher:
                async for type_, obj in watcher:
                    if type_ == "ERROR":
                        since = None
                        break
                    yield type_, obj
                else:  # cut off (its buffer overflowed): resume where it stopped
                    since = str(watcher.resource_version)


async def keepalive(clock: Clock, send: ObjectSendStream[bytes]) -> None:
    """A comment every KEEPALIVE seconds: a page that went away is noticed by the failed write."""
    async with send:
        while True:
            await clock.sleep(KEEPALIVE)
            await send.send(KEEPALIVE_FRAME)
