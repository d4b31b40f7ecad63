"""kubectl's `-o jsonpath=` and `-o custom-columns=`, for the templates people actually write.

Supported: text and `{...}` expressions; paths `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[*]`, `..name`
(recursive); `{range EXPR}...{end}`; string literals `{"\\n"}`. Missing keys print nothing (kubectl
allows them). Several results are joined by a space; maps and lists print as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonPathError", "custom_columns", "go_json", "go_sprint", "jsonpath", "select"]

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


def go_json(value: Any) -> str:
    """Go's `json.Marshal` of an unstructured value: compact, map keys sorted, `<>&` and
    U+2028/U+2029 escaped, other non-ASCII text kept as UTF-8."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def go_sprint(value: Any) -> str:
    """Go's `fmt.Sprint` of an unstructured value (`map[a:1 b:x]`, `[a b]`, `<nil>`, `true`)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(value)


def _text(value: Any) -> str:
    """jsonpath.PrintResults: maps and lists as JSON, everything else as `fmt.Sprint`."""
    if isinstance(value, dict | list):
        return go_json(value)
    if value is None:
        return "null"  # evalToText prints a nil as `null` (kubectl 1.32, run), not `<nil>`
    return go_sprint(value)


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


# customcolumn.go `jsonRegexp`: `{.a.b}`, `{a.b}`, `.a.b` and `a.b` all mean `{.a.b}`.
_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def custom_columns(spec: str) -> list[tuple[str, str]]:
    """`NAME:.metadata.name,IP:.status.podIP` → [(header, path)], as kubectl parses it
    (`NewCustomColumnsPrinterFromSpec`); an empty path selects nothing (`<none>`)."""
    if not spec:
        raise JsonPathError("custom-columns format specified but no custom columns given")
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            raise JsonPathError(
                f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )
        if path:
            match = _RELAXED.match(path)
            if match is None:
                raise JsonPathError(
                    "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
                    "'{name1.name2}' or '{.name1.name2}'"
                )
            path = "." + (match.group(1) or match.group(2))
        columns.append((header, path))
    return columns
