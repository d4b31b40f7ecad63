"""Bearer-token authentication for the HTTPS listener, and the kubeconfig that carries it.

The UNIX socket needs no token: its 0600 mode is the authentication. The HTTPS listener is
reachable by every local user (and more, on a non-loopback address), so each request there
must carry `Authorization: Bearer <token>`; anything else gets the API server's 401 Status.
The token is compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from minikubelet.errors import NotFound
from minikubelet.server.deps import ApiDeps, Listener
from minikubelet.server.responses import json_response

__all__ = ["NO_LISTENER", "TokenAuth", "get_kubeconfig", "kubeconfig"]

NO_LISTENER = "this node agent has no HTTPS listener"

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


class TokenAuth:
    """ASGI middleware: requests without the right bearer token get 401 Unauthorized."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"authorization", b"")
        if hmac.compare_digest(sent, self.expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps(UNAUTHORIZED, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def kubeconfig(listener: Listener, name: str = "minikubelet") -> dict[str, Any]:
    """A kubeconfig for the listener: one cluster, one user, one context, namespace default."""
    ca = base64.b64encode(listener.ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": listener.server, "certificate-authority-data": ca}}
        ],
        "users": [{"name": name, "user": {"token": listener.token}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }


async def get_kubeconfig(request: Request, deps: ApiDeps) -> Response:
    """`minikubelet kubeconfig` asks the agent (over its socket) rather than reading the state
    dir: only the agent knows whether it listens, and where."""
    if deps.listener is None:
        raise NotFound(NO_LISTENER)
    return json_response(kubeconfig(deps.listener))
