"""Request bodies in Kubernetes' protobuf encoding, read into the JSON every handler takes.

kubectl's typed clients (`kubectl create configmap|secret ...`) send built-in kinds as
`application/vnd.kubernetes.protobuf` and never fall back to JSON, so the API must read it. The
body is the `k8s\\x00` magic, then a `runtime.Unknown` whose `raw` is the object's message
(`generated.proto` of k8s.io/api). Only the kinds listed in `_MESSAGES` are known; their fields
are decoded by number into the JSON names, `bytes` as base64 as in JSON. Responses stay JSON,
which every client accepts (kubectl's Accept lists it after protobuf).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from minikubelet.api.raw import JSON
from minikubelet.errors import StatusError

__all__ = ["PROTOBUF", "UnsupportedMediaType", "decode_object"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"
# message -> field number -> (JSON name, type); a type is a scalar, a message name,
# ("map", value type) or ("list", item type).
_Type = str | tuple[str, str]
_MESSAGES: dict[str, dict[int, tuple[str, _Type]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "raw"), 4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        5: ("uid", "string"),
        6: ("resourceVersion", "string"),
        7: ("generation", "int64"),
        8: ("creationTimestamp", "Time"),
        9: ("deletionTimestamp", "Time"),
        10: ("deletionGracePeriodSeconds", "int64"),
        11: ("labels", ("map", "string")),
        12: ("annotations", ("map", "string")),
        13: ("ownerReferences", ("list", "OwnerReference")),
        14: ("finalizers", ("list", "string")),
    },
    "OwnerReference": {
        1: ("kind", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "Time": {1: ("seconds", "int64"), 2: ("nanos", "int64")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", ("map", "string")),
        3: ("binaryData", ("map", "bytes")),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", ("map", "bytes")),
        3: ("type", "string"),
        4: ("stringData", ("map", "string")),
        5: ("immutable", "bool"),
    },
}


class UnsupportedMediaType(StatusError):
    """415: a body this API cannot read."""

    reason = "UnsupportedMediaType"
    code = 415


def _unreadable(detail: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json, application/yaml ({detail})"
    )


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise _unreadable("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (number, value) pairs of one message; varints as ints, the rest as bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            size, pos = _varint(data, pos)
            out.append((number, data[pos : pos + size]))
            pos += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            out.append((number, data[pos : pos + width]))
            pos += width
        else:
            raise _unreadable(f"wire type {wire}")
    return out


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind in ("string", "bytes", "raw"):
        raw = value if isinstance(value, bytes) else b""
        if kind == "string":
            return raw.decode(errors="replace")
        return base64.b64encode(raw).decode() if kind == "bytes" else raw
    if kind == "bool":
        return bool(value)
    if isinstance(value, int):
        return value - (1 << 64) if value >= 1 << 63 else value
    raise _unreadable(f"{kind} is not a varint")


def _message(name: str, data: bytes) -> Any:
    table = _MESSAGES[name]
    out: JSON = {}
    for number, value in _fields(data):
        if number not in table:
            continue  # a field this node does not model: dropped, as an old server would
        key, kind = table[number]
        if isinstance(kind, tuple):
            container, inner = kind
            if container == "map":
                entry = dict(_fields(value if isinstance(value, bytes) else b""))
                out.setdefault(key, {})[_scalar("string", entry.get(1, b""))] = _decode(
                    inner, entry.get(2, b"")
                )
            else:
                out.setdefault(key, []).append(_decode(inner, value))
            continue
        decoded = _decode(kind, value)
        if decoded not in ("", 0) or isinstance(decoded, bool):
            out[key] = decoded  # Go writes every non-pointer field; JSON omits empty ones
    if name == "Time":  # a zero Time is Go's null: omitted
        if not out.get("seconds"):
            return ""
        stamp = datetime.fromtimestamp(out["seconds"], UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _decode(kind: str, value: int | bytes) -> Any:
    if kind in _MESSAGES:
        return _message(kind, value if isinstance(value, bytes) else b"")
    return _scalar(kind, value)


def decode_object(body: bytes) -> JSON:
    """The JSON object of a protobuf request body; 415 for a kind not listed here."""
    if not body.startswith(_MAGIC):
        raise _unreadable("no protobuf magic")
    unknown = _message("Unknown", body[len(_MAGIC) :])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if kind not in ("ConfigMap", "Secret"):
        raise _unreadable(f"no protobuf decoding for {kind or 'this kind'}")
    obj: JSON = {"kind": kind, "apiVersion": type_meta.get("apiVersion") or "v1"}
    obj.update(_message(kind, unknown.get("raw") or b""))
    return obj
