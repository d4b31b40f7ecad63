"""One YAML document to JSON values as kubectl converts it: sigs.k8s.io/yaml's YAMLToJSON over
go-yaml v2 (the fork kubectl 1.32 vendors), with their error texts.

libyaml (through PyYAML's C parser) scans and parses: go-yaml v2 is a line-for-line port of it,
so the problems read the same; go-yaml's own line rule is applied on top (a scanner error's
0-based line plus one, a parser error's 0-based line as is, none on the first line). Composing
and decoding follow go-yaml v2's rules, not PyYAML's: YAML 1.1 scalars as go-yaml resolves them
into interface{} (`y`/`n`/`on`/`off` are booleans, `0777` octal, timestamps stay strings),
unknown tags ignored (`!!set`, `!!python/...`), `!!binary` decoded to a string, merge keys,
`unknown anchor 'x' referenced`, `anchor 'x' value contains itself`, and its alias ratio limit
(`document contains excessive aliasing`). Then the key and value conversion and json.Marshal's
refusal of NaN and infinities.

Nesting deeper than MAX_DEPTH is refused (`DepthError`): kubectl would send such a document to
the API server, the node declines to build it (a pod is a dozen levels deep).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

__all__ = [
    "MAX_DEPTH",
    "DepthError",
    "GoYAMLError",
    "go_float",
    "go_json_number",
    "go_string",
    "yaml_to_json",
]

MAX_DEPTH = 100
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_RESOLVABLE = {"", f"{_TAG}str", f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float", f"{_TAG}null"}
_TIMESTAMP = f"{_TAG}timestamp"
_BOOLS = {
    **dict.fromkeys(
        ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True
    ),
    **dict.fromkeys(
        ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False
    ),
}
_SPECIAL: dict[str, tuple[str, Any]] = {
    **{k: ("bool", v) for k, v in _BOOLS.items()},
    **{k: ("null", None) for k in ("", "~", "null", "Null", "NULL")},
    **{k: ("float", math.nan) for k in (".nan", ".NaN", ".NAN")},
    **{k: ("float", math.inf) for k in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{k: ("float", -math.inf) for k in ("-.inf", "-.Inf", "-.INF")},
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TIMESTAMP_FORMS = (
    re.compile(
        r"\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)\d\d?:\d\d:\d\d(\.\d*)?[ \t]*(Z|[-+]\d\d?(:\d\d)?)?"
    ),
    re.compile(r"\d{4}-\d\d-\d\d"),
)
_INT64 = 1 << 63


class GoYAMLError(ValueError):
    """The text kubectl prints after `error converting YAML to JSON: `."""


class DepthError(GoYAMLError):
    """Nested deeper than MAX_DEPTH: the node's own refusal."""


@dataclass(eq=False)
class _Node:
    kind: str  # scalar, mapping, sequence, alias
    tag: str = ""
    value: str = ""
    implicit: bool = False
    children: list[_Node] = field(default_factory=list)
    target: _Node | None = None


def yaml_to_json(text: str) -> Any:
    """The first document of `text` as JSON values (None for an empty one)."""
    root = _compose(text)
    if root is None:
        return None
    value = _Decoder().decode(root, 0)
    return _jsonable(value)


def go_json_number(value: Any) -> Any:
    """A number as the API server receives it from kubectl: json.Marshal writes an integral
    float64 below 1e21 without a fraction, which decodes as an integer again."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _INT64:
        return int(value)
    return value


def _line_of(exc: yaml.MarkedYAMLError) -> str:
    """go-yaml v2's `parser.fail`: which line it names, if any."""
    scanner = isinstance(exc, yaml.scanner.ScannerError)
    line = 0
    if exc.problem_mark is not None and exc.problem_mark.line != 0:
        line = exc.problem_mark.line + (1 if scanner else 0)
    elif exc.context_mark is not None and exc.context_mark.line != 0:
        line = exc.context_mark.line
    return f"line {line}: " if line else ""


