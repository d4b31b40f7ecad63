"""A stream of JSON values read as kubectl reads a manifest that starts with `{`: Go's
encoding/json Decoder, one value after another, with its error texts (`json: offset 36: invalid
character '}' looking for beginning of object key string`, `unexpected EOF`).

The scanner below only checks the grammar and finds where each value ends, as Go's does byte by
byte (the offset is the number of bytes read, the bad one included); Python's json then builds
the value. Nesting deeper than goyaml.MAX_DEPTH is refused with DepthError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from minikubelet.api.goyaml import MAX_DEPTH, DepthError

__all__ = ["GoJSONError", "json_values"]

_SPACE = b" \t\r\n"
_ESCAPES = b'"\\/bfnrt'
_HEX = b"0123456789abcdefABCDEF"
_DIGITS = b"0123456789"


class GoJSONError(ValueError):
    """Go's error text for the stream (printed after `error parsing FILE: `)."""


class _Syntax(Exception):
    def __init__(self, offset: int, byte: int, context: str) -> None:
        super().__init__(f"json: offset {offset}: invalid character {_quote(byte)} {context}")


class _EOF(Exception):
    pass


def json_values(data: bytes) -> Iterator[Any]:
    """Each top-level value of `data`, in order; GoJSONError where Go's Decoder stops."""
    pos = 0
    while True:
        while pos < len(data) and data[pos] in _SPACE:
            pos += 1
        if pos == len(data):
            return
        try:
            end = _Scan(data, pos).value()
        except _Syntax as exc:
            raise GoJSONError(str(exc)) from None
        except _EOF:
            raise GoJSONError("unexpected EOF") from None
        yield json.loads(data[pos:end])
        pos = end


class _Scan:
    """One value from `pos`: its end, or the first byte Go's scanner refuses."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos, self.depth = data, pos, 0

    def _byte(self) -> int:
        if self.pos >= len(self.data):
            raise _EOF
        return self.data[self.pos]

    def _fail(self, context: str) -> _Syntax:
        return _Syntax(self.pos + 1, self.data[self.pos], context)

    def _space(self) -> int:
        while self._byte() in _SPACE:
            self.pos += 1
        return self._byte()

    def value(self) -> int:
        c = self._space()
        if c == ord("{"):
            self._nest()
            self.pos += 1
            if self._space() == ord("}"):
                self.pos += 1
            else:
                self._members()
            self.depth -= 1
        elif c == ord("["):
            self._nest()
            self.pos += 1
            if self._space() == ord("]"):
                self.pos += 1
            else:
                self._elements()
            self.depth -= 1
        elif c == ord('"'):
            self._string()
        elif c == ord("-") or c in _DIGITS:
            self._number()
        elif c in b"tfn":
            self._literal({ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}[c])
        else:
            raise self._fail("looking for beginning of value")
        return self.pos

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise DepthError(f"exceeded max depth of {MAX_DEPTH}")

    def _members(self) -> None:
        while True:
            if self._space() != ord('"'):
                raise self._fail("looking for beginning of object key string")
            self._string()
            if self._space() != ord(":"):
                raise self._fail("after object key")
            self.pos += 1
            self.value()
            c = self._space()
            self.pos += 1
            if c == ord("}"):
                return
            if c != ord(","):
                self.pos -= 1
                raise self._fail("after object key:value pair")

    def _elements(self) -> None:
        while True:
            self.value()
            c = self._space()
            self.pos += 1
            if c == ord("]"):
                return
            if c != ord(","):
                self.pos -= 1
                raise self._fail("after array element")

    def _string(self) -> None:
        self.pos += 1
        while True:
            c = self._byte()
            if c == ord('"'):
                self.pos += 1
                return
            if c < 0x20:
                raise self._fail("in string literal")
            self.pos += 1
            if c == ord("\\"):
                c = self._byte()
                if c == ord("u"):
                    for _ in range(4):
                        self.pos += 1
                        if self._byte() not in _HEX:
                            raise self._fail("in \\u hexadecimal character escape")
                elif c not in _ESCAPES:
                    raise self._fail("in string escape code")
                self.pos += 1

    def _number(self) -> None:
        if self._byte() == ord("-"):
            self.pos += 1
            if self._byte() not in _DIGITS:
                raise self._fail("in numeric literal")
        if self._byte() == ord("0"):
            self.pos += 1
        else:
            self._digits()
        if self._peek() == ord("."):
            self.pos += 1
            if self._byte() not in _DIGITS:
                raise self._fail("after decimal point in numeric literal")
            self._digits()
        if self._peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self._byte() in b"+-":
                self.pos += 1
            if self._byte() not in _DIGITS:
                raise self._fail("in exponent of numeric literal")
            self._digits()

    def _digits(self) -> None:
        while self._peek() in _DIGITS:
            self.pos += 1

    def _peek(self) -> int:
        """The next byte, or -1 at the end (a number may end the stream)."""
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def _literal(self, word: bytes) -> None:
        for index, expected in enumerate(word):
            if self._byte() != expected:
                name = word.decode()
                raise self._fail(f"in literal {name} (expecting {_quote(expected)})")
            self.pos += 1
            del index


def _quote(byte: int) -> str:
    """Go's quoteChar: a byte as a rune in single quotes, escaped as strconv.Quote does."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    char = chr(byte)
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    escapes |= {"\v": "\\v", "\\": "\\\\"}
    if char in escapes:
        return f"'{escapes[char]}'"
    if char.isprintable():
        return f"'{char}'"
    return f"'\\x{byte:02x}'" if byte < 0x80 else f"'\\u{byte:04x}'"
