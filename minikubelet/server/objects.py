"""The API server's generic REST handlers, for every stored kind of the registry.

One handler per verb (`list`/`watch`, `get`, `create`, `update`, `patch`, `delete`, and the
`status` subresource), each given the kind's registry entry: the pipeline is the generic
registry's (`k8s.io/apiserver/pkg/registry/generic/registry/store.go`), the kind's own steps are
its `Strategy` (defaulting, validation, graceful deletion). `app.py` binds them to the paths
`Kind.path` builds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.api.codec import format_time
from minikubelet.api.kinds import Kind
from minikubelet.api.strategy import Strategy, check_update_name
from minikubelet.errors import BadRequest
from minikubelet.server.deps import ApiDeps
from minikubelet.server.fieldvalidation import drop_unknown, validation_mode, warning_header
from minikubelet.server.patch import apply_patch, read_patch
from minikubelet.server.responses import json_response, query_int, read_body
from minikubelet.server.watch import list_or_watch, table_or_object, with_kind
from minikubelet.store.selectors import FieldSelector

__all__ = [
    "create_object",
    "delete_object",
    "field_selector",
    "get_object",
    "list_objects",
    "patch_object",
    "replace_object",
    "replace_status",
]


def field_selector(request: Request, allowed: frozenset[str]) -> FieldSelector | None:
    """The request's `fieldSelector`; unknown fields are refused as the API server does."""
    raw = request.query_params.get("fieldSelector")
    if not raw:
        return None
    selector = FieldSelector.parse(raw)
    for key in selector.paths():
        if key not in allowed:
            raise BadRequest(
                f'"{key}" is not a known field selector: only "{", ".join(sorted(allowed))}"'
            )
    return selector


def _strategy(kind: Kind, deps: ApiDeps) -> Strategy:
    """The kind's strategy; one that reads stored objects (the Service strategy's allocators
    know what other Services hold) is bound to this store first."""
    strategy = kind.load("strategy")
    bound = getattr(strategy, "bound", None)
    if bound is not None:
        strategy = bound(lambda: deps.store.list(kind.kind, None)[0])
    found: Strategy = strategy
    return found


def _dry_run(request: Request) -> bool:
    return request.query_params.get("dryRun") == "All"


def _answer(obj: dict[str, Any], warnings: list[str], code: int = 200) -> Response:
    response = json_response(obj, code)
    response.headers.update(warning_header(warnings))
    return response


