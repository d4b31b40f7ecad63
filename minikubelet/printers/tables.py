"""`meta.k8s.io/v1` Tables for pods, events and nodes: the rows kubectl prints, built once here.

The API answers `get` with these when the Accept header asks for a Table (as kubectl's does),
so `minikubelet get` and the real kubectl print the same cells (DESIGN.md, "The house").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from minikubelet.api.codec import parse_time
from minikubelet.api.kinds import by_kind
from minikubelet.api.raw import JSON
from minikubelet.printers.duration import age

__all__ = [
    "EVENT_TABLE",
    "LEASE_TABLE",
    "NAMESPACE_TABLE",
    "NODE_TABLE",
    "Column",
    "TablePrinter",
    "event_row",
    "node_row",
]
__all__ += ["row_for", "table"]

Column = tuple[str, str, str, int]


class TablePrinter(NamedTuple):
    """A kind's Table: its column definitions (name, type, format, priority) and its row."""

    columns: list[Column]
    row: Callable[[JSON, datetime], list[Any]]


EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", "", 0),
    ("Type", "string", "", 0),
    ("Reason", "string", "", 0),
    ("Object", "string", "", 0),
    ("Subobject", "string", "", 1),
    ("Source", "string", "", 1),
    ("Message", "string", "", 0),
    ("First Seen", "string", "", 1),
    ("Count", "string", "", 1),  # declared "string" by printers.go, the cell is an int64
    ("Name", "string", "name", 1),
]
NODE_COLUMNS: list[Column] = [
    ("Name", "string", "name", 0),
    ("Status", "string", "", 0),
    ("Roles", "string", "", 0),
    ("Age", "string", "", 0),
    ("Version", "string", "", 0),
    ("Internal-IP", "string", "", 1),
    ("External-IP", "string", "", 1),
    ("OS-Image", "string", "", 1),
    ("Kernel-Version", "string", "", 1),
    ("Container-Runtime", "string", "", 1),
]


def _time(text: Any) -> datetime | None:
    return parse_time(text) if isinstance(text, str) and text else None


def event_row(event: JSON, now: datetime) -> list[Any]:
    """`printEvent`: LAST SEEN falls back to FIRST SEEN, which falls back to eventTime; a
    `series` overrides LAST SEEN and COUNT even when its fields are empty (as the Go code does)."""
    first = age(_time(event.get("firstTimestamp")) or _time(event.get("eventTime")), now)
    last_time = _time(event.get("lastTimestamp"))
    last = age(last_time, now) if last_time is not None else first
    count = int(event.get("count") or 0)
    series = event.get("series")
    if isinstance(series, dict):
        last = age(_time(series.get("lastObservedTime")), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(event.get("message", "")).strip(),
        first,
        count,
        (event.get("metadata") or {}).get("name", ""),
    ]


def node_row(node: JSON, now: datetime) -> list[Any]:
    """`printNode`."""
    meta, spec, status = (
        node.get("metadata") or {},
        node.get("spec") or {},
        node.get("status") or {},
    )
    # printNode builds a map by condition type, so the *last* Ready condition wins.
    readies = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    ready = readies[-1] if readies else None
    state = (
        "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    )
    if spec.get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = meta.get("labels") or {}
    roles = {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")}
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        found = [a["address"] for a in status.get("addresses") or [] if a.get("type") == kind]
        return found[0] if found else "<none>"

    return [
        meta.get("name", ""),
        state,
        ",".join(sorted(r for r in roles if r)) or "<none>",
        age(_time(meta.get("creationTimestamp")), now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def namespace_row(namespace: JSON, now: datetime) -> list[Any]:
    """`printNamespace`."""
    meta = namespace.get("metadata") or {}
    phase = (namespace.get("status") or {}).get("phase", "")
    return [meta.get("name", ""), phase, age(_time(meta.get("creationTimestamp")), now)]


EVENT_TABLE = TablePrinter(EVENT_COLUMNS, event_row)
NAMESPACE_TABLE = TablePrinter(
    [("Name", "string", "name", 0), ("Status", "string", "", 0), ("Age", "string", "", 0)],
    namespace_row,
)
NODE_TABLE = TablePrinter(NODE_COLUMNS, node_row)
# printers.go `leaseColumnDefinitions` / `printLease`
LEASE_TABLE = TablePrinter(
    [("Name", "string", "name", 0), ("Holder", "string", "", 0), ("Age", "string", "", 0)],
    lambda obj, now: [
        (obj.get("metadata") or {}).get("name", ""),
        (obj.get("spec") or {}).get("holderIdentity") or "",
        age(_time((obj.get("metadata") or {}).get("creationTimestamp")), now),
    ],
)
# A kind without a printer of its own gets the API server's default Table (`Name`, `Age`).
_DEFAULT_TABLE = TablePrinter(
    [("Name", "string", "name", 0), ("Created At", "date", "", 0)],
    lambda obj, now: [
        (obj.get("metadata") or {}).get("name", ""),
        (obj.get("metadata") or {}).get("creationTimestamp", ""),
    ],
)


def printer_for(kind: str) -> TablePrinter:
    entry = by_kind(kind)
    printer: TablePrinter = entry.load("table") if entry.table else _DEFAULT_TABLE
    return printer


def row_for(kind: str, obj: JSON, now: datetime, *, include_object: str = "Metadata") -> JSON:
    row: JSON = {"cells": printer_for(kind).row(obj, now)}
    if include_object == "Object":
        row["object"] = {"kind": kind, "apiVersion": by_kind(kind).api_version, **obj}
    elif include_object != "None":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
    return row


def table(
    kind: str,
    items: Sequence[JSON],
    now: datetime,
    resource_version: str = "",
    *,
    include_object: str = "Metadata",
) -> JSON:
    columns = printer_for(kind).columns
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": name, "type": type_, "format": fmt, "description": "", "priority": priority}
            for name, type_, fmt, priority in columns
        ],
        "rows": [row_for(kind, item, now, include_object=include_object) for item in items],
    }
