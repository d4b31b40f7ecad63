"""Events and nodes: list/watch of events (kubectl describe's field selector), the node object."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.server.deps import ApiDeps
from minikubelet.server.pods import field_selector
from minikubelet.server.responses import json_response, read_body
from minikubelet.server.watch import list_or_watch, table_or_object

__all__ = ["get_node", "list_events", "list_nodes", "patch_node"]

EVENT_FIELDS = {
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
}


async def list_events(request: Request, deps: ApiDeps) -> Response:
    namespace = request.path_params.get("namespace")
    selector = field_selector(request, EVENT_FIELDS)
    return await list_or_watch(
        request, deps.store, "Event", namespace, deps.clock.utcnow, field_selector=selector
    )


async def list_nodes(request: Request, deps: ApiDeps) -> Response:
    return await list_or_watch(request, deps.store, "Node", None, deps.clock.utcnow)


async def get_node(request: Request, deps: ApiDeps) -> Response:
    node = deps.store.get("Node", "", request.path_params["name"])
    return table_or_object(request, "Node", node, deps.clock.utcnow())


async def patch_node(request: Request, deps: ApiDeps) -> Response:
    """A JSON merge patch of the node's labels (what `kubectl label node` sends)."""
    patch = await read_body(request)
    node = deps.store.get("Node", "", request.path_params["name"])
    labels = dict(node["metadata"].get("labels") or {})
    for key, value in ((patch.get("metadata") or {}).get("labels") or {}).items():
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = str(value)
    node = json.loads(json.dumps(node))
    node["metadata"]["labels"] = labels
    updated = deps.store.update("Node", node, expected_rv=None)
    return json_response({"kind": "Node", "apiVersion": "v1", **updated})
