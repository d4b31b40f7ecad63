"""Probes and lifecycle handlers (`validateProbe`, `validateHandler`, `validateLifecycle`).

Probe actions are typed, lifecycle handlers are raw JSON in `Container.extra`; `_get` reads
both so one handler check serves them, as upstream's `commonHandler` does.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Probe
from minikubelet.api.validation.field import (
    FieldError,
    Path,
    forbidden,
    invalid,
    not_supported,
    required,
)
from minikubelet.api.validation.names import (
    http_header_name,
    is_valid_port_name,
    is_valid_port_num,
)

__all__ = ["validate_lifecycle", "validate_probe", "validate_port_num_or_name"]

_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_TIMINGS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)
_NEGATIVE = "must be greater than or equal to 0"
# 1.32 wording (AllowPodLifecycleSleepActionZeroValue off by default).
_SLEEP_MSG = (
    "must be greater than 0 and less than terminationGracePeriodSeconds ({}). "
    "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
)


def _get(obj: Any, key: str) -> Any:
    """A field of a typed action or of a raw JSON dict; None when absent."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def validate_port_num_or_name(port: Any, path: Path) -> list[FieldError]:
    """An int must be 1-65535; a string (even "8080") must be a valid IANA port name."""
    if isinstance(port, str):
        return [invalid(path, port, m) for m in is_valid_port_name(port)]
    number = port if isinstance(port, int) else 0
    return [invalid(path, number, m) for m in is_valid_port_num(number)]


def _validate_action(kind: str, action: Any, grace: int, path: Path) -> list[FieldError]:
    if kind == "exec":
        return [] if _get(action, "command") else [required(path.child("command"))]
    if kind == "httpGet":
        return _validate_http_get(action, path)
    if kind == "sleep":
        seconds = _get(action, "seconds") or 0
        if seconds <= 0 or seconds > grace:
            return [invalid(path, seconds, _SLEEP_MSG.format(grace))]
        return []
    return validate_port_num_or_name(_get(action, "port"), path.child("port"))


def _validate_http_get(action: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if not _get(action, "path"):
        errs.append(required(path.child("path")))
    errs += validate_port_num_or_name(_get(action, "port"), path.child("port"))
    scheme = _get(action, "scheme") or ""
    if scheme not in ("HTTP", "HTTPS"):
        errs.append(not_supported(path.child("scheme"), scheme, ("HTTP", "HTTPS")))
    for header in _get(action, "httpHeaders") or []:
        name = _get(header, "name") or ""
        errs += [invalid(path.child("httpHeaders"), name, m) for m in http_header_name(name)]
    return errs


def _validate_handler(
    handler: Any, kinds: tuple[str, ...], grace: int, path: Path
) -> list[FieldError]:
    """Exactly one action: the first found is checked, each later one is Forbidden."""
    errs: list[FieldError] = []
    found = False
    for kind in kinds:
        action = _get(handler, kind)
        if action is None:
            continue
        if found:
            errs.append(forbidden(path.child(kind), "may not specify more than 1 handler type"))
        else:
            found = True
            errs += _validate_action(kind, action, grace, path.child(kind))
    if not found:
        errs.append(required(path, "must specify a handler type"))
    return errs


def validate_probe(kind: str, probe: Probe | None, grace: int, path: Path) -> list[FieldError]:
    """`validateLivenessProbe` / `validateReadinessProbe` / `validateStartupProbe` by field name."""
    if probe is None:
        return []
    errs = _validate_handler(probe, _PROBE_HANDLERS, grace, path)
    for name in _TIMINGS:
        value = getattr(probe, name) or 0
        if value < 0:
            errs.append(invalid(path.child(name), value, _NEGATIVE))
    tgps = probe.terminationGracePeriodSeconds
    if tgps is not None and tgps <= 0:
        errs.append(
            invalid(path.child("terminationGracePeriodSeconds"), tgps, "must be greater than 0")
        )
    if kind == "readinessProbe":
        if tgps is not None:
            detail = "must not be set for readinessProbes"
            errs.append(invalid(path.child("terminationGracePeriodSeconds"), tgps, detail))
    elif (probe.successThreshold or 0) != 1:
        success = probe.successThreshold or 0
        errs.append(invalid(path.child("successThreshold"), success, "must be 1"))
    return errs


def validate_lifecycle(lifecycle: Any, grace: int, path: Path) -> list[FieldError]:
    """postStart then preStop, each a handler of exec, httpGet, tcpSocket or sleep."""
    errs: list[FieldError] = []
    if not isinstance(lifecycle, dict):
        return errs
    for hook in ("postStart", "preStop"):
        handler = lifecycle.get(hook)
        if handler is not None:
            errs += _validate_handler(handler, _LIFECYCLE_HANDLERS, grace, path.child(hook))
    return errs
