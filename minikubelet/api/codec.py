"""The one codec between Kubernetes JSON (camelCase keys, RFC 3339 times) and the typed model.

Model classes are dataclasses whose field names are the JSON names (lightkube's way), plus an
`extra` dict that keeps, verbatim, every field Kubernetes knows but the node does not act on
(securityContext, tolerations, ...): a round trip loses nothing. Decoding is tolerant: strict
checks belong to `schema.check_pod`, which runs first on anything a user sends.
`to_dict` leaves out None and empty `extra`; times print as `2024-05-01T12:00:00Z`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

from minikubelet.api import rfc3339
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON

__all__ = ["JSON", "format_time", "from_dict", "parse_time", "to_dict"]

T = TypeVar("T")


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with whole seconds, as metav1.Time serializes."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


parse_time = rfc3339.parse_time  # kept here too: most of the node reads times through the codec


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "extra")


def from_dict(cls: type[T], data: JSON) -> T:
    """Build `cls` from a JSON object; keys the class does not model go to `extra`."""
    hints = _hints(cls)
    names = _fields(cls)
    kwargs: dict[str, Any] = {}
    for name in names:
        if name in data and data[name] is not None:
            kwargs[name] = _decode(hints[name], data[name])
    extra = {k: v for k, v in data.items() if k not in names}
    if extra and "extra" in hints:
        kwargs["extra"] = extra
    return cls(**kwargs)


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _decode(options[0], value)
        return value  # int | str (IntOrString): keep what was sent
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_decode(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: _decode(item, v) for k, v in value.items()}
    if hint is datetime:
        return parse_time(value)
    if hint is Quantity:
        return Quantity.parse(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value if value is not None else {})  # null: Go's zero value
    return value


def to_dict(obj: Any) -> JSON:
    """The Kubernetes JSON shape of a model object: None omitted, extra merged back in."""
    out: JSON = {}
    always = getattr(type(obj), "ALWAYS", ())
    for name in _fields(type(obj)):
        value = getattr(obj, name)
        if value is not None:
            out[name] = _encode(value)
        elif name in always:
            out[name] = None
    extra = getattr(obj, "extra", None)
    if extra:
        out.update(extra)
    return out


def _encode(value: Any) -> Any:
    if isinstance(value, Quantity):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return format_time(value)
    return value
