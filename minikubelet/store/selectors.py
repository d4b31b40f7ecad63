"""Label and field selectors, as the API server applies them to a list or a watch.

Pure functions of text and objects, so the store, the server and tests share one reading.

Label selector grammar (`k8s.io/apimachinery/pkg/labels`, the subset kubectl users write):

    selector     := requirement ( "," requirement )*        comma = AND; "" selects everything
    requirement  := key ("=" | "==" | "!=") value
                  | key ("in" | "notin") "(" value ( "," value )* ")"
                  | key                                      the label exists
                  | "!" key                                  the label does not exist

`!=` and `notin` also match objects without the label, as in Kubernetes.
A field selector (`k8s.io/apimachinery/pkg/fields`) is terms joined by commas, each a dotted
path, `=`/`==` or `!=`, and a value (`spec.nodeName=n1,status.phase!=Failed`): a
`FieldSelector`, or a mapping of paths to the values they must equal. A missing field reads as
"" and booleans as "true"/"false", which is how the API server compares them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minikubelet.errors import BadRequest

__all__ = [
    "FieldSelector",
    "Fields",
    "LabelSelector",
    "Requirement",
    "field_value",
    "matches_fields",
    "parse_label_selector",
]

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_COMPARE = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_VALUE})$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One clause: `key`, an operator (`=`, `!=`, `in`, `notin`, `exists`, `!`) and values."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """Requirements ANDed together; the empty selector matches every object."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        found = labels or {}
        return all(r.matches(found) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches(obj.get("metadata", {}).get("labels"))


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `labelSelector` text; a malformed clause is a 400 BadRequest, as on the server."""
    if text is None or not text.strip():
        return LabelSelector()
    return LabelSelector(tuple(_parse_requirement(part) for part in _split(text)))


def _split(text: str) -> list[str]:
    """Split on the commas that separate clauses, not on those inside `in (a,b)`."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _parse_requirement(part: str) -> Requirement:
    if match := _SET.match(part):
        values = [v.strip() for v in match["values"].split(",")]
        if not all(v and _VALUE_ONLY.match(v) for v in values):
            raise _bad(part)
        return Requirement(match["key"], match["op"], frozenset(values))
    if match := _COMPARE.match(part):
        op = "=" if match["op"] == "==" else match["op"]
        return Requirement(match["key"], op, frozenset([match["value"]]))
    if match := _EXISTS.match(part):
        return Requirement(match["key"], "!" if match["neg"] else "exists")
    raise _bad(part)


def _bad(part: str) -> BadRequest:
    return BadRequest(f"unable to parse requirement: {part!r}")


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The value of a dotted field path as the API server compares it (missing = "")."""
    current: Any = obj
    for step in path.split("."):
        if not isinstance(current, Mapping) or step not in current:
            return ""
        current = current[step]
    if isinstance(current, bool):
        return "true" if current else "false"
    if current is None:
        return ""
    return str(current)


@dataclass(frozen=True)
class FieldSelector:
    """Parsed field selector terms: (path, equal, value), equal False for `!=`."""

    terms: tuple[tuple[str, bool, str], ...]

    @classmethod
    def parse(cls, raw: str) -> FieldSelector:
        """`parseSelector`: each comma-separated term split at its first `!=`, `==` or `=`."""
        terms: list[tuple[str, bool, str]] = []
        for term in raw.split(","):
            found = re.search(r"!=|==|=", term)
            if found is None:
                raise BadRequest(f"invalid selector: '{raw}'; can't understand '{term}'")
            path, value = term[: found.start()], term[found.end() :]
            terms.append((path, found.group() != "!=", value))
        return cls(tuple(terms))

    def get(self, path: str) -> str | None:
        """The value an equality term pins `path` to, if one does."""
        return next((v for p, equal, v in self.terms if p == path and equal), None)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.terms]


Fields = Mapping[str, str] | FieldSelector


def matches_fields(obj: Mapping[str, Any], selector: Fields | None) -> bool:
    """True when every term of the field selector holds for `obj`."""
    if isinstance(selector, FieldSelector):
        return all((field_value(obj, p) == v) == equal for p, equal, v in selector.terms)
    return all(field_value(obj, path) == want for path, want in (selector or {}).items())
