"""Discovery and namespaces: what kubectl and client-go read before they touch a pod.

kubectl 1.32 starts every command with `/version`, `/api`, `/apis` and `/api/v1`; a 404 in
discovery fails the command (`couldn't get current server API group list`). It prefers
aggregated discovery (`as=APIGroupDiscoveryList`) but accepts plain `APIVersions`,
`APIGroupList` and `APIResourceList` JSON, which is what this node serves, every document made
from the registry of kinds (`api/kinds.py`): core/v1 under `/api/v1`, each other group version
under `/apis/GROUP/VERSION`.

Namespaces are not stored: the node has the four a cluster starts with (`default`,
`kube-node-lease`, `kube-public`, `kube-system`) and every namespace a pod lives in, which is
what `kubectl get ns` and clients that read a namespace before using it need.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.api.codec import format_time
from minikubelet.api.kinds import Kind, all_kinds, groups
from minikubelet.errors import NotFound
from minikubelet.server.deps import ApiDeps
from minikubelet.server.responses import json_response
from minikubelet.server.watch import table_or_list, table_or_object

__all__ = ["api_resources", "api_versions", "get_namespace", "group_list", "list_namespaces"]
__all__ += ["namespaces", "resource_list"]


def resource_list(group: str, version: str) -> list[dict[str, Any]]:
    """The APIResources of one group version: each kind, then its subresources, by name."""
    found: list[dict[str, Any]] = []
    kinds = sorted(
        (k for k in all_kinds() if (k.group, k.version) == (group, version)),
        key=lambda k: k.plural,
    )
    for kind in kinds:
        found.append(_resource(kind))
        for name in sorted(kind.subresources):
            sub = kind.subresources[name]
            found.append(
                {"name": f"{kind.plural}/{name}", "singularName": "", "namespaced": kind.namespaced,
                 "kind": sub.kind or kind.kind, "verbs": list(sub.verbs)}
            )  # fmt: skip
    return found


def _resource(kind: Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    return entry


async def api_versions(request: Request, deps: ApiDeps) -> Response:
    """`GET /api`: plain APIVersions, whatever discovery format was preferred."""
    host = request.url.hostname or "127.0.0.1"
    port = request.url.port
    address = f"{host}:{port}" if port else host
    return json_response(
        {
            "kind": "APIVersions",
            "versions": groups().get("", ["v1"]),
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }
    )


async def group_list(request: Request, deps: ApiDeps) -> Response:
    """`GET /apis`: the groups beyond core, each with its versions (the first preferred)."""
    listed = []
    for name, versions in groups().items():
        if not name:
            continue
        each = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        listed.append({"name": name, "versions": each, "preferredVersion": each[0]})
    return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": listed})


async def api_resources(request: Request, deps: ApiDeps) -> Response:
    """`GET /api/v1` or `/apis/GROUP/VERSION`: an APIResourceList."""
    group = request.path_params.get("group", "")
    version = request.path_params.get("version", "v1")
    resources = resource_list(group, version)
    if not resources:
        raise NotFound("the server could not find the requested resource")
    gv = f"{group}/{version}" if group else version
    body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv}
    return json_response({**body, "resources": resources})


SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


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
    """The cluster's own four (as old as the node) and each namespace with pods (as old as
    its oldest)."""
    now = format_time(deps.clock.utcnow())
    try:
        node = deps.store.get("Node", "", deps.node_name)
        born = str(node["metadata"].get("creationTimestamp") or now)
    except NotFound:
        born = now
    oldest = dict.fromkeys(SYSTEM_NAMESPACES, born)
    pods, _ = deps.store.list("Pod", None)
    for pod in pods:
        meta = pod.get("metadata") or {}
        ns, created = meta.get("namespace") or "default", meta.get("creationTimestamp") or now
        oldest[ns] = min(oldest.get(ns, created), created)
    return {name: _namespace(name, oldest[name]) for name in sorted(oldest)}


async def list_namespaces(request: Request, deps: ApiDeps) -> Response:
    items = list(namespaces(deps).values())
    return table_or_list(request, "Namespace", items, "1", deps.clock.utcnow())


async def get_namespace(request: Request, deps: ApiDeps) -> Response:
    name = request.path_params["name"]
    found = namespaces(deps).get(name)
    if found is None:
        details = {"name": name, "kind": "namespaces"}
        raise NotFound(f'namespaces "{name}" not found', details=details)
    return table_or_object(request, "Namespace", found, deps.clock.utcnow())
