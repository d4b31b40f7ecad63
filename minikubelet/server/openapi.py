"""`/openapi/v3`: the core/v1 Pod schema and its paths, generated from `pod_schema.json`.

kubectl needs OpenAPI twice (kubelet-reference Part 3 §7): with `--validate=strict` (its
default) it looks in `/openapi/v3/api/v1` for a PATCH operation tagged with the Pod's
`x-kubernetes-group-version-kind` that takes a `fieldValidation` query parameter, and when it
finds one it leaves validation to the server; and `apply` computes its strategic merge patch
from the schema's `x-kubernetes-patch-merge-key`/`-strategy`. Without this document every
`create`/`apply` fails with `failed to download openapi`. `/openapi/v2` is not served (kubectl
1.27+ is content with v3); the schema comes from the same field table the strict decoder uses,
so both agree on what a Pod is.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.server.deps import ApiDeps

__all__ = ["MERGE_KEYS", "PRIMITIVE_MERGE", "RETAIN_KEYS", "api_v1_document", "openapi_root"]
__all__ += ["openapi_v1"]

# patchMergeKey of the Pod's lists with patchStrategy "merge" (k8s.io/api/core/v1/types.go):
# (owner type, field) -> key. Lists not named here are atomic: a patch replaces them whole.
MERGE_KEYS: dict[tuple[str, str], str] = {
    ("PodSpec", "containers"): "name",
    ("PodSpec", "initContainers"): "name",
    ("PodSpec", "ephemeralContainers"): "name",
    ("PodSpec", "volumes"): "name",
    ("PodSpec", "imagePullSecrets"): "name",
    ("PodSpec", "hostAliases"): "ip",
    ("PodSpec", "schedulingGates"): "name",
    ("PodSpec", "resourceClaims"): "name",
    ("PodSpec", "topologySpreadConstraints"): "topologyKey",
    ("Container", "ports"): "containerPort",
    ("Container", "env"): "name",
    ("Container", "volumeMounts"): "mountPath",
    ("Container", "volumeDevices"): "devicePath",
    ("EphemeralContainer", "ports"): "containerPort",
    ("EphemeralContainer", "env"): "name",
    ("EphemeralContainer", "volumeMounts"): "mountPath",
    ("EphemeralContainer", "volumeDevices"): "devicePath",
    ("ObjectMeta", "ownerReferences"): "uid",
    ("PodStatus", "conditions"): "type",
    ("PodStatus", "podIPs"): "ip",
    ("PodStatus", "hostIPs"): "ip",
    ("PodStatus", "resourceClaimStatuses"): "name",
}
# Lists of scalars merged as sets (`patchStrategy:"merge"` on a []string).
PRIMITIVE_MERGE = {("ObjectMeta", "finalizers")}
# Lists whose items honour `$retainKeys` (`patchStrategy:"merge,retainKeys"`).
RETAIN_KEYS = {("PodSpec", "volumes")}

_META_TYPES = {
    "ObjectMeta",
    "ManagedFieldsEntry",
    "OwnerReference",
    "LabelSelector",
    "LabelSelectorRequirement",
}
_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "format": "int32"},
    "number": {"type": "number", "format": "double"},
    "any": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}
_REFS = {
    "time": "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "quantity": "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "intstr": "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
}
POD_GVK = {"group": "", "version": "v1", "kind": "Pod"}


def schema_name(type_name: str) -> str:
    """The component name the API server gives a Go type."""
    if type_name in _REFS:
        return _REFS[type_name]
    if type_name in _META_TYPES:
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{type_name}"
    return f"io.k8s.api.core.v1.{type_name}"


def _ref(type_name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema_name(type_name)}"}


def _field(owner: str, name: str, kind: Any, table: dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, dict) and "list" in kind:
        out: dict[str, Any] = {"type": "array", "items": _field(owner, name, kind["list"], table)}
        key = MERGE_KEYS.get((owner, name))
        if key is not None:
            out["x-kubernetes-patch-merge-key"] = key
            strategy = "merge,retainKeys" if (owner, name) in RETAIN_KEYS else "merge"
            out["x-kubernetes-patch-strategy"] = strategy
        elif (owner, name) in PRIMITIVE_MERGE:
            out["x-kubernetes-patch-strategy"] = "merge"
        return out
    if isinstance(kind, dict):
        return {"type": "object", "additionalProperties": _field(owner, name, kind["map"], table)}
    if kind in table or kind in _REFS:
        return {"allOf": [_ref(kind)], "default": {}}
    return dict(_SCALARS[kind])


@cache
def _field_table() -> dict[str, dict[str, Any]]:
    text = resources.files("minikubelet.api").joinpath("pod_schema.json").read_text()
    table: dict[str, dict[str, Any]] = json.loads(text)
    return table


def schemas() -> dict[str, Any]:
    """Every type of the Pod as an OpenAPI v3 component, the Pod tagged with its GVK."""
    table = _field_table()
    out: dict[str, Any] = {
        schema_name("time"): {"type": "string", "format": "date-time"},
        schema_name("quantity"): {"type": "string"},
        schema_name("intstr"): {"type": "string", "format": "int-or-string"},
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status": {
            "type": "object",
            "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Status"}],
        },
    }
    for type_name, fields in table.items():
        props = {name: _field(type_name, name, kind, table) for name, kind in fields.items()}
        out[schema_name(type_name)] = {"type": "object", "properties": props}
    pod = out[schema_name("Pod")]
    pod["x-kubernetes-group-version-kind"] = [POD_GVK]
    pod["description"] = "Pod is a collection of containers that can run on a host."
    return out


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": "string"}}


_WRITE_PARAMS = [
    _query("dryRun", "When present, indicates that modifications should not be persisted."),
    _query("fieldManager", "fieldManager is a name associated with the actor or entity."),
    _query("fieldValidation", "Ignore, Warn (the default) or Strict: what to do with unknown or "
           "duplicate fields."),
]  # fmt: skip


def _operation(op_id: str, action: str, body: list[str] | None, extra: list[Any]) -> Any:
    pod = {"application/json": {"schema": _ref("Pod")}}
    op: dict[str, Any] = {
        "tags": ["core_v1"],
        "operationId": op_id,
        "parameters": extra,
        "responses": {"200": {"description": "OK", "content": pod}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": dict(POD_GVK),
    }
    if body is not None:
        content = {media: {"schema": _ref("Pod")} for media in body}
        op["requestBody"] = {"content": content, "required": True}
    return op


def _paths() -> dict[str, Any]:
    patch_types = [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ]
    path_params = [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    return {
        "/api/v1/namespaces/{namespace}/pods": {
            "get": _operation("listCoreV1NamespacedPod", "list", None, []),
            "post": _operation("createCoreV1NamespacedPod", "post", ["*/*"], _WRITE_PARAMS),
            "parameters": path_params[1:],
        },
        "/api/v1/namespaces/{namespace}/pods/{name}": {
            "get": _operation("readCoreV1NamespacedPod", "get", None, []),
            "put": _operation("replaceCoreV1NamespacedPod", "put", ["*/*"], _WRITE_PARAMS),
            "patch": _operation("patchCoreV1NamespacedPod", "patch", patch_types, _WRITE_PARAMS),
            "delete": _operation("deleteCoreV1NamespacedPod", "delete", ["*/*"], []),
            "parameters": path_params,
        },
    }


@cache
def api_v1_document() -> bytes:
    """The `/openapi/v3/api/v1` document, serialized once."""
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": _paths(),
        "components": {"schemas": schemas()},
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _hash() -> str:
    return hashlib.sha512(api_v1_document()).hexdigest().upper()


async def openapi_root(request: Request, deps: ApiDeps) -> Response:
    """`/openapi/v3`: the index of group versions, with a content hash as the API server's."""
    index = {"paths": {"api/v1": {"serverRelativeURL": f"/openapi/v3/api/v1?hash={_hash()}"}}}
    return Response(json.dumps(index), media_type="application/json")


async def openapi_v1(request: Request, deps: ApiDeps) -> Response:
    """`/openapi/v3/api/v1` as JSON, also when protobuf is asked first (JSON is accepted too)."""
    return Response(
        api_v1_document(),
        media_type="application/json",
        headers={"Cache-Control": "public, immutable", "ETag": f'"{_hash()}"'},
    )