def _with_unknown_dropped(
    request: Request, kind: Kind, deps: ApiDeps, body: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    return drop_unknown(body, validation_mode(request), _strategy(kind, deps).unknown_fields)


async def list_objects(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    return await list_or_watch(
        request,
        deps.store,
        kind.kind,
        request.path_params.get("namespace"),
        deps.clock.utcnow,
        field_selector=field_selector(request, kind.fields),
    )


async def get_object(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    p = request.path_params
    obj = deps.store.get(kind.kind, p.get("namespace", ""), p["name"])
    return table_or_object(request, kind.kind, obj, deps.clock.utcnow())


async def create_object(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    namespace = request.path_params.get("namespace", "")
    body, warnings = _with_unknown_dropped(request, kind, deps, await read_body(request))
    created, more = _strategy(kind, deps).create(body, namespace, deps.clock.utcnow())
    warnings += more
    if not _dry_run(request):
        created = deps.store.create(kind.kind, created)
    return _answer(with_kind(created, kind.kind), warnings, 201)


async def replace_object(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    p = request.path_params
    body, warnings = _with_unknown_dropped(request, kind, deps, await read_body(request))
    check_update_name(body, p["name"])
    old = deps.store.get(kind.kind, p.get("namespace", ""), p["name"])
    new, more = _strategy(kind, deps).update(old, body, deps.clock.utcnow())
    warnings += more
    if not _dry_run(request):
        expected = (body.get("metadata") or {}).get("resourceVersion") or None
        new = deps.store.update(kind.kind, new, expected_rv=expected)
    return _answer(with_kind(new, kind.kind), warnings)


async def patch_object(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """PATCH: the patch over the stored object, then the update rules of a PUT. A
    resourceVersion in the patch is a precondition, as the API server treats it."""
    p = request.path_params
    mode = validation_mode(request)
    patch = await read_patch(request)
    old = deps.store.get(kind.kind, p.get("namespace", ""), p["name"])
    content_type = request.headers.get("content-type", "")
    merged = apply_patch(content_type, with_kind(old, kind.kind), patch, kind.kind)
    body, warnings = drop_unknown(merged, mode, _strategy(kind, deps).unknown_fields)
    new, more = _strategy(kind, deps).update(old, body, deps.clock.utcnow())
    warnings += more
    if not _dry_run(request):
        sent = (patch.get("metadata") or {}) if isinstance(patch, dict) else {}
        expected = sent.get("resourceVersion") if isinstance(sent, dict) else None
        new = deps.store.update(kind.kind, new, expected_rv=expected or None)
    return _answer(with_kind(new, kind.kind), warnings)


async def replace_status(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """PUT on the status subresource: only the sent object's status is kept (the status
    strategies' PrepareForUpdate keeps the rest of the stored object)."""
    body = await read_body(request)
    return _store_status(request, deps, kind, deps.store.get(*_key(request, kind)), body)


async def patch_status(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """PATCH on the status subresource (`kubectl patch --subresource=status`): the patch over
    the stored object, then the PUT's rules."""
    patch = await read_patch(request)
    old = deps.store.get(*_key(request, kind))
    content_type = request.headers.get("content-type", "")
    merged = apply_patch(content_type, with_kind(old, kind.kind), patch, kind.kind)
    return _store_status(request, deps, kind, old, merged)


def _key(request: Request, kind: Kind) -> tuple[str, str, str]:
    p = request.path_params
    return kind.kind, p.get("namespace", ""), p["name"]


def _store_status(
    request: Request, deps: ApiDeps, kind: Kind, old: dict[str, Any], body: dict[str, Any]
) -> Response:
    status = body.get("status")
    if not isinstance(status, dict):
        raise BadRequest("status must be an object")
    check_status = getattr(_strategy(kind, deps), "check_status", None)
    if check_status is not None:
        check_status(old, body)  # raises the API server's error
    if _dry_run(request):
        return json_response(with_kind({**old, "status": status}, kind.kind))
    sent = body.get("metadata") or {}
    expected = sent.get("resourceVersion") if isinstance(sent, dict) else None
    updated = deps.store.update_status(*_key(request, kind), status, expected_rv=expected or None)
    return json_response(with_kind(updated, kind.kind))


async def delete_object(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """DELETE at once, or gracefully when the strategy gives a grace period: the object is
    marked (`deletionTimestamp`) and its owner (the node, for pods) finishes the deletion."""
    p = request.path_params
    namespace = p.get("namespace", "")
    options: dict[str, Any] = {}
    if await request.body():
        options = await read_body(request)
    requested = query_int(request, "gracePeriodSeconds")
    if requested is None and isinstance(options.get("gracePeriodSeconds"), int):
        requested = options["gracePeriodSeconds"]
    uid = ((options.get("preconditions") or {}).get("uid")) or None
    obj = deps.store.get(kind.kind, namespace, p["name"])
    grace = _strategy(kind, deps).delete_grace(obj, requested)
    if _dry_run(request):
        return json_response(with_kind(obj, kind.kind))
    if grace == 0:
        gone = deps.store.delete(kind.kind, namespace, p["name"], uid=uid)
        return json_response(with_kind(gone, kind.kind))
    meta = obj["metadata"]
    current = meta.get("deletionGracePeriodSeconds")
    if current is not None and current <= grace:
        return json_response(with_kind(obj, kind.kind))  # a delete may only shorten the grace
    now = deps.clock.utcnow()
    meta["deletionTimestamp"] = format_time(now + timedelta(seconds=grace))
    meta["deletionGracePeriodSeconds"] = grace
    return json_response(with_kind(deps.store.update(kind.kind, obj, expected_rv=None), kind.kind))
