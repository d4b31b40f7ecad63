"""The ASGI app: Kubernetes REST paths for every kind of the registry, errors as metav1 Status.

`create_app(deps)` takes its dependencies explicitly (ASGI transports in tests skip lifespan).
The routes are made from the registry of kinds (`api/kinds.py`): each stored kind gets the
generic handlers of `server/objects.py` for the verbs its entry lists, at the paths `Kind.path`
builds, and each subresource with a handler in `SUBRESOURCES` gets its own route. Handlers are
thin: the create/update pipelines live in the kinds' strategies, state in the store, logs come
from the node through `LogSource`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from minikubelet import KUBERNETES_VERSION, __version__
from minikubelet.api.kinds import Kind, all_kinds
from minikubelet.errors import NotFound, RuntimeFailure, StatusError
from minikubelet.server import auth, discovery, objects, openapi, pods
from minikubelet.server.dashboard.listener import dashboard_info
from minikubelet.server.deps import ApiDeps, LogSource
from minikubelet.server.durable import DurableAnswers
from minikubelet.server.probe_run import pod_probe_run
from minikubelet.server.responses import json_response, status_response
from minikubelet.server.timeline import pod_probes
from minikubelet.store.barrier import CommitBarrier

__all__ = [
    "STREAMING",
    "SUBRESOURCES",
    "ApiDeps",
    "KindHandler",
    "LogSource",
    "create_app",
    "kind_routes",
]


Handler = Callable[[Request, ApiDeps], Awaitable[Response]]
KindHandler = Callable[[Request, ApiDeps, Kind], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

# The subresources that upgrade the connection, on GET and POST (as the API server serves them).
STREAMING = ("attach", "exec", "portforward")


def _streaming(name: str) -> KindHandler:
    """`name`'s handler, imported on its first request: the streaming module pulls in h2,
    wsproto and the SPDY framer, a fifth of the agent's imports, which an agent's start (issue
    20's cold apply) and a node that never streams should not pay for."""

    async def handler(request: Request, deps: ApiDeps, kind: Kind) -> Response:
        from minikubelet.server.streams import routes

        return await routes.SUBRESOURCES[(name, request.method)](request, deps, kind)

    handler.__name__ = f"pod_{name}"
    return handler


# (subresource, HTTP method) -> its handler, for every kind that lists the subresource.
SUBRESOURCES: dict[tuple[str, str], KindHandler] = {
    ("status", "GET"): objects.get_object,
    ("status", "PUT"): objects.replace_status,
    ("status", "PATCH"): objects.patch_status,
    ("log", "GET"): pods.pod_log,
    ("ephemeralcontainers", "GET"): objects.get_object,
    ("ephemeralcontainers", "PUT"): pods.pod_ephemeral_put,
    ("ephemeralcontainers", "PATCH"): pods.pod_ephemeral_patch,
    **{(name, method): _streaming(name) for name in STREAMING for method in ("GET", "POST")},
}
# verb -> (on the collection or an object, HTTP method, handler)
_VERBS: dict[str, tuple[bool, str, KindHandler]] = {
    "list": (True, "GET", objects.list_objects),
    "create": (True, "POST", objects.create_object),
    "get": (False, "GET", objects.get_object),
    "update": (False, "PUT", objects.replace_object),
    "patch": (False, "PATCH", objects.patch_object),
    "delete": (False, "DELETE", objects.delete_object),
}


def _bind(handler: Handler, deps: ApiDeps) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handler(request, deps)

    endpoint.__name__ = handler.__name__
    return endpoint


def _bind_kind(handler: KindHandler, deps: ApiDeps, kind: Kind) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handler(request, deps, kind)

    endpoint.__name__ = f"{handler.__name__}_{kind.plural}"
    return endpoint


def kind_routes(kind: Kind, deps: ApiDeps) -> list[Route]:
    """The routes of one stored kind: its verbs, across namespaces for a namespaced list, and
    the subresources that have handlers."""
    scoped = kind.path("{namespace}") if kind.namespaced else kind.path()
    item = kind.path("{namespace}", "{name}")
    methods: dict[str, dict[str, Endpoint]] = {}
    for verb in kind.verbs:
        if verb not in _VERBS:
            continue
        on_collection, method, handler = _VERBS[verb]
        methods.setdefault(scoped if on_collection else item, {})[method] = _bind_kind(
            handler, deps, kind
        )
    if kind.namespaced and "list" in kind.verbs:
        methods.setdefault(kind.path(), {})["GET"] = _bind_kind(objects.list_objects, deps, kind)
    for (name, method), handler in SUBRESOURCES.items():
        if name in kind.subresources:
            path = kind.path("{namespace}", "{name}", name)
            methods.setdefault(path, {})[method] = _bind_kind(handler, deps, kind)
    return [
        Route(path, endpoint, methods=[method])
        for path, by_method in methods.items()
        for method, endpoint in by_method.items()
    ]


async def version(request: Request, deps: ApiDeps) -> Response:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return json_response(
        {
            "major": major,
            "minor": minor,
            "gitVersion": f"{KUBERNETES_VERSION}+minikubelet.{__version__}",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "",
            "goVersion": "",
            "compiler": "",
            "platform": "linux/amd64",
        }
    )


async def healthz(request: Request, deps: ApiDeps) -> Response:
    """200 once the agent's start is done: the node registered (its engine answering or not),
    the services up; 503 while the API already serves but they are still starting."""
    if not deps.started:
        return Response("node starting", status_code=503, media_type="text/plain")
    return Response("ok", media_type="text/plain")


async def _status_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StatusError)
    return status_response(exc)


