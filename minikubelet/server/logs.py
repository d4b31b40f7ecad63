"""`GET .../pods/{name}/log`: options validated and the container chosen as the API server does."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from minikubelet.api.codec import parse_time
from minikubelet.errors import BadRequest, Invalid
from minikubelet.server.responses import query_bool, query_int

__all__ = ["log_options", "pick_container"]


def _invalid(name: str, field: str, value: Any, detail: str) -> Invalid:
    text = f"{field}: Invalid value: {value}: {detail}" if field else f": {detail}"
    message = text.split(": ", 1)[1] if field else detail
    return Invalid(
        f'PodLogOptions "{name}" is invalid: {text}',
        details={
            "name": name,
            "kind": "PodLogOptions",
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        },
    )


def log_options(request: Request, name: str) -> dict[str, Any]:
    """The query's log options (VAL `ValidatePodLogOptions`), in snake-free Kubernetes names."""
    tail = query_int(request, "tailLines")
    limit = query_int(request, "limitBytes")
    since_seconds = query_int(request, "sinceSeconds")
    since_time = request.query_params.get("sinceTime")
    if tail is not None and tail < 0:
        raise _invalid(name, "tailLines", tail, "must be greater than or equal to 0")
    if limit is not None and limit < 1:
        raise _invalid(name, "limitBytes", limit, "must be greater than 0")
    if since_seconds is not None and since_seconds < 1:
        raise _invalid(name, "sinceSeconds", since_seconds, "must be greater than 0")
    if since_seconds is not None and since_time:
        raise _invalid(
            name, "", "", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"
        )
    try:
        parsed_since = parse_time(since_time) if since_time else None
    except ValueError as exc:
        raise BadRequest(f'invalid sinceTime "{since_time}"') from exc
    return {
        "follow": query_bool(request, "follow"),
        "previous": query_bool(request, "previous"),
        "timestamps": query_bool(request, "timestamps"),
        "tailLines": tail,
        "limitBytes": limit,
        "sinceSeconds": since_seconds,
        "sinceTime": parsed_since,
    }


def pick_container(pod: dict[str, Any], requested: str | None) -> str:
    """The named container, or the only one of all (init and ephemeral ones count), listed
    init, regular, ephemeral (`validateContainer`)."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    names = [c["name"] for c in spec.get("initContainers") or []]
    names += [c["name"] for c in spec.get("containers") or []]
    names += [c["name"] for c in spec.get("ephemeralContainers") or []]
    if requested:
        if requested not in names:
            raise BadRequest(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return str(names[0])
    if not names:
        raise BadRequest(f"a container name must be specified for pod {name}")
    raise BadRequest(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    )
