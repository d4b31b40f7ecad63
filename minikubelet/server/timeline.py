"""`GET /minikubelet/v1/namespaces/{ns}/pods/{name}/probes`: a pod's probe history, or a watch.

Outside every Kubernetes API group on purpose, so it can never collide with a real one.

    {"kind": "PodProbeHistory", "apiVersion": "minikubelet/v1",
     "metadata": {"namespace", "name", "uid", "resourceVersion": "<last seq>"},
     "items": [record, ...]}                                  in the order written (seq)

    record = {"seq", "kind": "Probe", "probe": "liveness|readiness|startup", "container",
              "instance" (restart count), "containerID", "scheduled", "time" (ran),
              "durationMs", "result": "success|failure|unknown", "message", "changed"}
           | {"seq", "kind": "Container", "event": "Started|Killed|Exited", "container",
              "instance", "time", ["reason", "message", "exitCode", "containerID"]}
           | {"seq", "kind": "Condition", "condition": "Ready|ContainersReady",
              "status", "time", ["reason"]}

Times are RFC 3339 (probe times with microseconds). Query: `container=NAME` keeps that
container's records (and the conditions); `watch=true` streams `{"type": "ADDED", "object":
record}` lines: the records after `resourceVersion` (all without it), then new ones, until the
pod is deleted or `timeoutSeconds` pass.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.errors import BadRequest
from minikubelet.server.deps import ApiDeps
from minikubelet.server.responses import json_response, query_bool, query_int

__all__ = ["pod_probes"]

JSON = dict[str, Any]


def _keep(record: JSON, container: str | None) -> bool:
    return not container or record.get("container") in (container, "")


async def pod_probes(request: Request, deps: ApiDeps) -> Response:
    namespace, name = request.path_params["namespace"], request.path_params["name"]
    pod = deps.store.get("Pod", namespace, name)  # NotFound: pods "x" not found
    meta = pod["metadata"]
    uid = str(meta.get("uid", ""))
    container = request.query_params.get("container") or None
    since = request.query_params.get("resourceVersion") or "0"
    if not since.isdigit():
        raise BadRequest(f'invalid resource version: "{since}"')
    log = deps.store.probes
    if not query_bool(request, "watch"):
        items = [r for r in log.list(uid, after=int(since)) if _keep(r, container)]
        last = max((int(r["seq"]) for r in items), default=int(since))
        head = {"namespace": namespace, "name": name, "uid": uid, "resourceVersion": str(last)}
        return json_response(
            {
                "kind": "PodProbeHistory",
                "apiVersion": "minikubelet/v1",
                "metadata": head,
                "items": items,
            }
        )
    timeout = query_int(request, "timeoutSeconds")
    receive = log.subscribe(uid)  # before the list, in the same step: nothing falls between
    backlog = log.list(uid, after=int(since))

    async def frames() -> AsyncIterator[bytes]:
        seen = int(since)
        try:
            with anyio.move_on_after(timeout if timeout and timeout > 0 else float("inf")):
                for record in backlog:
                    seen = int(record["seq"])
                    if _keep(record, container):
                        yield _frame(record)
                async for record in receive:
                    if int(record["seq"]) > seen and _keep(record, container):
                        seen = int(record["seq"])
                        yield _frame(record)
        finally:
            log.unsubscribe(uid, receive)

    return StreamingResponse(frames(), media_type="application/json")


def _frame(record: JSON) -> bytes:
    return (json.dumps({"type": "ADDED", "object": record}, separators=(",", ":")) + "\n").encode()
