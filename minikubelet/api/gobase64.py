"""Go's `encoding/base64` StdEncoding decoder, for the `[]byte` fields of Kubernetes JSON.

Secret `data` and ConfigMap `binaryData` are `map[string][]byte`; the API server decodes each
value with Go's strict decoder (padding required, `\\r` and `\\n` skipped anywhere), and a bad one
is refused with its `CorruptInputError`: `illegal base64 data at input byte N`. Python's decoder
accepts and refuses other strings, and says other things, so this is a port of `decodeQuantum`.
"""

from __future__ import annotations

import base64
import string

__all__ = ["CorruptInput", "decode", "encode"]

_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")
_NEWLINES = "\r\n"


class CorruptInput(ValueError):
    """Go's `base64.CorruptInputError`: the byte offset of the first bad input."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"illegal base64 data at input byte {offset}")
        self.offset = offset


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    """Decode as Go's `StdEncoding.DecodeString`; raises CorruptInput with Go's offset."""
    raw = text.encode("utf-8")
    quanta: list[str] = []
    si = 0
    while True:
        si, chunk, done = _quantum(raw, si)
        quanta.append(chunk)
        if done:
            break
    joined = "".join(quanta)
    return base64.b64decode(joined + "=" * (-len(joined) % 4)) if joined else b""


def _quantum(src: bytes, si: int) -> tuple[int, str, bool]:
    """One group of up to four symbols from `si`: (next index, symbols, whether input ended)."""
    symbols = ""
    while len(symbols) < 4:
        if si == len(src):
            if not symbols:
                return si, "", True
            # StdEncoding pads, so a short final group is corrupt; Go reports `si - j`, where
            # j counts the group's symbols (newlines uncounted).
            raise CorruptInput(si - len(symbols))
        char = chr(src[si])
        si += 1
        if char in _ALPHABET:
            symbols += char
            continue
        if char in _NEWLINES:
            continue
        if char != "=":
            raise CorruptInput(si - 1)
        return _padding(src, si, symbols)
    return si, symbols, False


def _padding(src: bytes, si: int, symbols: str) -> tuple[int, str, bool]:
    """After a `=` (already read): Go's checks of the padding and of what follows it."""
    if len(symbols) < 2:
        raise CorruptInput(si - 1)
    if len(symbols) == 2:  # "==" is expected; the first one is read
        while si < len(src) and chr(src[si]) in _NEWLINES:
            si += 1
        if si == len(src):
            raise CorruptInput(len(src))
        if chr(src[si]) != "=":
            raise CorruptInput(si - 1)
        si += 1
    while si < len(src) and chr(src[si]) in _NEWLINES:
        si += 1
    if si < len(src):
        raise CorruptInput(si)
    return si, symbols, True
