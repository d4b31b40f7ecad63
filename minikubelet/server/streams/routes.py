"""The pod subresources that stream: `exec`, `attach`, `portforward` (GET and POST, as the API
server accepts both).

Before anything is switched the API server's checks run, with its words: the pod exists, the
container is valid for it, the pod has a node, at least one stdio stream is asked for, the
request is an upgrade. Then the kubelet's: the container must be running, else 500 text
`container not found ("app")`. A WebSocket upgrade that fails gets the same answer, so kubectl
1.30+ falls back to SPDY and shows the SPDY attempt's error, as against a real cluster.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
from starlette.requests import Request
from starlette.responses import Response

from minikubelet.api.kinds import Kind
from minikubelet.errors import BadRequest, RuntimeFailure
from minikubelet.server.deps import ApiDeps, StreamSource
from minikubelet.server.logs import pick_container
from minikubelet.server.streams import channels, portforward, websocket
from minikubelet.server.streams.remotecommand import (
    SPDY_PROTOCOLS,
    ExecOptions,
    exec_options,
    serve_spdy,
    serve_websocket,
    start_failed,
)
from minikubelet.server.streams.spdy_conn import SpdyConnection
from minikubelet.server.streams.upgrade import Upgraded, from_unix_peer, upgrader

__all__ = ["SUBRESOURCES", "pod_attach", "pod_exec", "pod_portforward"]


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(message, status_code=status, media_type="text/plain", headers=headers)


def _upgrade_kind(request: Request) -> str:
    return request.headers.get("upgrade", "").lower()


def _spdy_protocol(request: Request, supported: tuple[str, ...]) -> str | Response:
    offered = [
        v.strip()
        for value in request.headers.getlist("x-stream-protocol-version")
        for v in value.split(",")
        if v.strip()
    ]
    if not offered:
        return ""
    chosen = next((p for p in offered if p in supported), None)
    if chosen is not None:
        return chosen
    text = (
        "unable to upgrade: unable to negotiate protocol: client supports "
        f"[{' '.join(offered)}], server accepts [{' '.join(supported)}]"
    )
    headers = {"X-Accepted-Stream-Protocol-Versions": ", ".join(supported)}
    return _text(403, text, headers)


async def _checked(request: Request, deps: ApiDeps) -> tuple[dict[str, Any], ExecOptions]:
    ns, name = request.path_params["namespace"], request.path_params["name"]
    pod = deps.store.get("Pod", ns, name)
    opts = exec_options(request.query_params)
    container = pick_container(pod, opts.container or None)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise BadRequest(f"pod {name} does not have a host assigned")
    if not (opts.stdin or opts.stdout or opts.stderr):
        raise BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    if upgrader(request) is None or not _upgrade_kind(request):
        raise BadRequest("Upgrade request required")
    return pod, ExecOptions(opts.command, container, opts.stdin, opts.stdout, opts.stderr, opts.tty)


async def pod_exec(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    pod, opts = await _checked(request, deps)
    streams: StreamSource | None = deps.streams
    if streams is None:
        return _text(500, "streaming is not served by this agent")
    if not opts.command:
        return _text(400, "you must specify at least one command for the container")
    container_id = await streams.running_container(pod, opts.container)
    if container_id is None:
        return _text(500, f'container not found ("{opts.container}")')

    def start() -> Any:
        return streams.exec_stream(container_id, opts.command, stdin=opts.stdin, tty=opts.tty)

    return await _serve(request, opts, start)


async def pod_attach(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    """As exec, to the container's own process. The runtime frames its output by the
    container's `tty` (the kubelet's GetAttach reads the spec's, not the request's); the
    session's streams are the ones the client asked for."""
    pod, opts = await _checked(request, deps)
    streams: StreamSource | None = deps.streams
    if streams is None:
        return _text(500, "streaming is not served by this agent")
    container_id = await streams.running_container(pod, opts.container)
    if container_id is None:
        return _text(500, f'container not found ("{opts.container}")')
    opts = ExecOptions([], opts.container, opts.stdin, opts.stdout, opts.stderr, opts.tty)

    def start() -> Any:
        return streams.attach_stream(container_id, stdin=opts.stdin, tty=opts.tty)

    return await _serve(request, opts, start)


async def _serve(request: Request, opts: ExecOptions, start: Any) -> Response:
    upgrade = upgrader(request)
    assert upgrade is not None
    if _upgrade_kind(request) == "websocket":
        try:
            protocol, headers = websocket.accept(
                request.headers.raw, channels.REMOTECOMMAND_PROTOCOLS
            )
        except websocket.HandshakeError as exc:
            return _text(exc.status, str(exc))
        ws = websocket.WebSocket(await upgrade(headers))
        async with contextlib.AsyncExitStack() as stack:
            try:
                process = await stack.enter_async_context(start())
            except RuntimeFailure as exc:
                payload = channels.status_payload(protocol, start_failed(exc))
                with contextlib.suppress(anyio.BrokenResourceError, OSError):
                    await ws.send(channels.encode(protocol, channels.ERROR, payload))
                await ws.close()
                return Upgraded()
            await serve_websocket(ws, protocol, opts, process)
        return Upgraded()
    chosen = _spdy_protocol(request, SPDY_PROTOCOLS)
    if isinstance(chosen, Response):
        return chosen
    answer = [(b"connection", b"Upgrade"), (b"upgrade", b"SPDY/3.1")]
    if chosen:
        answer.append((b"x-stream-protocol-version", chosen.encode()))
    conn = SpdyConnection(await upgrade(answer))
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.serve)
            await serve_spdy(conn, chosen or "channel.k8s.io", opts, start)
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await conn.aclose()
    return Upgraded()


