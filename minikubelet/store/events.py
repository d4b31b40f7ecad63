"""Core/v1 Events as the kubelet's recorder writes them, de-duplicated as client-go does.

client-go's `EventCorrelate` (tools/record/events_cache.go) turns a repeat of an identical event
into a PATCH of the existing one: `count + 1`, `lastTimestamp = now`, name and `firstTimestamp`
kept. "Identical" is `getEventKey`: source (component, host), the involved object (kind,
namespace, name, fieldPath, uid, apiVersion; not its resourceVersion), type, reason and
message. The aggregation and spam-filter steps are left out on purpose (DESIGN, Decisions).

Pure functions of (event fields, now) only; `Store.record_event` runs them in a transaction.
The store keeps the dedup key in a column, so dedup survives an agent restart, where client-go's
in-memory LRU would forget and start a new Event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from minikubelet.api.codec import format_time
from minikubelet.api.raw import JSON

__all__ = [
    "dedup_key",
    "event_name",
    "index_columns",
    "involved_uid",
    "new_event",
    "repeat_event",
    "unix_nanos",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVOLVED_ORDER = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def dedup_key(event: JSON) -> str:
    """client-go's `getEventKey`, as a JSON array so no two different keys can run together."""
    source = event.get("source") or {}
    involved = event.get("involvedObject") or {}
    return json.dumps(
        [
            source.get("component", ""),
            source.get("host", ""),
            involved.get("kind", ""),
            involved.get("namespace", ""),
            involved.get("name", ""),
            involved.get("fieldPath", ""),
            involved.get("uid", ""),
            involved.get("apiVersion", ""),
            event.get("type", ""),
            event.get("reason", ""),
            event.get("message", ""),
        ],
        separators=(",", ":"),
    )


def involved_uid(kind: str, body: JSON) -> str | None:
    """An Event's involvedObject.uid (its `involved_uid` column and its changes' key); None for
    other kinds, and for an Event that names no uid."""
    if kind != "Event":
        return None
    return (body.get("involvedObject") or {}).get("uid") or None


def index_columns(kind: str, body: JSON) -> tuple[str | None, str | None, str | None]:
    """The Event-only columns (event_key, involved_uid, last_seen); all None for other kinds."""
    if kind != "Event":
        return None, None, None
    return dedup_key(body), involved_uid(kind, body), body.get("lastTimestamp") or None


def unix_nanos(moment: datetime) -> int:
    """Nanoseconds since the epoch, in integers (a float would round away the low digits)."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def event_name(involved_name: str, nanos: int) -> str:
    """`<name>.<hex unix nanos>`, as the recorder names events (`fmt.Sprintf("%v.%x", ...)`)."""
    return f"{involved_name}.{nanos:x}"


def new_event(
    *,
    name: str,
    namespace: str,
    uid: str,
    involved: JSON,
    type_: str,
    reason: str,
    message: str,
    source: JSON,
    now: datetime,
) -> JSON:
    """A first occurrence: count 1, firstTimestamp = lastTimestamp = now, keys in API order."""
    stamp = format_time(now)
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": "",
            "creationTimestamp": stamp,
        },
        "involvedObject": {k: involved[k] for k in _INVOLVED_ORDER if involved.get(k)},
        "reason": reason,
        "message": message,
        "source": {k: source[k] for k in ("component", "host") if source.get(k)},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": type_,
        "eventTime": None,
        "reportingComponent": source.get("component", ""),
        "reportingInstance": source.get("host", ""),
    }


def repeat_event(existing: JSON, now: datetime) -> JSON:
    """The PATCH client-go sends for a repeat: count + 1 and a new lastTimestamp, nothing else."""
    updated = dict(existing)
    updated["count"] = int(existing.get("count") or 1) + 1
    updated["lastTimestamp"] = format_time(now)
    return updated
