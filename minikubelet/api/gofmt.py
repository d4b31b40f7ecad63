"""Go's ways of printing and reading values, which Kubernetes' messages are made of:
`strconv.Quote` (`%q`) and `QuoteRune`, `time.Duration.String()` and `time.ParseDuration`,
`net.JoinHostPort` and `syscall.Errno`'s text. One copy, for validation errors, probe
messages, back-off messages, image pull events, describe and the CLI's flags and dials."""

from __future__ import annotations

import os

__all__ = [
    "go_duration",
    "go_errno_text",
    "go_quote",
    "go_quote_rune",
    "join_host_port",
    "parse_go_duration",
]

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES |= {"\v": "\\v", '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's `strconv.Quote`: printable runes kept, the rest escaped as Go escapes them."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_quote_rune(char: str) -> str:
    """Go's `strconv.QuoteRune` (`%q` of a rune): as `go_quote`, in `'`, with `'` escaped and
    `"` not."""
    inner = {"'": "\\'", '"': '"'}.get(char) or go_quote(char)[1:-1]
    return f"'{inner}'"


def join_host_port(host: str, port: object) -> str:
    """`net.JoinHostPort`: brackets around a host that contains a colon (IPv6)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def go_errno_text(exc: OSError) -> str:
    """The text Go's syscall.Errno gives: the C library's, with a lower-case first letter."""
    if exc.errno is None:
        return str(exc)
    text = os.strerror(exc.errno)
    return text[:1].lower() + text[1:]


def go_duration(seconds: float) -> str:
    """Go's `time.Duration.String()`: `10s`, `500ms`, `1.5s`, `1m20s`, `5m0s`, `1h0m0s`."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return f"{nanos / size:.9f}".rstrip("0").rstrip(".") + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs


_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def _time_quote(text: str) -> str:
    """The time package's own quote: `"` and `\\` escaped, bytes outside printable ASCII as
    `\\xNN`."""
    out = []
    for char in text:
        if " " <= char < "\x80":
            out.append("\\" + char if char in '"\\' else char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def parse_go_duration(text: str) -> float:
    """Go's `time.ParseDuration`, in seconds; ValueError in its words."""
    invalid = ValueError(f"time: invalid duration {_time_quote(text)}")
    rest, sign = text, 1.0
    if rest[:1] in ("-", "+"):
        sign, rest = (-1.0 if rest[0] == "-" else 1.0), rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise invalid
    total = 0.0
    while rest:
        number = ""
        while rest and (rest[0] in "0123456789" or (rest[0] == "." and "." not in number)):
            number, rest = number + rest[0], rest[1:]
        if number.strip(".") == "":
            raise invalid  # no digits before or after the point
        unit = ""
        while rest and rest[0] not in ".0123456789":
            unit, rest = unit + rest[0], rest[1:]
        if not unit:
            raise ValueError(f"time: missing unit in duration {_time_quote(text)}")
        if unit not in _UNITS:
            quoted = _time_quote(text)
            raise ValueError(f"time: unknown unit {_time_quote(unit)} in duration {quoted}")
        total += float(number) * _UNITS[unit]
    if total > (1 << 63) / 1e9:
        raise invalid
    return sign * total
