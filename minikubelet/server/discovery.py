"""Discovery and namespaces: what kubectl and client-go read before they touch a pod.

kubectl 1.32 starts every command with `/version`, `/api`, `/apis` and `/api/v1`; a 404 in
discovery fails the command (`couldn't get current server API group list`). It prefers
aggregated discovery (`as=APIGroupDiscoveryList`) but accepts plain `APIVersions` and
`APIGroupList` JSON, which is all this node serves: one group version, core/v1.

Namespaces are not stored: the node has `default` and every namespace a pod lives in, which is
what `kubectl get ns` and clients that read a namespace before using it need.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.api.codec import format_time, parse_time
from minikubelet.errors import NotFound
from minikubelet.printers.duration import age
from minikubelet.server.deps import ApiDeps
from minikubelet.server.responses import json_response
from minikubelet.server.watch import wants_table

__all__ = ["RESOURCES", "api_resources", "api_versions", "get_namespace", "group_list"]
__all__ += ["list_namespaces", "namespaces"]

_POD_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

# What this node serves of core/v1, with the verbs it answers (kubectl checks them: `get`
# needs list, `delete` needs delete, `-w` needs watch).
RESOURCES: list[dict[str, Any]] = [
    {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event",
     "verbs": ["list", "watch"], "shortNames": ["ev"]},
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "verbs": ["get", "list"], "shortNames": ["ns"]},
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
     "verbs": ["get", "list", "patch", "watch"], "shortNames": ["no"]},
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
     "verbs": _POD_VERBS, "shortNames": ["po"], "categories": ["all"]},
    {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
     "verbs": ["get"]},
    {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
     "verbs": ["get", "update"]},
]  # fmt: skip

_NAMESPACE_COLUMNS = [
    ("Name", "string", "name", "Name must be unique within a namespace."),
    ("Status", "string", "", "The status of the namespace"),
    ("Age", "string", "", "CreationTimestamp is a timestamp representing the server time..."),
]


async def api_versions(request: Request, deps: ApiDeps) -> Response:
    """`GET /api`: plain APIVersions, whatever discovery format was preferred."""
    host = request.url.hostname or "127.0.0.1"
    port = request.url.port
    address = f"{host}:{port}" if port else host
    return json_response(
        {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }
    )


async def group_list(request: Request, deps: ApiDeps) -> Response:
    """`GET /apis`: no API groups beyond core/v1."""
    return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})


async def api_resources(request: Request, deps: ApiDeps) -> Response:
    body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1"}
    return json_response({**body, "resources": RESOURCES})


def _namespace(name: str, created: str) -> dict[str, Any]:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"minikubelet:namespace:{name}")),
            "resourceVersion": "1",
            "creationTimestamp": created,
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def namespaces(deps: ApiDeps) -> dict[str, dict[str, Any]]:
    """`default` (as old as the node) and each namespace with pods (as old as its oldest)."""
    now = format_time(deps.clock.utcnow())
    try:
        node = deps.store.get("Node", "", deps.node_name)
        born = str(node["metadata"].get("creationTimestamp") or now)
    except NotFound:
        born = now
    oldest: dict[str, str] = {"default": born}
    pods, _ = deps.store.list("Pod", None)
    for pod in pods:
        meta = pod.get("metadata") or {}
        ns, created = meta.get("namespace") or "default", meta.get("creationTimestamp") or now
        oldest[ns] = min(oldest.get(ns, created), created)
    return {name: _namespace(name, oldest[name]) for name in sorted(oldest)}


def _table(items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    columns = [
        {"name": n, "type": t, "format": f, "description": d, "priority": 0}
        for n, t, f, d in _NAMESPACE_COLUMNS
    ]
    rows = [
        {
            "cells": [
                ns["metadata"]["name"],
                ns["status"]["phase"],
                age(parse_time(ns["metadata"]["creationTimestamp"]), now),
            ],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": ns["metadata"],
            },
        }
        for ns in items
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": columns,
        "rows": rows,
    }


async def list_namespaces(request: Request, deps: ApiDeps) -> Response:
    items = list(namespaces(deps).values())
    if wants_table(request):
        return json_response(_table(items, deps.clock.utcnow()))
    bare = [{k: v for k, v in ns.items() if k not in ("kind", "apiVersion")} for ns in items]
    return json_response(
        {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
         "items": bare}
    )  # fmt: skip


async def get_namespace(request: Request, deps: ApiDeps) -> Response:
    name = request.path_params["name"]
    found = namespaces(deps).get(name)
    if found is None:
        details = {"name": name, "kind": "namespaces"}
        raise NotFound(f'namespaces "{name}" not found', details=details)
    if wants_table(request):
        return json_response(_table([found], deps.clock.utcnow()))
    return json_response(found)
