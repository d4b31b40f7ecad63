"""httpGet probes, sent (`pkg/probe/http/http.go`); the request is built in `http_request.py`.

One GET per probe on a fresh connection (`Connection: close`, no keep-alive), no proxy, no
compression, TLS without verification, one deadline over the whole exchange (redirects and body
included), at most 10 KiB of body read. Redirects are followed by hand, as Go's client with the
kubelet's `RedirectChecker(followNonLocalRedirects=false)` does. Errors are worded as Go's
`*url.Error` (`Get "<url>": <error>`).

The exchange is an asyncio protocol feeding h11 (the HTTP/1.1 parser under httpx): one
connection, one request, one response, and nothing else per probe. Through httpx's transport a
probe cost a connection pool, anyio's happy-eyeballs task group, stream wrappers and cancel
scopes, most of its CPU (py-spy at 100 probed pods); a node runs 55 of these a second at 110
pods. httpx still parses and joins the URLs (cached per URL), as RFC 3986 says.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
from functools import lru_cache
from typing import NamedTuple

import h11
import httpx

from minikubelet.api.gofmt import go_errno_text, go_quote, join_host_port
from minikubelet.prober.http_request import ProbeRequest
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult, first_bytes

__all__ = ["MAX_BODY", "MAX_REDIRECTS", "http_probe"]

MAX_BODY = 10 * 1024  # maxRespBodyLength
MAX_REDIRECTS = 10
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_MAX_HEAD = 1 << 20  # Go's MaxResponseHeaderBytes default (10 MiB) would do; 1 MiB is plenty
_BROKEN = "net/http: HTTP/1.x transport connection broken"
_STATUS_LINE = 4096  # bytes kept of a response's start, for the message of a malformed one
_ssl_context: ssl.SSLContext | None = None


def _context() -> ssl.SSLContext:
    """`InsecureSkipVerify: true`, made once: building a context per probe costs CPU."""
    global _ssl_context
    if _ssl_context is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _ssl_context = ctx
    return _ssl_context


class _Stop(Exception):
    """Ends the exchange with an outcome (a Go client error or a body read error)."""

    def __init__(self, outcome: ProbeOutcome) -> None:
        super().__init__(outcome.output or outcome.error)
        self.outcome = outcome


class _Target(NamedTuple):
    """What one URL needs on the wire: where to dial and what to send."""

    scheme: str
    host: str
    port: int
    netloc: str  # the Host header's default: host, or host:port when the URL names a port
    target: bytes  # the request-target: the escaped path and the query


@lru_cache(maxsize=1024)
def _target(url_text: str) -> _Target:
    url = httpx.URL(url_text)
    port = url.port or (443 if url.scheme == "https" else 80)
    netloc = join_host_port(url.host, url.port) if url.port else url.host
    return _Target(url.scheme, url.host, port, netloc, url.raw_path)


def _tls_text(exc: ssl.SSLError) -> str:
    if "WRONG_VERSION_NUMBER" in str(exc) or "record layer" in str(exc):
        return "http: server gave HTTP response to HTTPS client"
    return f"remote error: tls: {exc.reason or exc}".lower()


def _read_text(exc: BaseException) -> str:
    """Go's wording for a connection that failed while the response was read."""
    if isinstance(exc, ssl.SSLError):
        return _tls_text(exc)
    if isinstance(exc, ConnectionResetError):
        return "read: connection reset by peer"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"read: {go_errno_text(exc)}"
    return str(exc) or type(exc).__name__


