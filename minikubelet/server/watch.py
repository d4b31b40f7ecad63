"""List and watch responses, shared by every resource: items without kind, watch frames with it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.api.kinds import by_kind
from minikubelet.api.validation.field import FieldError, Path, forbidden, invalid_error
from minikubelet.printers.tables import table
from minikubelet.server.responses import json_response, query_int
from minikubelet.store import Store
from minikubelet.store.selectors import Fields

__all__ = ["list_or_watch", "table_or_list", "table_or_object", "wants_table", "with_kind"]

Filter = Callable[[dict[str, Any]], bool]


def with_kind(obj: dict[str, Any], kind: str = "Pod") -> dict[str, Any]:
    """A stored object as a single GET or a watch frame shows it: kind and apiVersion first."""
    return {
        "kind": kind,
        "apiVersion": by_kind(kind).api_version,
        **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")},
    }


def _without_kind(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def wants_table(request: Request) -> bool:
    """kubectl asks `application/json;as=Table;v=v1;g=meta.k8s.io` for human-readable output."""
    return "as=Table" in request.headers.get("accept", "")


def table_or_object(request: Request, kind: str, obj: dict[str, Any], now: datetime) -> Response:
    """One object, or as a one-row Table when the client asks for one."""
    if wants_table(request):
        include = request.query_params.get("includeObject", "Metadata")
        rv = (obj.get("metadata") or {}).get("resourceVersion", "")
        return json_response(table(kind, [obj], now, rv, include_object=include))
    return json_response(with_kind(obj, kind))


def table_or_list(
    request: Request, kind: str, items: list[dict[str, Any]], rv: str, now: datetime
) -> Response:
    """A `<Kind>List` of the items, or their Table when the client asks for one."""
    kept = [_without_kind(i) for i in items]
    if wants_table(request):
        include = request.query_params.get("includeObject", "Metadata")
        return json_response(table(kind, kept, now, rv, include_object=include))
    return json_response(
        {
            "kind": f"{kind}List",
            "apiVersion": by_kind(kind).api_version,
            "metadata": {"resourceVersion": rv},
            "items": kept,
        }
    )


def check_watch_options(request: Request) -> None:
    """`validateWatchOptions` of an API server whose WatchList feature gate is off: a
    streaming list (`sendInitialEvents`, which client-go 1.35's reflector asks for first) is
    refused with its 422, and the client falls back to a list, then a watch. Served as is, the
    request would leave such a client waiting for the initial-events-end bookmark."""
    query = request.query_params
    match = query.get("resourceVersionMatch") or ""
    errors: list[FieldError] = []
    if "sendInitialEvents" in query:
        if match != "NotOlderThan":
            detail = "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            errors.append(forbidden(Path("resourceVersionMatch"), detail))
        detail = (
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
        )
        errors.append(forbidden(Path("sendInitialEvents"), detail))
    elif match:
        detail = "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
        errors.append(forbidden(Path("resourceVersionMatch"), detail))
    if errors:
        error = invalid_error("ListOptions.meta.k8s.io", "", errors)
        error.details = {"group": "meta.k8s.io", "kind": "ListOptions", **{
            k: v for k, v in (error.details or {}).items() if k not in ("kind", "group")
        }}  # fmt: skip
        raise error


async def list_or_watch(
    request: Request,
    store: Store,
    kind: str,
    namespace: str | None,
    now: Callable[[], datetime],
    *,
    field_selector: Fields | None = None,
    keep: Filter | None = None,
) -> Response:
    """A `<Kind>List`, or with `watch=true` a stream of `{"type", "object"}` lines."""
    labels = request.query_params.get("labelSelector") or None
    as_table = wants_table(request)
    include = request.query_params.get("includeObject", "Metadata")
    watching = request.query_params.get("watch", "").lower() in ("true", "1")
    if not watching:
        items, rv = store.list(
            kind, namespace, label_selector=labels, field_selector=field_selector
        )
        kept = [i for i in items if keep is None or keep(i)]
        return table_or_list(request, kind, kept, rv, now())
    check_watch_options(request)
    since = request.query_params.get("resourceVersion") or None
    timeout = query_int(request, "timeoutSeconds")
    watcher = store.watch(
        kind, namespace, since, label_selector=labels, field_selector=field_selector
    )

    async def frames() -> AsyncIterator[bytes]:
        with anyio.move_on_after(timeout if timeout and timeout > 0 else float("inf")):
            async with watcher as events:
                async for event_type, obj in events:
                    if event_type != "ERROR" and keep is not None and not keep(obj):
                        continue
                    if event_type == "ERROR":
                        shown = obj
                    elif as_table:
                        shown = table(kind, [obj], now(), include_object=include)
                    else:
                        shown = with_kind(obj, kind)
                    yield (json.dumps({"type": event_type, "object": shown}) + "\n").encode()

    return StreamingResponse(frames(), media_type="application/json")
