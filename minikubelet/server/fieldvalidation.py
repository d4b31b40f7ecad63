"""`?fieldValidation=Strict|Warn|Ignore`: what the API server does with unknown fields.

`Strict` (what kubectl sends by default and the minikubelet CLI always sends) leaves the body
alone: the strict decoder refuses it with `strict decoding error: unknown field ...`. `Warn`
and `Ignore` (kubectl `--validate=warn|false`) drop the unknown fields before decoding; `Warn`
also names each in a `Warning: 299` header, which kubectl prints as
`Warning: unknown field "spec.foo"`. Type errors are refused whatever the mode.

A request that names no mode is Warn, as the API server's default; kubectl and the minikubelet
CLI always name Strict.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from minikubelet.errors import BadRequest

__all__ = ["drop_unknown", "validation_mode", "warning_header"]

_MODES = ("Strict", "Warn", "Ignore")
DEFAULT_MODE = "Warn"
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def validation_mode(request: Request) -> str:
    mode = request.query_params.get("fieldValidation") or DEFAULT_MODE
    if mode not in _MODES:
        raise BadRequest(
            f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{mode}"'
        )
    return mode


def _steps(path: str) -> list[str | int]:
    return [int(m.group(1)) if m.group(1) else m.group(2) for m in _STEP.finditer(path)]


def _drop(body: Any, steps: list[str | int]) -> None:
    node = body
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(steps[-1], None)


def drop_unknown(
    body: dict[str, Any], mode: str, unknown_fields: Callable[[dict[str, Any]], list[str]]
) -> tuple[dict[str, Any], list[str]]:
    """The body to decode and the warnings to send, for this mode; `unknown_fields` is the
    kind's schema check (its strategy's)."""
    if mode == "Strict":
        return body, []
    unknown = unknown_fields(body)
    if not unknown:
        return body, []
    kept = copy.deepcopy(body)
    for path in reversed(unknown):
        _drop(kept, _steps(path))
    warnings = [f'unknown field "{path}"' for path in unknown] if mode == "Warn" else []
    return kept, warnings


def warning_header(warnings: list[str]) -> dict[str, str]:
    """RFC 7234 warning values, one per finding, as the API server joins them."""
    if not warnings:
        return {}
    quoted = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
    return {"Warning": quoted}
