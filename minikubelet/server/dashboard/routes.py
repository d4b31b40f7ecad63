"""The dashboard's routes: the page, its two static files, and two streams of server-sent
events fed by the store's watches and the probe history's subscription.

    /api/pods                 event `table`: the pods' Table (kubectl's columns, made by
                              printers/tables.py as for `get`) at connect, then `rows`: only the
                              rows that changed, and the pods deleted (table.py)
    /api/pods/NS/NAME         event `pod` (the object, on change), `entry` (each history entry,
                              the backlog first), `events` (the pod's events, at connect), then
                              `event` ({"type", "object"}: each one added, changed or deleted,
                              as the watch reports it), `gone`
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

import anyio
from anyio.abc import ObjectSendStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from minikubelet.api.raw import JSON
from minikubelet.errors import NotFound
from minikubelet.server.dashboard.feeds import Listed, keepalive, list_and_watch, sse
from minikubelet.server.dashboard.table import pods_stream
from minikubelet.server.deps import ApiDeps

__all__ = ["dashboard_app", "sse"]

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def _static(name: str) -> bytes:
    return (resources.files(__package__) / "static" / name).read_bytes()


def _stream(frames: AsyncIterator[bytes]) -> StreamingResponse:
    headers = {**_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)


def dashboard_app(deps: ApiDeps) -> Starlette:
    async def page(request: Request) -> Response:
        token = json.dumps(request.query_params.get("token", ""))[1:-1]
        body = _static("index.html").replace(b"{token}", token.encode())
        return Response(body, media_type="text/html", headers=_HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("app.js", "style.css"):
            raise NotFound("the server could not find the requested resource")
        kind = _TYPES["." + name.rsplit(".", 1)[1]]
        return Response(_static(name), media_type=kind, headers=_HEADERS)

    async def pods(request: Request) -> Response:
        return _stream(pods_stream(deps, _in_thread))

    async def pod(request: Request) -> Response:
        p = request.path_params
        deps.store.get("Pod", p["namespace"], p["name"])  # NotFound before the stream
        return _stream(_pod(deps, p["namespace"], p["name"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        return Response(b"not found\n", status_code=404, media_type="text/plain")

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/static/{name}", static, methods=["GET"]),
            Route("/api/pods", pods, methods=["GET"]),
            Route("/api/pods/{namespace}/{name}", pod, methods=["GET"]),
        ],
        exception_handlers={NotFound: not_found},
    )


async def _in_thread(build: Callable[[], bytes]) -> bytes:
    return await anyio.to_thread.run_sync(build)


async def _pod(deps: ApiDeps, namespace: str, name: str) -> AsyncIterator[bytes]:
    """The pod, its history and its events, merged into one stream until the pod goes."""
    body = deps.store.get("Pod", namespace, name)
    uid = str(body["metadata"].get("uid", ""))
    log = deps.store.probes
    receive = log.subscribe(uid)  # before the backlog, in the same step: nothing falls between
    backlog = log.list(uid)
    send, frames = anyio.create_memory_object_stream[bytes](1000)

    async with anyio.create_task_group() as tg:
        tg.start_soon(_follow_pod, deps, namespace, name, uid, send.clone())
        tg.start_soon(_follow_events, deps, namespace, uid, send.clone())
        tg.start_soon(_follow_history, receive, backlog, send.clone())
        tg.start_soon(keepalive, deps.clock, send)
        try:
            yield sse("pod", body)
            async for frame in frames:
                yield frame
                if frame.startswith(b"event: gone"):
                    break
        finally:
            frames.close()
            log.unsubscribe(uid, receive)
            tg.cancel_scope.cancel()


async def _follow_pod(
    deps: ApiDeps, ns: str, name: str, uid: str, send: ObjectSendStream[bytes]
) -> None:
    def mine(obj: JSON) -> bool:  # the selector keeps the name: a pod made again has a new uid
        return bool((obj.get("metadata") or {}).get("uid") == uid)

    async with send:
        async for change in list_and_watch(deps.store, "Pod", ns, {"metadata.name": name}):
            if isinstance(change, Listed):
                found = [obj for obj in change.items if mine(obj)]
                type_, obj = ("MODIFIED", found[0]) if found else ("DELETED", {})
            else:
                type_, obj = change
                if not mine(obj):
                    continue
            if type_ == "DELETED":
                await send.send(sse("gone", {"name": name}))
                return
            await send.send(sse("pod", obj))


async def _follow_events(deps: ApiDeps, ns: str, uid: str, send: ObjectSendStream[bytes]) -> None:
    """The pod's events once (and again after a gap the watch cannot bridge), then each change
    of one of them as it comes: the page merges them by uid."""
    async with send:
        async for change in list_and_watch(deps.store, "Event", ns, {"involvedObject.uid": uid}):
            if isinstance(change, Listed):
                await send.send(sse("events", change.items))
            else:
                await send.send(sse("event", {"type": change[0], "object": change[1]}))


async def _follow_history(receive: Any, backlog: list[JSON], send: ObjectSendStream[bytes]) -> None:
    async with send:
        last = 0
        for entry in backlog:
            last = int(entry.get("seq") or 0)
            await send.send(sse("entry", entry))
        async for entry in receive:
            if int(entry.get("seq") or 0) > last:
                last = int(entry.get("seq") or 0)
                await send.send(sse("entry", entry))
