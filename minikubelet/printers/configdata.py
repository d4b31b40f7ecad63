"""ConfigMaps and Secrets as kubectl 1.32 prints them: `get` rows and `describe` text.

Rows are the API server's (`printConfigMap`, `printSecret` in
`pkg/printers/internalversion/printers.go`): DATA counts keys (a ConfigMap's `data` and
`binaryData` together). Describe is kubectl's (`ConfigMapDescriber`, `describeSecret`): a Secret's
values are never shown, only their sizes in bytes (a service-account token excepted); a
ConfigMap's `data` is printed whole and its `binaryData` as sizes. kubectl walks Go maps, so its
key order is random; here keys are sorted.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from minikubelet.api.codec import parse_time
from minikubelet.api.gobase64 import decode
from minikubelet.api.raw import JSON
from minikubelet.printers.describe_fields import annotation_lines, label_lines
from minikubelet.printers.describe_sections import events_block, layout
from minikubelet.printers.duration import age
from minikubelet.printers.tables import TablePrinter

__all__ = [
    "CONFIG_MAP_COLUMNS",
    "CONFIG_MAP_TABLE",
    "SECRET_TABLE",
    "SECRET_COLUMNS",
    "config_map_row",
    "describe_config_map",
    "describe_secret",
    "secret_row",
]


CONFIG_MAP_COLUMNS: list[tuple[str, str, str, int]] = [
    ("Name", "string", "name", 0),
    ("Data", "string", "", 0),
    ("Age", "string", "", 0),
]
SECRET_COLUMNS: list[tuple[str, str, str, int]] = [
    ("Name", "string", "name", 0),
    ("Type", "string", "", 0),
    ("Data", "string", "", 0),
    ("Age", "string", "", 0),
]


def _age(meta: JSON, now: datetime) -> str:
    created = meta.get("creationTimestamp")
    return age(parse_time(created) if isinstance(created, str) and created else None, now)


def config_map_row(obj: JSON, now: datetime) -> list[Any]:
    meta = obj.get("metadata") or {}
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [meta.get("name", ""), count, _age(meta, now)]


def secret_row(obj: JSON, now: datetime) -> list[Any]:
    meta = obj.get("metadata") or {}
    return [meta.get("name", ""), obj.get("type", ""), len(obj.get("data") or {}), _age(meta, now)]


CONFIG_MAP_TABLE = TablePrinter(CONFIG_MAP_COLUMNS, config_map_row)
SECRET_TABLE = TablePrinter(SECRET_COLUMNS, secret_row)


def _layout(text: str) -> str:
    """`layout` for text already cut into lines (each ending in a newline)."""
    return layout(text.split("\n")[:-1])


def _header(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    lines = [f"Name:\t{meta.get('name', '')}", f"Namespace:\t{meta.get('namespace', '')}"]
    lines += label_lines("Labels", meta.get("labels"))
    lines += annotation_lines(meta.get("annotations"))
    return "".join(line + "\n" for line in lines)


def describe_secret(
    obj: JSON, events: list[JSON] | None, now: datetime, *, tz: tzinfo | None = UTC
) -> str:
    """`kubectl describe secret`: the sizes of the values, never the values (no events)."""
    text = _header(obj) + f"\nType:\t{obj.get('type', '')}\n\nData\n====\n"
    data = obj.get("data") or {}
    token = obj.get("type") == "kubernetes.io/service-account-token"
    for key in sorted(data):
        value = decode(data[key])
        if token and key == "token":
            text += f"{key}:\t{value.decode(errors='replace')}\n"
        else:
            text += f"{key}:\t{len(value)} bytes\n"
    return _layout(text)


def describe_config_map(
    obj: JSON, events: list[JSON] | None, now: datetime, *, tz: tzinfo | None = UTC
) -> str:
    """`kubectl describe configmap`: each value whole, binary sizes, then the events."""
    text = _header(obj) + "\nData\n====\n"
    data = obj.get("data") or {}
    for key in sorted(data):
        text += f"{key}:\n----\n{data[key]}\n\n"
    text += "\nBinaryData\n====\n"
    binary = obj.get("binaryData") or {}
    for key in sorted(binary):
        text += f"{key}: {len(decode(binary[key]))} bytes\n"
    text += "\n"
    inline, table = events_block(events, now)
    return _layout(text + "".join(line + "\n" for line in inline)) + layout(table)
