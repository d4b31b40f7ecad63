"""The Pod's own subresources: `pods/log` and `pods/ephemeralcontainers`. Everything else a
pod answers is generic (`server/objects.py`, with the Pod's strategy from `api/create.py`);
the streaming ones are in `server/streams/`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.api.codec import to_dict
from minikubelet.api.ephemeral import prepare_ephemeral_update
from minikubelet.api.kinds import Kind
from minikubelet.api.strategy import check_update_name
from minikubelet.server.deps import ApiDeps
from minikubelet.server.fieldvalidation import drop_unknown, validation_mode, warning_header
from minikubelet.server.logs import log_options, pick_container
from minikubelet.server.patch import apply_patch, read_patch
from minikubelet.server.responses import json_response, read_body
from minikubelet.server.watch import with_kind

__all__ = ["pod_ephemeral_patch", "pod_ephemeral_put", "pod_log"]


async def pod_log(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    p = request.path_params
    options = log_options(request, p["name"])
    pod = deps.store.get(kind.kind, p["namespace"], p["name"])
    container = pick_container(pod, request.query_params.get("container"))
    if deps.logs is None or not (pod.get("spec") or {}).get("nodeName"):
        return Response(b"", media_type="text/plain")
    stream = await deps.logs.pod_logs(pod, container, options)
    return StreamingResponse(stream, media_type="text/plain")


async def _ephemeral_store(
    request: Request, deps: ApiDeps, kind: Kind, old: dict[str, Any], body: dict[str, Any],
    expected: str | None, warnings: list[str],
) -> Response:  # fmt: skip
    new = to_dict(prepare_ephemeral_update(old, body))
    if request.query_params.get("dryRun") != "All":
        new = deps.store.update(kind.kind, new, expected_rv=expected or None)
    response = json_response(with_kind(new, kind.kind))
    response.headers.update(warning_header(warnings))
    return response


async def pod_ephemeral_put(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """PUT `pods/NAME/ephemeralcontainers`: a whole Pod, of which only the ephemeral
    containers count (`api/ephemeral.py`)."""
    p = request.path_params
    strategy = kind.load("strategy")
    body, warnings = drop_unknown(
        await read_body(request), validation_mode(request), strategy.unknown_fields
    )
    check_update_name(body, p["name"])
    old = deps.store.get(kind.kind, p["namespace"], p["name"])
    expected = (body.get("metadata") or {}).get("resourceVersion")
    return await _ephemeral_store(request, deps, kind, old, body, expected, warnings)


async def pod_ephemeral_patch(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """PATCH `pods/NAME/ephemeralcontainers` (kubectl debug's strategic merge patch, which
    merges the list by name): the patch over the stored Pod, then the PUT's rules."""
    p = request.path_params
    patch = await read_patch(request)
    old = deps.store.get(kind.kind, p["namespace"], p["name"])
    content_type = request.headers.get("content-type", "")
    merged = apply_patch(content_type, with_kind(old, kind.kind), patch, kind.kind)
    strategy = kind.load("strategy")
    body, warnings = drop_unknown(merged, validation_mode(request), strategy.unknown_fields)
    sent = (patch.get("metadata") or {}) if isinstance(patch, dict) else {}
    expected = sent.get("resourceVersion") if isinstance(sent, dict) else None
    return await _ephemeral_store(request, deps, kind, old, body, expected, warnings)
