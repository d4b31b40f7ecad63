"""Kubernetes resource quantities (`100m`, `1.5Gi`, `2e4`), parsed and printed like the API server.

A port of `k8s.io/apimachinery/pkg/api/resource` (quantity.go, suffix.go, amount.go) as the
1.31-1.33 servers run it. Values are exact `Decimal`s, never floats, because a quantity printed
back to a client must be the very string the Go server would print.

Go parses most inputs on an int64 fast path and only there remembers the original text when it
is already canonical; that is why `1E3` and `+1` are echoed verbatim while `1000` becomes `1k`.
Inputs outside the fast path (more than 18 digits, finer than 10^-9, fractional binary) take an
arbitrary-precision path that never keeps the text and, for one odd spelling, fails with
"unable to parse numeric part of quantity".
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_UP, Context, Decimal
from enum import StrEnum
from typing import cast

__all__ = ["Format", "Quantity", "QuantityError"]

_SPLIT_RE = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_FORMAT_MESSAGE = f"quantities must match the regular expression '{_SPLIT_RE}'"
_SUFFIX_MESSAGE = "unable to parse quantity's suffix"
_NUMERIC_MESSAGE = "unable to parse numeric part of quantity"

# Go's hand-written scanner, not the looser regular expression its error message quotes: a sign,
# integer digits, an optional point with fraction digits, then suffix letters, a sign and digits.
# Possessive quantifiers mirror the scanner's one greedy pass.
_SCANNER = re.compile(r"([+-]?)([0-9]*+)(?:\.([0-9]*+))?+([eEinumkKMGTP]*+[+-]?+[0-9]*+)")
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")

# Wide enough that no operation here ever rounds: every result stays exact.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

_NANO, _MILLI = -9, -3
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
# Go keeps 18 significant digits on the fast path (maxInt64Factors).
_FAST_PATH_DIGITS = 18


class Format(StrEnum):
    """The suffix family a quantity was written in; it picks the family it is printed in."""

    DECIMAL_EXPONENT = "DecimalExponent"
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"


_DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SI_BY_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SI.items()}
_BINARY_SI = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")  # index = power of 1024


class QuantityError(ValueError):
    """A quantity the API server's decoder rejects; str() is the server's exact message."""


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Quantity:
    """An exact quantity, its format family, and its input text when Go would echo it verbatim.

    Equality, ordering and hashing use the value alone, so `1000m == 1`.
    """

    amount: Decimal
    format: Format
    text: str | None = None

    @classmethod
    def parse(cls, text: str | int | float) -> Quantity:
        """Parse like the API server's JSON decoder (`UnmarshalJSON` then `ParseQuantity`).

        A JSON number is parsed from its literal text; for an int or float that is the text
        `json.dumps` gives, so `0.5` reads as "0.5". (A client's `1E3` reaches Python as the float
        1000.0 and so prints `1k`, not `1E3`; decode with `parse_float=str` to keep the text.)
        """
        raw = text.strip() if isinstance(text, str) else json.dumps(text)
        match = _SCANNER.fullmatch(raw)
        if match is None or not raw:  # Go rejects "" up front; its scanner would read 0
            raise QuantityError(_FORMAT_MESSAGE)
        sign, integer, fraction, suffix = match.groups()
        exponent, family = _interpret(suffix)
        num = integer.lstrip("0") or "0"
        denom = fraction or ""
        fast = _on_fast_path(family, num, denom, exponent)
        if not fast and not (integer or denom):
            raise QuantityError(_NUMERIC_MESSAGE)
        amount = Decimal(f"{sign}{num}{denom}E-{len(denom)}")
        if family is Format.BINARY_SI:
            amount = _EXACT.multiply(amount, 2**exponent)
        else:
            amount = amount.scaleb(exponent, _EXACT)
        kept = raw if fast and _is_canonical(family, num, denom, exponent) else None
        amount = _round_away(amount, _NANO)
        if family is Format.BINARY_SI:
            amount, family = _clamp_binary(amount)
        return cls(amount if amount else Decimal(0), family, kept)  # no "-0"

    def __str__(self) -> str:
        """The canonical form the server stores and returns, or the verbatim input text."""
        return self.text if self.text is not None else _canonical(self.amount, self.format)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.amount == other.amount

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.amount < other.amount

    def __hash__(self) -> int:
        return hash(self.amount)

    @property
    def is_zero(self) -> bool:
        """Whether the value is zero, whatever the suffix (`0Gi`, `0m`)."""
        return self.amount == 0

    @property
    def sign(self) -> int:
        """-1, 0 or 1."""
        return (self.amount > 0) - (self.amount < 0)

    def round_up_milli(self) -> Quantity:
        """Round away from zero to 10^-3, as pod defaulting does to resources (`RoundUp(-3)`).

        A value already on the milli grid is returned unchanged, verbatim text included,
        because Go's RoundUp leaves such a value and its cached string alone.
        """
        rounded = _round_away(self.amount, _MILLI)
        if rounded == self.amount:
            return self
        return Quantity(rounded, self.format)

    def value(self) -> int:
        """The value rounded away from zero to an integer, saturating at int64 like Go's Value()."""
        return _scaled_int64(self.amount, 0)

    def milli_value(self) -> int:
        """ceil(value * 1000) away from zero, saturating at int64 like Go's MilliValue()."""
        return _scaled_int64(self.amount, _MILLI)


