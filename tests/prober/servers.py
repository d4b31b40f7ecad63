"""Local servers on 127.0.0.1 for the handler tests: well-behaved and hostile ones.

A probe against them runs on the event loop's real time (sockets are not driven by the fake
clock), so the tests bound it by ordering, not by the wall clock: the probe's own deadline
(timeoutSeconds) must come before `LATER`, a deadline on the same loop. Timers fire in deadline
order however loaded the machine is; only a stall of several seconds in the few loop turns
between the two could invert them, where "within 2.5 s" fails on any slow second.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from pathlib import Path

import anyio
from anyio.abc import ByteStream, SocketAttribute
from anyio.streams.tls import TLSListener

from minikubelet.api.models import Container, ContainerPort

Handler = Callable[[ByteStream], Awaitable[None]]
LATER = 10.0  # seconds: ten times the tests' timeoutSeconds of 1


def before_later() -> AbstractContextManager[anyio.CancelScope]:
    """`with before_later(): await probe` fails if the probe's own deadline did not end it
    first (a hostile peer here never lets go on its own)."""
    return anyio.fail_after(LATER)


@asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Run `handler` for every connection; yield the port. Each connection is closed after."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)

    async def wrapped(stream: ByteStream) -> None:
        try:
            with suppress(anyio.BrokenResourceError, anyio.EndOfStream, OSError, ssl.SSLError):
                await handler(stream)
        finally:
            await anyio.aclose_forcefully(stream)

    outer = TLSListener(listener, tls, standard_compatible=False) if tls else listener
    async with outer, anyio.create_task_group() as tg:
        tg.start_soon(outer.serve, wrapped)
        try:
            yield port
        finally:
            tg.cancel_scope.cancel()


async def read_request(stream: ByteStream) -> bytes:
    """The request head, up to and including the blank line."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive()
    return data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"


def response(status: str, body: bytes = b"", headers: tuple[str, ...] = ()) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(head).encode() + body


def free_port() -> int:
    """A port where nothing listens (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a throw-away self-signed certificate made by openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=bad.example", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def container(*ports: tuple[str, int], env: dict[str, str] | None = None) -> Container:
    from minikubelet.api.models import EnvVar

    return Container(
        name="app",
        ports=[ContainerPort(name=name, containerPort=number) for name, number in ports],
        env=[EnvVar(name=k, value=v) for k, v in (env or {}).items()],
    )
