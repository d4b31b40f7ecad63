"""httpGet probes, sent (`pkg/probe/http/http.go`); the request is built in `http_request.py`.

One GET per probe on a fresh connection (`Connection: close`, no keep-alive), no proxy, no
compression, TLS without verification, one deadline over the whole exchange (redirects and body
included), at most 10 KiB of body read. Redirects are followed by hand, as Go's client with the
kubelet's `RedirectChecker(followNonLocalRedirects=false)` does. Errors are worded as Go's
`*url.Error` (`Get "<url>": <error>`).
"""

from __future__ import annotations

import ssl

import anyio
import httpx

from minikubelet.api.gofmt import go_quote
from minikubelet.prober.http_request import ProbeRequest
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult, first_bytes
from minikubelet.prober.tcp import go_errno_text, join_host_port

__all__ = ["MAX_BODY", "MAX_REDIRECTS", "http_probe"]

MAX_BODY = 10 * 1024  # maxRespBodyLength
MAX_REDIRECTS = 10
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_CLOSE_GRACE = 1.0  # closing a connection never waits on the peer longer than this
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


def _cause_text(exc: BaseException) -> str:
    """Go's wording for what went wrong under an httpx exception."""
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, ssl.SSLError):
            if "WRONG_VERSION_NUMBER" in str(item) or "record layer" in str(item):
                return "http: server gave HTTP response to HTTPS client"
            return f"remote error: tls: {item.reason or item}".lower()
        if isinstance(item, ConnectionResetError):
            return "read: connection reset by peer"
    text = str(exc)
    if "without sending a response" in text:
        return "EOF"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "closed" in text or "incomplete" in text:
            return "unexpected EOF"
        return f"net/http: HTTP/1.x transport connection broken: malformed HTTP response: {text}"
    return text or type(exc).__name__


def _connect_text(exc: httpx.ConnectError, url: httpx.URL) -> str:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, OSError) and current.errno is not None:
            if isinstance(current, ssl.SSLError):
                break
            address = join_host_port(url.host, url.port or _default_port(url.scheme))
            return f"dial tcp {address}: connect: {go_errno_text(current)}"
        current = current.__cause__ or current.__context__
    return _cause_text(exc)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class _Exchange:
    """The redirect loop of Go's `Client.Do`, with the phase kept for the timeout message."""

    def __init__(self, transport: httpx.AsyncHTTPTransport, request: ProbeRequest) -> None:
        self.transport = transport
        self.request = request
        self.reading_body = False
        self.current_url = request.url

    async def run(self) -> ProbeOutcome:
        original = httpx.URL(self.request.url)
        url_text = self.request.url
        url = original
        host = self.request.host
        referer: str | None = None
        via = 0
        while True:
            response = await self._send(url_text, url, host, referer)
            try:
                location = response.headers.get("Location")
                if response.status_code not in _REDIRECT_CODES or location is None:
                    return await self._outcome(response)
                try:
                    target = url.join(location)
                except httpx.InvalidURL as exc:
                    error = f"failed to parse Location header {go_quote(location)}: {exc}"
                    raise _Stop(ProbeOutcome.failure(f"Get {go_quote(url_text)}: {error}")) from exc
                if target.host != original.host:  # ErrUseLastResponse: the 3xx is the answer
                    return await self._outcome(response)
                via += 1
                if via >= MAX_REDIRECTS:
                    message = f"Get {go_quote(location)}: stopped after {MAX_REDIRECTS} redirects"
                    return ProbeOutcome.failure(message)
            finally:
                await response.aclose()
            # Go keeps a Host override only through a relative Location (issue 22233).
            if host is not None and httpx.URL(location).is_absolute_url:
                host = None
            if not (url.scheme == "https" and target.scheme == "http"):
                referer = str(url.copy_with(username=None, password=None, fragment=None))
            url, url_text = target, str(target)
            self.current_url = url_text

    async def _send(
        self, url_text: str, url: httpx.URL, host: str | None, referer: str | None
    ) -> httpx.Response:
        if url.scheme not in ("http", "https"):
            message = (
                f"Get {go_quote(url_text)}: unsupported protocol scheme {go_quote(url.scheme)}"
            )
            raise _Stop(ProbeOutcome.failure(message))
        headers = list(self.request.headers)
        if referer is not None:
            headers = [(k, v) for k, v in headers if k != "Referer"] + [("Referer", referer)]
        netloc = join_host_port(url.host, url.port) if url.port else url.host
        wire = [("Host", host or netloc), *headers, ("Connection", "close")]
        request = httpx.Request("GET", url, headers=wire)
        try:
            return await self.transport.handle_async_request(request)
        except httpx.ConnectError as exc:
            raise _Stop(
                ProbeOutcome.failure(f"Get {go_quote(url_text)}: {_connect_text(exc, url)}")
            ) from exc
        except (httpx.TransportError, OSError) as exc:
            raise _Stop(
                ProbeOutcome.failure(f"Get {go_quote(url_text)}: {_cause_text(exc)}")
            ) from exc

    async def _outcome(self, response: httpx.Response) -> ProbeOutcome:
        """`DoHTTPProbe` after `client.Do`: read ≤ 10 KiB (more is no error), then classify."""
        self.reading_body = True
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY:
                    break
        except (httpx.TransportError, OSError) as exc:
            # `DoHTTPProbe`: `return probe.Failure, "", err`, so the event reads "errored and
            # resulted in failure state", and the attempt is not counted
            raise _Stop(ProbeOutcome.errored(_cause_text(exc), ProbeResult.FAILURE)) from exc
        raw = b"".join(chunks)[:MAX_BODY]
        body = raw.decode("utf-8", errors="replace")
        code = response.status_code
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
            headerBytes=sum(len(k) + len(v) + 4 for k, v in response.headers.raw),
            body=first_bytes(raw),
        )


async def http_probe(request: ProbeRequest, timeout: float) -> ProbeOutcome:
    """Run one probe GET (redirects included) within `timeout` seconds."""
    transport = httpx.AsyncHTTPTransport(
        verify=_context(),
        limits=httpx.Limits(max_keepalive_connections=0),
        retries=0,
        # no SO_LINGER, unlike the kubelet's dialer: see prober/tcp.py
    )
    exchange = _Exchange(transport, request)
    try:
        with anyio.move_on_after(timeout):
            try:
                return await exchange.run()
            except _Stop as stop:
                return stop.outcome
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_GRACE):
            await transport.aclose()
    if exchange.reading_body:
        return ProbeOutcome.errored(
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)",
            ProbeResult.FAILURE,
        )
    return ProbeOutcome.failure(
        f"Get {go_quote(exchange.current_url)}: context deadline exceeded"
        " (Client.Timeout exceeded while awaiting headers)"
    )