async def _runtime_error(request: Request, exc: Exception) -> Response:
    """The engine failed under a request (logs while it is away): the API server's 500."""
    err = StatusError(f"Internal error occurred: {exc}")
    err.reason = "InternalError"
    return status_response(err)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return status_response(NotFound("the server could not find the requested resource"))
    err = StatusError(str(exc.detail))
    err.code = exc.status_code
    err.reason = "MethodNotAllowed" if exc.status_code == 405 else ""
    return status_response(err)


# What kubectl and client-go read besides the kinds (discovery.py, openapi.py).
_KUBECTL_ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/version", version, ["GET"]),
    ("/healthz", healthz, ["GET"]),
    ("/api", discovery.api_versions, ["GET"]),
    ("/apis", discovery.group_list, ["GET"]),
    ("/api/{version}", discovery.api_resources, ["GET"]),
    ("/apis/{group}/{version}", discovery.api_resources, ["GET"]),
    ("/api/v1/namespaces", discovery.list_namespaces, ["GET"]),
    ("/api/v1/namespaces/{name}", discovery.get_namespace, ["GET"]),
    ("/openapi/v3", openapi.openapi_root, ["GET"]),
    ("/openapi/v3/{prefix}/{group_version:path}", openapi.openapi_group_version, ["GET"]),
    ("/minikubelet/v1/kubeconfig", auth.get_kubeconfig, ["GET"]),
    ("/minikubelet/v1/namespaces/{namespace}/pods/{name}/probes", pod_probes, ["GET"]),
    ("/minikubelet/v1/namespaces/{namespace}/pods/{name}/probe", pod_probe_run, ["POST"]),
    ("/minikubelet/v1/dashboard", dashboard_info, ["GET"]),
]


def create_app(deps: ApiDeps) -> Starlette:
    routes = [Route(path, _bind(h, deps), methods=methods) for path, h, methods in _KUBECTL_ROUTES]
    for kind in all_kinds():
        if kind.stored:
            routes += kind_routes(kind, deps)
    if deps.barrier is None:  # one per store: the Unix socket's app and the HTTPS one share it
        deps.barrier = CommitBarrier(deps.store)
    return Starlette(
        routes=routes,
        middleware=[Middleware(DurableAnswers, barrier=deps.barrier)],
        exception_handlers={
            StatusError: _status_error,
            RuntimeFailure: _runtime_error,
            HTTPException: _http_error,
        },
    )
