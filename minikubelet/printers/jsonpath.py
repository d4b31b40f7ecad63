"""kubectl's `-o jsonpath=` and `-o custom-columns=`, for the templates people actually write.

Supported: text and `{...}` expressions; paths `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[*]`, `..name`
(recursive); `{range EXPR}...{end}`; string literals `{"\\n"}`. Missing keys print nothing (kubectl
allows them). Several results are joined by a space; maps and lists print as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonPathError", "custom_columns", "jsonpath", "select"]

_TOKEN = re.compile(
    r"\.\.(\w[\w-]*)|\.([\w-]+)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\*|-?\d+)\]"
)


class JsonPathError(ValueError):
    """A template kubectl would refuse; str is its message."""


def select(obj: Any, path: str) -> list[Any]:
    """Every value `path` (e.g. `.items[*].metadata.name`) reaches in `obj`."""
    path = path.strip()
    if path in ("", "."):
        return [obj]
    values = [obj]
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise JsonPathError(f"unrecognized identifier {path[pos:]}")
        recursive, name, quoted1, quoted2, index = match.groups()
        values = _step(values, recursive, name or quoted1 or quoted2, index)
        pos = match.end()
    return values


def _step(
    values: list[Any], recursive: str | None, key: str | None, index: str | None
) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if recursive is not None:
            out.extend(_descend(value, recursive))
        elif key is not None:
            if isinstance(value, dict) and key in value:
                out.append(value[key])
        elif index == "*":
            out.extend(
                value
                if isinstance(value, list)
                else (value.values() if isinstance(value, dict) else [])
            )
        elif isinstance(value, list) and index is not None:
            i = int(index)
            if -len(value) <= i < len(value):
                out.append(value[i])
    return out


def _descend(value: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        if key in value:
            found.append(value[key])
        for child in value.values():
            found.extend(_descend(child, key))
    elif isinstance(value, list):
        for child in value:
            found.extend(_descend(child, key))
    return found


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _parts(template: str) -> list[tuple[str, str]]:
    """The template as ("text", s) and ("expr", s) pieces."""
    parts: list[tuple[str, str]] = []
    pos = 0
    while pos < len(template):
        start = template.find("{", pos)
        if start < 0:
            parts.append(("text", template[pos:]))
            break
        if start > pos:
            parts.append(("text", template[pos:start]))
        end = template.find("}", start)
        if end < 0:
            raise JsonPathError("unclosed action")
        parts.append(("expr", template[start + 1 : end].strip()))
        pos = end + 1
    return parts


def jsonpath(obj: Any, template: str) -> str:
    """Render `template` over `obj` as `kubectl get -o jsonpath=TEMPLATE` does."""
    out, _ = _render(_parts(template), 0, obj)
    return out


def _render(parts: list[tuple[str, str]], i: int, obj: Any) -> tuple[str, int]:
    out: list[str] = []
    while i < len(parts):
        kind, body = parts[i]
        if kind == "text":
            out.append(body)
        elif body == "end":
            return "".join(out), i
        elif body.startswith("range "):
            items = select(obj, body[6:])
            end = i
            for item in items:
                text, end = _render(parts, i + 1, item)
                out.append(text)
            if not items:
                _, end = _render(parts, i + 1, None)
            i = end
        elif body.startswith('"') and body.endswith('"'):
            out.append(json.loads(body, strict=False))
        else:
            out.append(" ".join(_text(v) for v in select(obj, body)))
        i += 1
    return "".join(out), i


def custom_columns(spec: str) -> list[tuple[str, str]]:
    """`NAME:.metadata.name,IP:.status.podIP` → [(header, path)], as kubectl parses it."""
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep or not path:
            raise JsonPathError(
                f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )
        path = path.strip()
        if path.startswith("{") and path.endswith("}"):
            path = path[1:-1]
        columns.append((header, path if path.startswith(".") else "." + path))
    return columns
