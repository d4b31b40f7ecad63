"""The dashboard's routes: the page, its two static files, and two streams of server-sent
events fed by the store's watches and the probe history's subscription.

    /api/pods                 event `table`: the pods' Table (kubectl's columns, made by
                              printers/tables.py as for `get`), on every change and every 5 s
    /api/pods/NS/NAME         event `pod` (the object, on change), `entry` (each history entry,
                              the backlog first), `events` (the pod's events, on change), `gone`
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
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
from minikubelet.printers.tables import table
from minikubelet.server.deps import ApiDeps

__all__ = ["dashboard_app", "sse"]

REFRESH = 5.0  # seconds between Tables when nothing changes: AGE moves on
BATCH = 0.2  # changes this close together are one Table
TABLE_INTERVAL = 1.0  # and Tables at most this often while changes keep coming
KEEPALIVE = 15.0
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def sse(event: str, data: Any) -> bytes:
    """One server-sent event (the data on one line: JSON has no raw newlines)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


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
        return _stream(_pods(deps))

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


Offload = Callable[[Callable[[], bytes]], Awaitable[bytes]]


async def _in_thread(build: Callable[[], bytes]) -> bytes:
    return await anyio.to_thread.run_sync(build)


async def _pod_table(deps: ApiDeps, offload: Offload) -> bytes:
    """The Table event. The store is read on the loop (its connection is the loop's); the
    rows and the JSON, the larger share at 200 pods, are made in a worker thread from objects
    nobody else holds, so the loop (probes, pod workers) runs between them."""
    items, rv = deps.store.list("Pod", None)
    now = deps.clock.utcnow()
    return await offload(lambda: sse("table", table("Pod", items, now, rv)))


async def _pods(deps: ApiDeps, offload: Offload = _in_thread) -> AsyncIterator[bytes]:
    """The Table now, then again after each change: changes within 0.2 s are sent as one, and
    while changes keep coming a Table at most every TABLE_INTERVAL (a node starting or failing
    many pods at once would otherwise rebuild and send the whole Table, on the agent's loop, per
    change: bench/README.md, the probe bench with the view open)."""
    changed = anyio.Event()

    async def follow() -> None:
        while True:
            async with deps.store.watch("Pod", None, None) as watcher:
                async for _ in watcher:
                    changed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        try:
            while True:
                yield await _pod_table(deps, offload)
                sent = deps.clock.monotonic()
                with anyio.move_on_after(REFRESH):
                    await changed.wait()
                    since = deps.clock.monotonic() - sent
                    await deps.clock.sleep(max(BATCH, TABLE_INTERVAL - since))
                changed = anyio.Event()
        finally:
            tg.cancel_scope.cancel()


def _events_of(deps: ApiDeps, namespace: str, uid: str) -> list[JSON]:
    items, _ = deps.store.list("Event", namespace)
    return [e for e in items if (e.get("involvedObject") or {}).get("uid") == uid]


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
        tg.start_soon(_keepalive, deps, send)
        try:
            yield sse("pod", body)
            async for frame in frames:
                yield frame
                if frame.startswith(b"event: gone"):
                    break
        finally:
            log.unsubscribe(uid, receive)
            tg.cancel_scope.cancel()


async def _follow_pod(
    deps: ApiDeps, ns: str, name: str, uid: str, send: ObjectSendStream[bytes]
) -> None:
    async with send:
        while True:
            async with deps.store.watch("Pod", ns, None) as watcher:
                async for type_, obj in watcher:
                    meta = obj.get("metadata") or {}
                    if meta.get("name") != name or meta.get("uid") != uid:
                        continue
                    if type_ == "DELETED":
                        await send.send(sse("gone", {"name": name}))
                        return
                    await send.send(sse("pod", obj))


async def _follow_events(deps: ApiDeps, ns: str, uid: str, send: ObjectSendStream[bytes]) -> None:
    async with send:
        await send.send(sse("events", _events_of(deps, ns, uid)))
        while True:
            async with deps.store.watch("Event", ns, None) as watcher:
                async for _, obj in watcher:
                    if (obj.get("involvedObject") or {}).get("uid") == uid:
                        await send.send(sse("events", _events_of(deps, ns, uid)))


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


async def _keepalive(deps: ApiDeps, send: ObjectSendStream[bytes]) -> None:
    async with send:
        while True:
            await deps.clock.sleep(KEEPALIVE)
            await send.send(b": keepalive\n\n")