def _compose(text: str) -> _Node | None:
    """The node tree of the first document, built from libyaml's events without recursion."""
    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    root: _Node | None = None
    events = yaml.parse(text or "\n", Loader=_Parser)
    try:
        for event in events:
            node: _Node | None = None
            if isinstance(event, yaml.DocumentEndEvent):
                break
            if isinstance(event, yaml.ScalarEvent):
                node = _Node("scalar", event.tag or "", event.value, bool(event.implicit[0]))
            elif isinstance(event, yaml.AliasEvent):
                target = anchors.get(event.anchor or "")
                if target is None:
                    raise GoYAMLError(f"yaml: unknown anchor '{event.anchor}' referenced")
                node = _Node("alias", value=event.anchor or "", target=target)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                kind = "mapping" if isinstance(event, yaml.MappingStartEvent) else "sequence"
                node = _Node(kind, event.tag or "")
                if event.anchor is not None:
                    anchors[event.anchor] = node
                _attach(stack, node)
                root = root or node
                stack.append(node)
                if len(stack) > MAX_DEPTH:
                    raise DepthError(f"exceeded max depth of {MAX_DEPTH}")
                continue
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                continue
            if node is not None:
                if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                    anchors[event.anchor] = node
                _attach(stack, node)
                root = root or node
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's own limit, not go-yaml's
            raise DepthError(f"exceeded max depth of {MAX_DEPTH}") from None
        raise GoYAMLError(f"yaml: {_line_of(exc)}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise GoYAMLError(f"yaml: {getattr(exc, 'reason', exc)}") from None
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    return root


def _attach(stack: list[_Node], node: _Node) -> None:
    if stack:
        stack[-1].children.append(node)


class _Decoder:
    """go-yaml v2's decoder into interface{}, with its alias accounting."""

    def __init__(self) -> None:
        self.decodes = 1  # go-yaml counts the document node too
        self.aliased = 0
        self.alias_depth = 0
        self.expanding: set[int] = set()

    def decode(self, node: _Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise DepthError(f"exceeded max depth of {MAX_DEPTH}")
        self.decodes += 1
        if self.alias_depth:
            self.aliased += 1
        if (
            self.aliased > 100
            and self.decodes > 1000
            and self.aliased / self.decodes > _allowed_alias_ratio(self.decodes)
        ):
            raise GoYAMLError("yaml: document contains excessive aliasing")
        if node.kind == "alias":
            return self._alias(node, depth)
        if node.kind == "scalar":
            return _scalar(node)
        if node.kind == "sequence":
            return [self.decode(child, depth + 1) for child in node.children]
        return self._mapping(node, depth)

    def _alias(self, node: _Node, depth: int) -> Any:
        if id(node) in self.expanding:
            raise GoYAMLError(f"yaml: anchor '{node.value}' value contains itself")
        assert node.target is not None
        self.expanding.add(id(node))
        self.alias_depth += 1
        try:
            return self.decode(node.target, depth)
        finally:
            self.alias_depth -= 1
            self.expanding.discard(id(node))

    def _mapping(self, node: _Node, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        pairs = node.children
        for index in range(0, len(pairs) - 1, 2):
            key, value = pairs[index], pairs[index + 1]
            if (
                key.kind == "scalar"
                and key.value == "<<"
                and (key.implicit or key.tag == f"{_TAG}merge")
            ):
                self._merge(value, out, depth)
                continue
            k = self.decode(key, depth + 1)
            if isinstance(k, dict | list):
                raise GoYAMLError(f"yaml: invalid map key: {_go_value(k)}")
            out[(type(k), k)] = self.decode(value, depth + 1)  # go-yaml keeps 1 and "1" apart
        return out

    def _merge(self, node: _Node, out: dict[Any, Any], depth: int) -> None:
        target = node.target if node.kind == "alias" else node
        if node.kind == "sequence":
            for child in reversed(node.children):
                resolved = child.target if child.kind == "alias" else child
                if resolved is None or resolved.kind != "mapping":
                    raise GoYAMLError(
                        "yaml: map merge requires map or sequence of maps as the value"
                    )
                out.update(self.decode(child, depth + 1))
            return
        if target is None or target.kind != "mapping":
            raise GoYAMLError("yaml: map merge requires map or sequence of maps as the value")
        out.update(self.decode(node, depth + 1))


def _allowed_alias_ratio(decodes: int) -> float:
    low, high = 400_000, 4_000_000
    if decodes <= low:
        return 0.99
    if decodes >= high:
        return 0.10
    return 0.99 - 0.89 * ((decodes - low) / (high - low))


def _scalar(node: _Node) -> Any:
    if node.tag == "" and not node.implicit:
        return node.value  # quoted, untagged: a string
    tag, value = _resolve(node.tag, node.value)
    if tag == f"{_TAG}binary":
        try:
            data = base64.b64decode(re.sub(r"[\r\n]", "", value), validate=True)
        except (binascii.Error, ValueError):
            raise GoYAMLError("yaml: !!binary value contains invalid base64 data") from None
        return go_string(data)
    if tag == _TIMESTAMP:
        return node.value  # go-yaml v2 keeps a timestamp-looking value a string in interface{}
    return value


def _resolve(tag: str, text: str) -> tuple[str, Any]:
    """go-yaml v2's `resolve`: the tag and value a plain (or resolvable-tagged) scalar gets."""
    if tag.startswith("!!"):
        tag = _TAG + tag[2:]
    if tag not in _RESOLVABLE and tag != _TIMESTAMP:
        return tag, text
    rtag, value = _implicit(text, tag)
    if tag in ("", rtag, f"{_TAG}str"):
        return rtag if tag != f"{_TAG}str" else tag, value if tag != f"{_TAG}str" else text
    if tag == f"{_TAG}float" and rtag == f"{_TAG}int":
        return tag, float(value)
    raise GoYAMLError(f"yaml: cannot decode {_short(rtag)} `{text}` as a {_short(tag)}")


def _implicit(text: str, tag: str) -> tuple[str, Any]:
    hint = text[:1]
    if text in _SPECIAL:
        kind, value = _SPECIAL[text]
        return _TAG + kind, value
    if hint == ".":
        number = _go_parse_float(text)
        if number is not None:
            return f"{_TAG}float", number
    elif hint in ("+", "-") or "0" <= hint <= "9":
        if tag in ("", _TIMESTAMP) and any(form.fullmatch(text) for form in _TIMESTAMP_FORMS):
            return _TIMESTAMP, text
        plain = text.replace("_", "")
        number = _go_parse_int(plain)
        if number is not None:
            return f"{_TAG}int", number
        if _YAML_FLOAT.fullmatch(plain):
            floated = _go_parse_float(plain)
            if floated is not None:
                return f"{_TAG}float", floated
        for sign, digits in (("", plain[2:]), ("-", plain[3:])):
            if plain.startswith(sign + "0b") and digits and set(digits) <= {"0", "1"}:
                number = int(sign + digits, 2)
                if -_INT64 <= number < _INT64:
                    return f"{_TAG}int", number
    return f"{_TAG}str", text


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), then ParseUint: base prefixes 0x, 0o, 0b and 0 (octal)."""
    body = text.lstrip("+-")
    negative = text.startswith("-")
    if text[:1] in "+-" and text[1:2] in "+-" or not body:
        return None
    lower = body.lower()
    if lower.startswith(("0x", "0o", "0b")):
        base, digits = {"x": 16, "o": 8, "b": 2}[lower[1]], body[2:]
    elif len(body) > 1 and body.startswith("0"):
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    try:
        number = int(digits, base) if digits.isascii() and digits.isalnum() else None
    except ValueError:
        return None
    if number is None:
        return None
    number = -number if negative else number
    if -_INT64 <= number < _INT64 or (
        not negative and not text.startswith("+") and number < 2 * _INT64
    ):
        return number
    return None


def _go_parse_float(text: str) -> float | None:
    """strconv.ParseFloat for the decimal forms go-yaml reaches it with."""
    if not re.fullmatch(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text):
        return None
    number = float(text)
    return None if math.isinf(number) else number  # out of range: ParseFloat's error


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def go_string(data: bytes) -> str:
    """Bytes as Go's json.Marshal writes a string: each invalid UTF-8 byte becomes U+FFFD."""
    return data.decode("utf-8", errors="go-replace")


def _go_replace(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    return "\ufffd" * (exc.end - exc.start), exc.end


codecs.register_error("go-replace", _go_replace)


def go_float(value: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): the shortest digits, %e past exponents -4 and 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()[1:]
    digits = "".join(map(str, digits_tuple))
    point = len(digits) + int(exponent)  # where the decimal point falls in the digits
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _key_text(key: Any) -> str:
    """sigs.k8s.io/yaml's conversion of a map key to a JSON object's name."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, str):
        return key
    if isinstance(key, int):
        if key >= _INT64:
            raise GoYAMLError(
                f"unsupported map key of type: uint64, key: {hex(key)}, value: <elided>"
            )
        return str(key)
    if isinstance(key, float):
        return go_float(key)
    raise GoYAMLError("unsupported map key of type: %!s(<nil>), key: <nil>")


def _jsonable(value: Any) -> Any:
    """Map keys to strings, then json.Marshal's checks (no NaN, no infinity)."""
    if isinstance(value, dict):
        return {_key_text(k[1]): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise GoYAMLError(f"json: unsupported value: {go_float(value)}")
    return go_json_number(value)


def _go_value(value: Any) -> str:
    """Go's %#v of a decoded map key that is a map or a slice (rare enough to be approximate)."""
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        inner = ", ".join(f"{_go_value(k[1])}:{_go_value(v)}" for k, v in value.items())
        return "map[interface {}]interface {}{" + inner + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "interface {}(nil)"
    return str(value).lower() if isinstance(value, bool) else str(value)
