"""The Pod's own subresource: `pods/log`. Everything else a pod answers is generic
(`server/objects.py`, with the Pod's strategy from `api/create.py`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.api.kinds import Kind
from minikubelet.server.deps import ApiDeps
from minikubelet.server.logs import log_options, pick_container

__all__ = ["pod_log"]


async def pod_log(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    p = request.path_params
    options = log_options(request, p["name"])
    pod = deps.store.get(kind.kind, p["namespace"], p["name"])
    container = pick_container(pod, request.query_params.get("container"))
    if deps.logs is None or not (pod.get("spec") or {}).get("nodeName"):
        return Response(b"", media_type="text/plain")
    stream = await deps.logs.pod_logs(pod, container, options)
    return StreamingResponse(stream, media_type="text/plain")
