"""Pod handlers: the API server's create, get, list/watch, update, status, delete and log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.api.codec import format_time, to_dict
from minikubelet.api.create import prepare_create
from minikubelet.api.unacted import unacted_fields
from minikubelet.api.update import prepare_update
from minikubelet.errors import BadRequest
from minikubelet.server.deps import ApiDeps
from minikubelet.server.fieldvalidation import drop_unknown, validation_mode, warning_header
from minikubelet.server.logs import log_options, pick_container
from minikubelet.server.patch import apply_patch, read_patch
from minikubelet.server.responses import json_response, query_int, read_body
from minikubelet.server.watch import list_or_watch, table_or_object, with_kind

POD_FIELDS = {
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
}


def field_selector(request: Request, allowed: set[str]) -> dict[str, str] | None:
    """`a=b,c==d` into a dict; unknown fields are refused as the API server does."""
    raw = request.query_params.get("fieldSelector")
    if not raw:
        return None
    selector: dict[str, str] = {}
    for term in raw.split(","):
        key, sep, value = term.replace("==", "=").partition("=")
        if not sep or "!" in key:
            raise BadRequest(f"invalid selector: '{raw}'; can't understand '{term}'")
        if key not in allowed:
            raise BadRequest(
                f'"{key}" is not a known field selector: only "{", ".join(sorted(allowed))}"'
            )
        selector[key] = value
    return selector


async def list_pods(request: Request, deps: ApiDeps) -> Response:
    namespace = request.path_params.get("namespace")
    selector = field_selector(request, POD_FIELDS)
    return await list_or_watch(
        request, deps.store, "Pod", namespace, deps.clock.utcnow, field_selector=selector
    )


async def get_pod(request: Request, deps: ApiDeps) -> Response:
    p = request.path_params
    pod = deps.store.get("Pod", p["namespace"], p["name"])
    return table_or_object(request, "Pod", pod, deps.clock.utcnow())


def _dry_run(request: Request) -> bool:
    return request.query_params.get("dryRun") == "All"


async def create_pod(request: Request, deps: ApiDeps) -> Response:
    namespace = request.path_params["namespace"]
    body, warnings = drop_unknown(await read_body(request), validation_mode(request))
    created = prepare_create(body, namespace, deps.clock.utcnow())
    warnings += unacted_fields(created)
    pod = to_dict(created)
    if not _dry_run(request):
        pod = with_kind(deps.store.create("Pod", pod))
    return _answer(pod, warnings, 201)


def _answer(obj: dict[str, Any], warnings: list[str], code: int = 200) -> Response:
    response = json_response(obj, code)
    response.headers.update(warning_header(warnings))
    return response


async def replace_pod(request: Request, deps: ApiDeps) -> Response:
    p = request.path_params
    body, warnings = drop_unknown(await read_body(request), validation_mode(request))
    name = (body.get("metadata") or {}).get("name")
    if name and name != p["name"]:
        raise BadRequest(
            f"the name of the object ({name}) does not match the name on the URL ({p['name']})"
        )
    old = deps.store.get("Pod", p["namespace"], p["name"])
    updated = prepare_update(old, body)
    warnings += unacted_fields(updated)
    new = to_dict(updated)
    if not _dry_run(request):
        expected = (body.get("metadata") or {}).get("resourceVersion") or None
        new = with_kind(deps.store.update("Pod", new, expected_rv=expected))
    return _answer(new, warnings)


async def patch_pod(request: Request, deps: ApiDeps) -> Response:
    """PATCH: the patch over the stored pod, then the update rules of a PUT (`prepare_update`).
    A resourceVersion in the patch is a precondition, as the API server treats it."""
    p = request.path_params
    mode = validation_mode(request)
    patch = await read_patch(request)
    old = deps.store.get("Pod", p["namespace"], p["name"])
    merged = apply_patch(request.headers.get("content-type", ""), with_kind(old), patch)
    body, warnings = drop_unknown(merged, mode)
    updated = prepare_update(old, body)
    warnings += unacted_fields(updated)
    new = to_dict(updated)
    if not _dry_run(request):
        sent = (patch.get("metadata") or {}) if isinstance(patch, dict) else {}
        expected = sent.get("resourceVersion") if isinstance(sent, dict) else None
        new = with_kind(deps.store.update("Pod", new, expected_rv=expected or None))
    return _answer(new, warnings)


async def replace_status(request: Request, deps: ApiDeps) -> Response:
    p = request.path_params
    body = await read_body(request)
    status = body.get("status")
    if not isinstance(status, dict):
        raise BadRequest("status must be an object")
    return json_response(
        with_kind(deps.store.update_status("Pod", p["namespace"], p["name"], status))
    )


def grace_for_delete(pod: dict[str, Any], requested: int | None) -> int:
    """STRAT `CheckGracefulDelete`: the option, else the spec's; 0 off-node or when terminal."""
    spec = pod.get("spec") or {}
    grace = requested if requested is not None else spec.get("terminationGracePeriodSeconds", 30)
    phase = (pod.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    return 1 if grace < 0 else grace


async def delete_pod(request: Request, deps: ApiDeps) -> Response:
    p = request.path_params
    options: dict[str, Any] = {}
    if await request.body():
        options = await read_body(request)
    requested = query_int(request, "gracePeriodSeconds")
    if requested is None and isinstance(options.get("gracePeriodSeconds"), int):
        requested = options["gracePeriodSeconds"]
    uid = ((options.get("preconditions") or {}).get("uid")) or None
    pod = deps.store.get("Pod", p["namespace"], p["name"])
    grace = grace_for_delete(pod, requested)
    if _dry_run(request):
        return json_response(with_kind(pod))
    if grace == 0:
        return json_response(
            with_kind(deps.store.delete("Pod", p["namespace"], p["name"], uid=uid))
        )
    meta = pod["metadata"]
    current = meta.get("deletionGracePeriodSeconds")
    if current is not None and current <= grace:
        return json_response(with_kind(pod))  # a delete may only shorten the grace period
    now = deps.clock.utcnow()
    meta["deletionTimestamp"] = format_time(now + timedelta(seconds=grace))
    meta["deletionGracePeriodSeconds"] = grace
    return json_response(with_kind(deps.store.update("Pod", pod, expected_rv=None)))


async def pod_log(request: Request, deps: ApiDeps) -> Response:
    p = request.path_params
    options = log_options(request, p["name"])
    pod = deps.store.get("Pod", p["namespace"], p["name"])
    container = pick_container(pod, request.query_params.get("container"))
    if deps.logs is None or not (pod.get("spec") or {}).get("nodeName"):
        return Response(b"", media_type="text/plain")
    stream = await deps.logs.pod_logs(pod, container, options)
    return StreamingResponse(stream, media_type="text/plain")


__all__ = [
    "create_pod",
    "delete_pod",
    "get_pod",
    "grace_for_delete",
    "list_pods",
    "patch_pod",
    "pod_log",
    "replace_pod",
    "replace_status",
]