def _interpret(suffix: str) -> tuple[int, Format]:
    """Map a suffix to its exponent (of 10, or of 2 for BinarySI) and family, as suffix.go does.

    Suffixes are case-sensitive: `1K` and `1mi` are errors, not `1k` and `1Mi`.
    """
    if suffix in _DECIMAL_SI:
        return _DECIMAL_SI[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SI[1:]:
        return 10 * _BINARY_SI.index(suffix), Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and _SIGNED_INT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        if _INT64_MIN <= exponent <= _INT64_MAX:
            return _wrap_int32(exponent), Format.DECIMAL_EXPONENT
    raise QuantityError(_SUFFIX_MESSAGE)


def _wrap_int32(value: int) -> int:
    """Go parses the exponent as int64 and then converts it with int32(), which wraps."""
    return (value + 2**31) % 2**32 - 2**31


def _on_fast_path(family: Format, num: str, denom: str, exponent: int) -> bool:
    """Whether Go parses the number into an int64 (the only path that may keep the text).

    `num` is the integer part without leading zeros ("0" when empty), `denom` the fraction.
    Binary inputs need a whole number that still fits after the shift; Go estimates the room
    as 15 digits less about 0.3 digits per bit of the suffix.
    """
    if family is Format.BINARY_SI:
        return not denom and 15 - len(num) - exponent * 3 // 10 - 1 >= 0
    return len(num) + len(denom) <= _FAST_PATH_DIGITS and exponent - len(denom) >= _NANO


def _is_canonical(family: Format, num: str, denom: str, exponent: int) -> bool:
    """Go's test that the input text already is the canonical form, so it can be kept.

    Decimal: the exponent of the last digit is a multiple of 3 and the digits neither start
    with 0 nor end in 000. Binary: the number is not a multiple of 8, Go's cheap stand-in for
    "does not fold into a larger suffix" (`1000Ki` is kept, `1024Ki` is not).
    """
    if family is Format.BINARY_SI:
        return int(num) % 8 != 0
    digits = num + denom
    return (exponent - len(denom)) % 3 == 0 and not digits.endswith("000") and digits[0] != "0"


def _clamp_binary(amount: Decimal) -> tuple[Decimal, Format]:
    """Cap a binary magnitude at 2^63-1; a magnitude below 1 switches to DecimalSI.

    A binary suffix cannot show a fraction, so Go reclassifies `0.5Ki` rounding leftovers
    like 0.5 as decimal; the cap exists because Go stored binary values in an int64.
    """
    magnitude = amount.copy_abs()
    if magnitude > _INT64_MAX:
        return Decimal(_INT64_MAX).copy_sign(amount), Format.BINARY_SI
    if 0 < magnitude < 1:
        return amount, Format.DECIMAL_SI
    return amount, Format.BINARY_SI


def _canonical(amount: Decimal, family: Format) -> str:
    """Go's `CanonicalizeBytes`: the largest suffix that prints the value without a fraction.

    A BinarySI value that is small (|v| < 1024) or fractional prints as DecimalSI.
    """
    if amount == 0:
        return "0"
    if family is Format.BINARY_SI:
        if amount.copy_abs() >= 1024 and _round_away(amount, 0) == amount:
            return _binary_text(int(amount))
        family = Format.DECIMAL_SI
    mantissa, exponent = _decimal_mantissa(amount)
    if family is Format.DECIMAL_EXPONENT:
        return mantissa + (f"e{exponent}" if exponent else "")
    # Go 1.31-1.33 has no DecimalSI suffix beyond E (10^18) and prints the bare mantissa then,
    # so 10^21 reads back as "1" (fixed upstream after 1.33 by kubernetes PR #140459).
    return mantissa + _DECIMAL_SI_BY_EXPONENT.get(exponent, "")


def _decimal_mantissa(amount: Decimal) -> tuple[str, int]:
    """Digits and power of ten with trailing zeros folded in, then the power lowered to a
    multiple of 3 so it matches an SI suffix (1.1e5 -> "110", 3)."""
    sign, digits, exponent = amount.as_tuple()
    text = "".join(map(str, digits))
    stripped = text.rstrip("0")
    power = cast(int, exponent) + len(text) - len(stripped)
    shift = power % 3
    return ("-" if sign else "") + stripped + "0" * shift, power - shift


def _binary_text(value: int) -> str:
    """A whole number as mantissa and the largest power-of-1024 suffix dividing it."""
    power = 0
    while power < len(_BINARY_SI) - 1 and value % 1024 == 0:
        value //= 1024
        power += 1
    return f"{value}{_BINARY_SI[power]}"


def _round_away(amount: Decimal, exponent: int) -> Decimal:
    """Round away from zero to a multiple of 10^exponent (inf.RoundUp).

    A value with no digits below that power is returned as is, so a huge exponent such as
    `1e2000000000` is never expanded into its digits.
    """
    if cast(int, amount.as_tuple().exponent) >= exponent:
        return amount
    return amount.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_UP, context=_EXACT)


def _scaled_int64(amount: Decimal, exponent: int) -> int:
    """amount / 10^exponent rounded away from zero, saturated to the int64 range.

    Go's int64 path saturates the same way; its big-decimal path overflows silently instead.
    """
    if amount == 0:
        return 0
    if amount.adjusted() - exponent >= 19:  # at least 10^19, beyond int64
        return _INT64_MAX if amount > 0 else _INT64_MIN
    whole = int(_round_away(amount, exponent).scaleb(-exponent, _EXACT))
    return max(_INT64_MIN, min(_INT64_MAX, whole))
