"""`GET /minikubelet/v1/namespaces/{ns}/pods/{name}/probes`: a pod's probe history, or a watch.

Outside every Kubernetes API group on purpose, so it can never collide with a real one. The
`PodProbeHistory` object and its entries are defined in `api/history.py`. Query:
`container=NAME` keeps that container's entries (and the conditions); `watch=true` streams
`{"type": "ADDED", "object": entry}` lines: the entries after `resourceVersion` (all without
it), then new ones, until the pod is deleted or `timeoutSeconds` pass.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.api.history import HistoryEntry, entries_from_json, entry_from_json, history_list
from minikubelet.errors import BadRequest
from minikubelet.server.deps import ApiDeps
from minikubelet.server.responses import json_response, query_bool, query_int

__all__ = ["pod_probes"]


def _keep(entry: HistoryEntry, container: str | None) -> bool:
    return not container or entry.container in (container, "")


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
        items = [
            e for e in entries_from_json(log.list(uid, after=int(since))) if _keep(e, container)
        ]
        last = max((e.seq or 0 for e in items), default=int(since))
        head = {"namespace": namespace, "name": name, "uid": uid, "resourceVersion": str(last)}
        return json_response(history_list(head, items))
    timeout = query_int(request, "timeoutSeconds")
    receive = log.subscribe(uid)  # before the list, in the same step: nothing falls between
    backlog = log.list(uid, after=int(since))

    async def frames() -> AsyncIterator[bytes]:
        last_sent = int(since)  # the seq of the newest entry streamed or skipped
        try:
            with anyio.move_on_after(timeout if timeout and timeout > 0 else float("inf")):
                for entry in entries_from_json(backlog):
                    last_sent = entry.seq or 0
                    if _keep(entry, container):
                        yield _frame(entry)
                async for stored in receive:
                    fresh = entry_from_json(stored)
                    if fresh is None or (fresh.seq or 0) <= last_sent:
                        continue
                    if _keep(fresh, container):
                        last_sent = fresh.seq or 0
                        yield _frame(fresh)
        finally:
            log.unsubscribe(uid, receive)

    return StreamingResponse(frames(), media_type="application/json")


def _frame(entry: HistoryEntry) -> bytes:
    frame = {"type": "ADDED", "object": entry.to_json()}
    return (json.dumps(frame, separators=(",", ":")) + "\n").encode()
