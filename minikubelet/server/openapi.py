"""`/openapi/v3`: a document per group version of the registry; the Pod's schema generated from
`pod_schema.json`, every other kind an object tagged with its group-version-kind.

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

from minikubelet.api.kinds import Kind, all_kinds, groups
from minikubelet.errors import NotFound
from minikubelet.server.deps import ApiDeps

__all__ = ["MERGE_KEYS", "PRIMITIVE_MERGE", "RETAIN_KEYS", "api_v1_document", "document"]
__all__ += ["openapi_group_version", "openapi_root"]

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


def schema_name(type_name: str, kind: Kind | None = None) -> str:
    """The component name the API server gives a Go type (a kind outside core: its group's
    reversed name, `io.k8s.api.discovery.v1.EndpointSlice`)."""
    if kind is not None and kind.group:
        group = kind.group.removesuffix(".k8s.io").split(".")[0]
        return f"io.k8s.api.{group}.{kind.version}.{type_name}"
    if type_name in _REFS:
        return _REFS[type_name]
    if type_name in _META_TYPES:
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{type_name}"
    return f"io.k8s.api.core.v1.{type_name}"


def _ref(type_name: str, kind: Kind | None = None) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema_name(type_name, kind)}"}


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


def _operation(
    kind: Kind, op_id: str, action: str, body: list[str] | None, extra: list[Any]
) -> Any:
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    content = {"application/json": {"schema": _ref(kind.kind, kind)}}
    op: dict[str, Any] = {
        "tags": [_tag(kind)],
        "operationId": op_id,
        "parameters": extra,
        "responses": {"200": {"description": "OK", "content": content}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    if body is not None:
        media = {m: {"schema": _ref(kind.kind, kind)} for m in body}
        op["requestBody"] = {"content": media, "required": True}
    return op


def _tag(kind: Kind) -> str:
    group = kind.group.split(".")[0] if kind.group else "core"
    return f"{group}_{kind.version}"


def _op_name(kind: Kind) -> str:
    """`CoreV1NamespacedPod`, `DiscoveryV1NamespacedEndpointSlice`: the API server's names."""
    group = kind.group.split(".")[0].capitalize() if kind.group else "Core"
    scope = "Namespaced" if kind.namespaced else ""
    return f"{group}{kind.version.capitalize()}{scope}{kind.kind}"


_PATCH_TYPES = [
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
]
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_NAMESPACE = {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}


def _paths(kinds: list[Kind]) -> dict[str, Any]:
    """The collection and object paths of each kind, with the operations its verbs allow."""
    paths: dict[str, Any] = {}
    for kind in kinds:
        name = _op_name(kind)
        scope = [_NAMESPACE] if kind.namespaced else []
        collection: dict[str, Any] = {"parameters": scope}
        item: dict[str, Any] = {"parameters": [_NAME, *scope]}
        ops = [
            ("list", collection, "get", f"list{name}", "list", None, []),
            ("create", collection, "post", f"create{name}", "post", ["*/*"], _WRITE_PARAMS),
            ("get", item, "get", f"read{name}", "get", None, []),
            ("update", item, "put", f"replace{name}", "put", ["*/*"], _WRITE_PARAMS),
            ("patch", item, "patch", f"patch{name}", "patch", _PATCH_TYPES, _WRITE_PARAMS),
            ("delete", item, "delete", f"delete{name}", "delete", ["*/*"], []),
        ]
        for verb, where, method, op_id, action, body, extra in ops:
            if verb in kind.verbs:
                where[method] = _operation(kind, op_id, action, body, extra)
        for path, where in ((kind.path("{namespace}"), collection),
                            (kind.path("{namespace}", "{name}"), item)):  # fmt: skip
            if len(where) > 1:
                paths[path] = where
    return paths


def _kinds_of(group: str, version: str) -> list[Kind]:
    return [k for k in all_kinds() if k.stored and (k.group, k.version) == (group, version)]


def _kind_schemas(kinds: list[Kind]) -> dict[str, Any]:
    """The Pod's full schema (and its types) when the Pod is served here; every other kind
    as an object tagged with its GVK, its fields left to the server's validation."""
    out: dict[str, Any] = schemas() if any(k.kind == "Pod" for k in kinds) else {}
    for kind in kinds:
        if kind.kind == "Pod":
            continue
        gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        out[schema_name(kind.kind, kind)] = {
            "type": "object",
            "x-kubernetes-group-version-kind": [gvk],
            "x-kubernetes-preserve-unknown-fields": True,
        }
    return out


def document(group: str, version: str) -> bytes:
    """The `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION` document, serialized once
    for each set of kinds it describes."""
    return _document(tuple(_kinds_of(group, version)))


@cache
def _document(kinds: tuple[Kind, ...]) -> bytes:
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": _paths(list(kinds)),
        "components": {"schemas": _kind_schemas(list(kinds))},
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def api_v1_document() -> bytes:
    return document("", "v1")


def _hash(group: str, version: str) -> str:
    return hashlib.sha512(document(group, version)).hexdigest().upper()


async def openapi_root(request: Request, deps: ApiDeps) -> Response:
    """`/openapi/v3`: the index of group versions, each with a content hash as the API server's."""
    index: dict[str, Any] = {}
    for group, versions in groups().items():
        for version in versions:
            if not _kinds_of(group, version):
                continue
            rel = f"apis/{group}/{version}" if group else f"api/{version}"
            url = f"/openapi/v3/{rel}?hash={_hash(group, version)}"
            index[rel] = {"serverRelativeURL": url}
    return Response(json.dumps({"paths": index}), media_type="application/json")


async def openapi_group_version(request: Request, deps: ApiDeps) -> Response:
    """`/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION` as JSON, also when protobuf is
    asked first (JSON is accepted too)."""
    prefix, rest = request.path_params["prefix"], request.path_params["group_version"]
    group, _, version = rest.rpartition("/") if prefix == "apis" else ("", "", rest)
    if prefix not in ("api", "apis") or (prefix == "api") == bool(group):
        raise NotFound("the server could not find the requested resource")
    if not _kinds_of(group, version):
        raise NotFound("the server could not find the requested resource")
    return Response(
        document(group, version),
        media_type="application/json",
        headers={"Cache-Control": "public, immutable", "ETag": f'"{_hash(group, version)}"'},
    )
