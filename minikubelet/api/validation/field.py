"""Field errors as the API server words them (`k8s.io/apimachinery/pkg/util/validation/field`).

A client sees these texts byte for byte, in the 422 Status and in kubectl's output, so the
rendering copies Go's: `%q` quoting for strings, bare numbers and Quantity objects, `"null"`
for a missing value, and `<field>: <Body>[: <detail>]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from minikubelet.api.gofmt import go_quote
from minikubelet.api.quantity import Quantity
from minikubelet.errors import Invalid

__all__ = ["OMIT", "Bare", "ErrorType", "FieldError", "Path", "invalid_error"]


class ErrorType(Enum):
    """Each type's value is (cause reason, body text), as `field.ErrorType` prints them."""

    REQUIRED = ("FieldValueRequired", "Required value")
    INVALID = ("FieldValueInvalid", "Invalid value")
    NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
    DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
    NOT_FOUND = ("FieldValueNotFound", "Not found")
    FORBIDDEN = ("FieldValueForbidden", "Forbidden")
    TOO_LONG = ("FieldValueTooLong", "Too long")
    TOO_MANY = ("FieldValueTooMany", "Too many")
    INTERNAL = ("InternalError", "Internal error")


# Types whose body never shows the bad value (`ErrorBody`'s first cases).
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}


class _Omit:
    """Go's `field.OmitValueType{}`: the body is the type name alone."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


class Bare(str):
    """A value Go prints without quotes (a `%#v` struct literal, a Stringer's text)."""


def format_value(value: Any) -> str:
    """Print a bad value as `ErrorBody` does: %q strings, bare scalars, `"null"` for nil."""
    if value is None:
        return go_quote("null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Bare):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Quantity):
        return str(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Path:
    """A field path, printed as `spec.containers[0].resources.limits[cpu]` (keys unquoted)."""

    text: str = ""

    def child(self, name: str, *more: str) -> Path:
        text = self.text
        for part in (name, *more):
            text = f"{text}.{part}" if text else part
        return Path(text)

    def index(self, i: int) -> Path:
        return Path(f"{self.text}[{i}]")

    def key(self, k: str) -> Path:
        return Path(f"{self.text}[{k}]")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class FieldError:
    """One `field.Error`: its type, the path, the offending value and a detail message."""

    type: ErrorType
    field: str
    bad_value: Any = OMIT
    detail: str = ""

    @property
    def reason(self) -> str:
        """The Status cause reason (`FieldValueRequired`, ...)."""
        return self.type.value[0]

    @property
    def body(self) -> str:
        """The message without the field: what `causes[].message` carries."""
        name = self.type.value[1]
        if self.type in _VALUELESS or self.bad_value is OMIT:
            text = name
        else:
            text = f"{name}: {format_value(self.bad_value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def required(path: Path, detail: str = "") -> FieldError:
    return FieldError(ErrorType.REQUIRED, str(path), "", detail)


def invalid(path: Path, value: Any, detail: str) -> FieldError:
    return FieldError(ErrorType.INVALID, str(path), value, detail)


def not_supported(path: Path, value: Any, supported: Sequence[str]) -> FieldError:
    """Go's `field.NotSupported`: the list keeps the caller's order, each item %q."""
    detail = "supported values: " + ", ".join(go_quote(s) for s in supported) if supported else ""
    return FieldError(ErrorType.NOT_SUPPORTED, str(path), value, detail)


def duplicate(path: Path, value: Any) -> FieldError:
    return FieldError(ErrorType.DUPLICATE, str(path), value)


def not_found(path: Path, value: Any) -> FieldError:
    return FieldError(ErrorType.NOT_FOUND, str(path), value)


def forbidden(path: Path, detail: str) -> FieldError:
    return FieldError(ErrorType.FORBIDDEN, str(path), "", detail)


def too_long(path: Path, value: Any, max_length: int) -> FieldError:
    unit = "byte" if max_length == 1 else "bytes"
    detail = f"must have at most {max_length} {unit}" if max_length >= 0 else "value is too long"
    return FieldError(ErrorType.TOO_LONG, str(path), value, detail)


def invalid_error(kind: str, name: str, errs: Sequence[FieldError]) -> Invalid:
    """`apierrors.NewInvalid`: the 422 Status whose message aggregates the errors.

    The message de-duplicates identical texts (as `utilerrors.NewAggregate` does) but the
    causes keep every error, in order.
    """
    texts = list(dict.fromkeys(str(err) for err in errs))
    message = f"{kind} {go_quote(name)} is invalid"
    if len(texts) == 1:
        message += f": {texts[0]}"
    elif texts:
        message += ": [" + ", ".join(texts) + "]"
    causes = [{"reason": e.reason, "message": e.body, "field": e.field} for e in errs]
    # StatusDetails fields are `omitempty`: an empty name or cause list is left out.
    details: dict[str, Any] = {"name": name} if name else {}
    details["kind"] = kind
    if causes:
        details["causes"] = causes
    return Invalid(message, details=details)
