"""List and watch responses, shared by every resource: items without kind, watch frames with it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minikubelet.server.responses import json_response, query_int
from minikubelet.store import Store

__all__ = ["list_or_watch"]

Filter = Callable[[dict[str, Any]], bool]


def _with_kind(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "apiVersion": "v1",
        **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")},
    }


def _without_kind(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


async def list_or_watch(
    request: Request,
    store: Store,
    kind: str,
    namespace: str | None,
    *,
    field_selector: dict[str, str] | None = None,
    keep: Filter | None = None,
) -> Response:
    """A `<Kind>List`, or with `watch=true` a stream of `{"type", "object"}` lines."""
    labels = request.query_params.get("labelSelector") or None
    watching = request.query_params.get("watch", "").lower() in ("true", "1")
    if not watching:
        items, rv = store.list(
            kind, namespace, label_selector=labels, field_selector=field_selector
        )
        kept = [_without_kind(i) for i in items if keep is None or keep(i)]
        return json_response(
            {
                "kind": f"{kind}List",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": rv},
                "items": kept,
            }
        )
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
                    shown = obj if event_type == "ERROR" else _with_kind(obj, kind)
                    yield (json.dumps({"type": event_type, "object": shown}) + "\n").encode()

    return StreamingResponse(frames(), media_type="application/json")
