"""The dashboard's own listener: loopback, a free port, a fresh token; and the socket API's
`GET /minikubelet/v1/dashboard`, which tells the CLI its URL."""

from __future__ import annotations

import hmac
import secrets
import socket
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from minikubelet.errors import NotFound
from minikubelet.server.deps import ApiDeps
from minikubelet.server.responses import json_response

__all__ = ["DashboardListener", "TokenInQuery", "dashboard_info"]

NO_DASHBOARD = "this node agent serves no dashboard"


@dataclass
class DashboardListener:
    """The socket is bound when made, so the URL is known before serving starts."""

    host: str = "127.0.0.1"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    sock: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, 0))

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/?token={self.token}"

    def app(self, deps: ApiDeps) -> ASGIApp:
        from minikubelet.server.dashboard.routes import dashboard_app

        return TokenInQuery(dashboard_app(deps), self.token, self.port)

    async def serve(self, deps: ApiDeps) -> None:
        """Serve until cancelled (uvicorn, no signal handling of its own)."""
        import uvicorn

        config = uvicorn.Config(
            self.app(deps), log_level="warning", lifespan="off", access_log=False, ws="none"
        )  # no WebSocket routes: uvicorn need not import a WebSocket library
        server = _quiet_server()(config)
        try:
            await server.serve([self.sock])
        finally:
            server.should_exit = True


def _quiet_server() -> type:
    import contextlib

    import uvicorn

    class Quiet(uvicorn.Server):
        """uvicorn without its own signal handling: the agent owns SIGTERM/SIGINT."""

        def install_signal_handlers(self) -> None:  # older uvicorn
            return

        def capture_signals(self):  # type: ignore[no-untyped-def]
            return contextlib.nullcontext()

    return Quiet


class TokenInQuery:
    """ASGI middleware: the right `token` in the query and a loopback Host, or 401, empty."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self.token = token.encode()
        self.hosts = {f"{h}:{port}".encode() for h in ("127.0.0.1", "localhost")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no WebSocket routes: nothing else is served
            return
        sent = b""
        for pair in (scope.get("query_string") or b"").split(b"&"):
            key, _, value = pair.partition(b"=")
            if key == b"token":
                sent = value
        host = dict(scope.get("headers") or []).get(b"host", b"")
        if hmac.compare_digest(sent, self.token) and host in self.hosts:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def dashboard_info(request: Request, deps: ApiDeps) -> Response:
    """The dashboard's URL, for the CLI over the agent's socket (and to kubectl's token holder on
    the HTTPS API, who may do more than look already)."""
    if deps.dashboard_url is None:
        raise NotFound(NO_DASHBOARD)
    return json_response(
        {"kind": "Dashboard", "apiVersion": "minikubelet/v1", "url": deps.dashboard_url}
    )
