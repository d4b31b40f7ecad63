"""The ASGI app: Kubernetes REST paths for pods, events and nodes, errors as metav1 Status.

`create_app(deps)` takes its dependencies explicitly (ASGI transports in tests skip lifespan).
Handlers are thin: the create/update pipelines live in `minikubelet.api`, state in the store,
logs come from the node through `LogSource`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from minikubelet import KUBERNETES_VERSION, __version__
from minikubelet.errors import NotFound, RuntimeFailure, StatusError
from minikubelet.server import auth, discovery, openapi, pods, resources
from minikubelet.server.deps import ApiDeps, LogSource
from minikubelet.server.responses import json_response, status_response
from minikubelet.server.timeline import pod_probes

__all__ = ["ApiDeps", "LogSource", "create_app"]


Handler = Callable[[Request, ApiDeps], Awaitable[Response]]


def _bind(handler: Handler, deps: ApiDeps) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, deps)

    endpoint.__name__ = handler.__name__
    return endpoint


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


# What kubectl and client-go read besides pods, events and nodes (discovery.py, openapi.py).
_KUBECTL_ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/api", discovery.api_versions, ["GET"]),
    ("/apis", discovery.group_list, ["GET"]),
    ("/api/v1", discovery.api_resources, ["GET"]),
    ("/api/v1/namespaces", discovery.list_namespaces, ["GET"]),
    ("/api/v1/namespaces/{name}", discovery.get_namespace, ["GET"]),
    ("/openapi/v3", openapi.openapi_root, ["GET"]),
    ("/openapi/v3/api/v1", openapi.openapi_v1, ["GET"]),
    ("/minikubelet/v1/kubeconfig", auth.get_kubeconfig, ["GET"]),
]


def create_app(deps: ApiDeps) -> Starlette:
    ns_pods = "/api/v1/namespaces/{namespace}/pods"
    pod = ns_pods + "/{name}"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/version", version, ["GET"]),
        ("/healthz", healthz, ["GET"]),
        ("/api/v1/pods", pods.list_pods, ["GET"]),
        (ns_pods, pods.list_pods, ["GET"]),
        (ns_pods, pods.create_pod, ["POST"]),
        (pod, pods.get_pod, ["GET"]),
        (pod, pods.replace_pod, ["PUT"]),
        (pod, pods.delete_pod, ["DELETE"]),
        (pod, pods.patch_pod, ["PATCH"]),
        (pod + "/status", pods.get_pod, ["GET"]),
        (pod + "/status", pods.replace_status, ["PUT"]),
        (pod + "/log", pods.pod_log, ["GET"]),
        ("/minikubelet/v1/namespaces/{namespace}/pods/{name}/probes", pod_probes, ["GET"]),
        ("/api/v1/events", resources.list_events, ["GET"]),
        ("/api/v1/namespaces/{namespace}/events", resources.list_events, ["GET"]),
        ("/api/v1/nodes", resources.list_nodes, ["GET"]),
        ("/api/v1/nodes/{name}", resources.get_node, ["GET"]),
        ("/api/v1/nodes/{name}", resources.patch_node, ["PATCH"]),
        *_KUBECTL_ROUTES,
    ]
    routes = [Route(path, _bind(h, deps), methods=methods) for path, h, methods in table]
    return Starlette(
        routes=routes,
        exception_handlers={
            StatusError: _status_error,
            RuntimeFailure: _runtime_error,
            HTTPException: _http_error,
        },
    )