# (subresource, method) -> handler, merged into the app's SUBRESOURCES for the kinds that list it.
async def pod_portforward(request: Request, deps: ApiDeps, kind: Kind) -> Response:
    ns, name = request.path_params["namespace"], request.path_params["name"]
    pod = deps.store.get("Pod", ns, name)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise BadRequest(f"pod {name} does not have a host assigned")
    try:
        ports = portforward.parse_ports(request.query_params.getlist("ports"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    upgrade = upgrader(request)
    if upgrade is None or not _upgrade_kind(request):
        raise BadRequest("Upgrade request required")
    streams: StreamSource | None = deps.streams
    sandbox = await streams.pod_sandbox(pod) if streams is not None else None
    if streams is None or sandbox is None:
        return _text(500, f'pod not found ("{name}_{ns}")')

    async def dial(port: int) -> anyio.abc.ByteStream:
        assert streams is not None and sandbox is not None
        return await streams.dial(sandbox, port)

    if _upgrade_kind(request) == PASS_SOCKET:
        return await _pass_socket(request, upgrade, ports, dial, sandbox)
    if _upgrade_kind(request) == "websocket":
        try:
            protocol, headers = websocket.accept(request.headers.raw, _PORTFORWARD_WS)
        except websocket.HandshakeError as exc:
            return _text(exc.status, str(exc))
        ws = websocket.WebSocket(await upgrade(headers))
        if protocol.startswith("SPDY/3.1+"):  # the tunnel: a SPDY session inside
            await _spdy_portforward(portforward.TunnelStream(ws), dial, sandbox)
        else:
            await portforward.serve_websocket(ws, protocol, ports, dial, sandbox)
        return Upgraded()
    chosen = _spdy_protocol(request, ("portforward.k8s.io",))
    if isinstance(chosen, Response):
        return chosen
    answer = [(b"connection", b"Upgrade"), (b"upgrade", b"SPDY/3.1")]
    answer.append((b"x-stream-protocol-version", b"portforward.k8s.io"))
    await _spdy_portforward(await upgrade(answer), dial, sandbox)
    return Upgraded()


async def _pass_socket(
    request: Request, upgrade: Any, ports: list[int], dial: Any, sandbox: str
) -> Response:
    """`minikubelet port-forward` on this machine: the node dials the port in the pod's
    network namespace, as for every port-forward, and hands the connected socket to the CLI
    over the agent's UNIX socket (SCM_RIGHTS after the 101), so the bytes go between the CLI
    and the pod without the agent in between (a quarter of the direct rate when the agent
    relayed them in WebSocket messages). One port per request; a dial that fails is answered
    500 with the words the error stream would carry."""
    if len(ports) != 1 or not from_unix_peer(request):
        raise BadRequest(f"the {PASS_SOCKET} upgrade takes one port, on the UNIX socket")
    try:
        upstream = await dial(ports[0])
    except RuntimeFailure as exc:
        return _text(500, f"error forwarding port {ports[0]} to pod {sandbox}, uid : {exc}")
    async with upstream:
        raw = upstream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        if raw is None:
            return _text(500, "this node's runtime gives no socket to pass")
        stream = await upgrade([(b"connection", b"Upgrade"), (b"upgrade", PASS_SOCKET.encode())])
        try:
            await stream.send_socket(raw)
        except (anyio.BrokenResourceError, OSError):
            pass  # the client went away: its end of the pod connection closes with ours
        finally:
            await stream.aclose()
    return Upgraded()


async def _spdy_portforward(stream: anyio.abc.ByteStream, dial: Any, sandbox: str) -> None:
    conn = SpdyConnection(stream)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.serve, portforward.accept_stream)
            await portforward.serve_spdy(conn, dial, sandbox)
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await conn.aclose()


PASS_SOCKET = "minikubelet-socket"  # `_pass_socket`'s upgrade token
# The WebSocket protocols of port-forward: kubectl's tunnel, and the runtime's channel protocols.
_PORTFORWARD_WS = ("SPDY/3.1+portforward.k8s.io", channels.V4, "v4.base64.channel.k8s.io")

SUBRESOURCES: dict[tuple[str, str], Callable[[Request, ApiDeps, Kind], Awaitable[Response]]] = {
    ("attach", "GET"): pod_attach,
    ("attach", "POST"): pod_attach,
    ("exec", "GET"): pod_exec,
    ("exec", "POST"): pod_exec,
    ("portforward", "GET"): pod_portforward,
    ("portforward", "POST"): pod_portforward,
}