class _Reply(asyncio.Protocol):
    """One connection's bytes into an h11 client; `event()` waits for the next one."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.parser = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.failure: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.head:
            self.head = data[:_STATUS_LINE]  # for a malformed status line's message
        self.parser.receive_data(data)
        self._wake()

    def eof_received(self) -> bool:
        self.parser.receive_data(b"")
        self._wake()
        return False  # close our end too

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.failure is None:
            self.failure = exc
        self.parser.receive_data(b"")
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def event(self) -> object:
        """The next event; h11's RemoteProtocolError for bytes that break HTTP/1.1, the
        connection's error when it failed before the peer's bytes ended an event."""
        while True:
            event = self.parser.next_event()
            if event is not h11.NEED_DATA:
                return event
            if self.failure is not None:
                raise self.failure
            self.waiter = self.loop.create_future()
            await self.waiter


class _Exchange:
    """The redirect loop of Go's `Client.Do`, with the phase kept for the timeout message."""

    def __init__(self, request: ProbeRequest) -> None:
        self.request = request
        self.reading_body = False
        self.current_url = request.url
        self.reply: _Reply | None = None

    async def run(self) -> ProbeOutcome:
        url_text = self.request.url
        original = _target(url_text)
        host = self.request.host
        referer: str | None = None
        via = 0
        while True:
            target = _target(url_text)
            head = await self._send(url_text, target, host, referer)
            location = _header(head, b"location")
            if head.status_code not in _REDIRECT_CODES or location is None:
                return await self._outcome(head)
            current = httpx.URL(url_text)
            try:
                joined = current.join(location)
            except httpx.InvalidURL as exc:
                error = f"failed to parse Location header {go_quote(location)}: {exc}"
                raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {error}")) from exc
            if joined.host != original.host:  # ErrUseLastResponse: the 3xx is the answer
                return await self._outcome(head)
            via += 1
            if via >= MAX_REDIRECTS:
                message = f"Get {go_quote(location)}: stopped after {MAX_REDIRECTS} redirects"
                return ProbeOutcome.failure(message)
            self._close()
            # Go keeps a Host override only through a relative Location (issue 22233).
            if host is not None and httpx.URL(location).is_absolute_url:
                host = None
            if not (current.scheme == "https" and joined.scheme == "http"):
                referer = str(current.copy_with(username=None, password=None, fragment=None))
            url_text = str(joined)
            self.current_url = url_text

    async def _send(
        self, url_text: str, target: _Target, host: str | None, referer: str | None
    ) -> h11.Response:
        if target.scheme not in ("http", "https"):
            message = (
                f"Get {go_quote(url_text)}: unsupported protocol scheme {go_quote(target.scheme)}"
            )
            raise _Stop(ProbeOutcome.failure(message))
        headers = list(self.request.headers)
        if referer is not None:
            headers = [(k, v) for k, v in headers if k != "Referer"] + [("Referer", referer)]
        wire = [("Host", host or target.netloc), *headers, ("Connection", "close")]
        reply = await self._dial(url_text, target)
        try:
            data = reply.parser.send(h11.Request(method="GET", target=target.target, headers=wire))
        except h11.LocalProtocolError as exc:
            raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {exc}")) from exc
        assert reply.transport is not None and data is not None
        reply.transport.write(data)
        try:
            while True:
                event = await reply.event()
                if isinstance(event, h11.Response):
                    return event
                if isinstance(event, h11.InformationalResponse):
                    continue
                raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: EOF"))
        except h11.RemoteProtocolError as exc:
            if "close" in str(exc).lower():
                text = "EOF"  # closed before or inside the status line and the headers
            else:
                text = f"{_BROKEN}: {_malformed(reply.head, exc)}"
            raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {text}")) from exc
        except OSError as exc:
            raise _Stop(
                ProbeOutcome.failure(f"Get {go_quote(url_text)}: {_read_text(exc)}")
            ) from exc

    async def _dial(self, url_text: str, target: _Target) -> _Reply:
        loop = asyncio.get_running_loop()
        reply = _Reply(loop)
        tls = _context() if target.scheme == "https" else None
        try:
            await loop.create_connection(
                lambda: reply,
                target.host,
                target.port,
                ssl=tls,
                server_hostname=target.host if tls is not None else None,
            )
        except ssl.SSLError as exc:
            error = _tls_text(exc)
            raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {error}")) from exc
        except OSError as exc:
            if isinstance(exc, socket.gaierror):
                error = f"dial tcp: lookup {target.host}: no such host"
            else:
                address = join_host_port(target.host, target.port)
                error = f"dial tcp {address}: connect: {go_errno_text(exc)}"
            raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {error}")) from exc
        self.reply = reply
        return reply

    def _close(self) -> None:
        reply, self.reply = self.reply, None
        if reply is not None and reply.transport is not None:
            reply.transport.close()

    async def _outcome(self, head: h11.Response) -> ProbeOutcome:
        """`DoHTTPProbe` after `client.Do`: read ≤ 10 KiB (more is no error), then classify."""
        self.reading_body = True
        reply = self.reply
        assert reply is not None
        chunks: list[bytes] = []
        size = 0
        try:
            while size < MAX_BODY:
                event = await reply.event()
                if isinstance(event, h11.Data):
                    chunks.append(event.data)
                    size += len(event.data)
                    continue
                break  # EndOfMessage (or the connection's end)
        except (h11.RemoteProtocolError, OSError) as exc:
            # `DoHTTPProbe`: `return probe.Failure, "", err`, so the event reads "errored and
            # resulted in failure state", and the attempt is not counted
            text = "unexpected EOF" if isinstance(exc, h11.RemoteProtocolError) else _read_text(exc)
            raise _Stop(ProbeOutcome.errored(text, ProbeResult.FAILURE)) from exc
        raw = b"".join(chunks)[:MAX_BODY]
        body = raw.decode("utf-8", errors="replace")
        code = head.status_code
        if 200 <= code < 300:
            outcome = ProbeOutcome.success(body)
        elif 300 <= code < 400:
            outcome = ProbeOutcome(
                ProbeResult.WARNING, f"Probe terminated redirects, Response body: {body}"
            )
        else:
            outcome = ProbeOutcome.failure(f"HTTP probe failed with statuscode: {code}")
        return outcome.with_detail(
            url=self.current_url if self.current_url != self.request.url else None,
            statusCode=code,
            headerBytes=sum(len(k) + len(v) + 4 for k, v in head.headers.raw_items()),
            body=first_bytes(raw),
        )


def _malformed(head: bytes, exc: h11.RemoteProtocolError) -> str:
    """`http.ReadResponse`'s words for a status line without a space (`malformed HTTP response
    "garbage"`); h11's own for the rest."""
    line = head.split(b"\n", 1)[0].removesuffix(b"\r").decode("utf-8", errors="replace")
    if " " not in line:
        return f"malformed HTTP response {go_quote(line)}"
    return f"malformed HTTP response: {exc}"


def _header(head: h11.Response, name: bytes) -> str | None:
    for key, value in head.headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def http_probe(request: ProbeRequest, timeout: float) -> ProbeOutcome:
    """Run one probe GET (redirects included) within `timeout` seconds."""
    exchange = _Exchange(request)
    try:
        async with asyncio.timeout(None if math.isinf(timeout) else timeout):
            try:
                return await exchange.run()
            except _Stop as stop:
                return stop.outcome
    except TimeoutError:
        pass
    finally:
        exchange._close()
    if exchange.reading_body:
        return ProbeOutcome.errored(
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)",
            ProbeResult.FAILURE,
        )
    return ProbeOutcome.failure(
        f"Get {go_quote(exchange.current_url)}: context deadline exceeded"
        " (Client.Timeout exceeded while awaiting headers)"
    )
