"""The one error hierarchy of minikubelet; each boundary translates into it, and out of it.

    MinikubeletError
    ├── ManifestError          a manifest could not be read (path, YAML, kind)
    ├── RuntimeFailure         the container engine refused or failed
    │   ├── RuntimeUnavailable     the engine cannot be reached
    │   ├── ContainerNotFound      no such container (removed behind our back)
    │   ├── ImagePullError         a pull failed; the text is the engine's
    │   └── ContainerStartError    create/start failed (Docker's ContainerCannotRun)
    └── StatusError            an error the API server would answer with a metav1 Status
        ├── BadRequest         400, e.g. strict decoding (unknown fields, wrong JSON types)
        ├── Invalid            422, field errors from validation
        ├── NotFound           404
        ├── AlreadyExists      409
        ├── Conflict           409, stale resourceVersion
        ├── RequestEntityTooLarge 413, a body over the API server's 3 MiB limit
        └── InternalError      500, e.g. an allocator's full range

The CLI prints these in kubectl's words; the server renders StatusError as a metav1 Status.
`report_error` is the last boundary of a process (the CLI's, the agent's): what reaches it is
printed as kubectl prints an error, never as a traceback.
"""

from __future__ import annotations

import os
import sys

# typing's import (~3 ms) is paid by every `exec` of the CLI; mypy reads this as typing's
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "ContainerNotFound",
    "ContainerStartError",
    "Forbidden",
    "ImagePullError",
    "InternalError",
    "RuntimeFailure",
    "RuntimeUnavailable",
    "RequestEntityTooLarge",
    "Invalid",
    "ManifestError",
    "MinikubeletError",
    "NotFound",
    "StatusError",
    "report_error",
]


class MinikubeletError(Exception):
    """Base of every error minikubelet raises on purpose."""


class ManifestError(MinikubeletError):
    """A manifest could not be read: a missing path, bad YAML, an unknown kind, no objects.

    The text is what kubectl prints after `error: `.
    """


class RuntimeFailure(MinikubeletError):
    """The container engine refused or failed; the text is the engine's own message."""


class RuntimeUnavailable(RuntimeFailure):
    """The engine cannot be reached (not running, socket gone, timed out)."""


class ContainerNotFound(RuntimeFailure):
    """The container does not exist (any more)."""


class ImagePullError(RuntimeFailure):
    """Pulling an image failed."""


class ContainerStartError(RuntimeFailure):
    """Creating or starting a container failed."""


class StatusError(MinikubeletError):
    """An error with an API server's reason and HTTP code, rendered as a metav1 Status."""

    reason = ""
    code = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        """The metav1 Status body, keys in the API server's order, empty fields omitted."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


class BadRequest(StatusError):
    """400: the body could not be decoded (strict decoding, JSON types, quantities)."""

    reason = "BadRequest"
    code = 400


class Invalid(StatusError):
    """422: the object decoded but failed validation; details carry one cause per field error."""

    reason = "Invalid"
    code = 422


class NotFound(StatusError):
    """404: no such object."""

    reason = "NotFound"
    code = 404


class AlreadyExists(StatusError):
    """409: the name is taken."""

    reason = "AlreadyExists"
    code = 409


class Forbidden(StatusError):
    """403: an admission plugin refused the request (`admission.NewForbidden`)."""

    reason = "Forbidden"
    code = 403


class Conflict(StatusError):
    """409: the object changed since the resourceVersion the client sent."""

    reason = "Conflict"
    code = 409


class RequestEntityTooLarge(StatusError):
    """413: a request body over the API server's limit."""

    reason = "RequestEntityTooLarge"
    code = 413


class InternalError(StatusError):
    """500 `InternalError`: `Internal error occurred: <err>`, the error also as the one cause."""

    reason = "InternalError"
    code = 500

    def __init__(self, error: str) -> None:
        super().__init__(
            f"Internal error occurred: {error}", details={"causes": [{"message": error}]}
        )


def report_error(err: BaseException) -> int:
    """An error that reached a process's top, on stderr; the exit code (1). Ours in kubectl's
    words (`error: ...`); anything else is a bug: `error: internal error: ...`, or re-raised
    with its traceback when MINIKUBELET_DEBUG is set."""
    if isinstance(err, MinikubeletError):
        print(f"error: {err}", file=sys.stderr)
    elif os.environ.get("MINIKUBELET_DEBUG"):
        raise err
    else:
        message = f"error: internal error: {err!r} (set MINIKUBELET_DEBUG=1 for details)"
        print(message, file=sys.stderr)
    return 1
