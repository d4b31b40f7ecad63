"""httpGet against local servers, well-behaved and hostile, with the kubelet's messages."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from anyio.abc import ByteStream

from minikubelet.api.models import HTTPGetAction, HTTPHeader, Probe
from minikubelet.prober.handlers import run_probe
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult
from minikubelet.runtime.fake import FakeRuntime
from tests.prober.servers import (
    Handler,
    before_later,
    container,
    free_port,
    read_request,
    response,
    self_signed,
    serve,
)

pytestmark = pytest.mark.anyio


async def _get(port: int, path: str = "/healthz", **kw: object) -> ProbeOutcome:
    action = HTTPGetAction(path=path, port=port, **kw)  # type: ignore[arg-type]
    probe = Probe(httpGet=action, timeoutSeconds=1)
    return await run_probe(
        probe, "Readiness", container(), pod_ip="127.0.0.1", container_id="", runtime=FakeRuntime()
    )


def _reply(raw: bytes, seen: list[bytes] | None = None) -> Handler:
    async def handler(stream: ByteStream) -> None:
        request = await read_request(stream)
        if seen is not None:
            seen.append(request)
        await stream.send(raw)

    return handler


async def test_request_on_the_wire() -> None:
    seen: list[bytes] = []
    async with serve(_reply(response("200 OK", b"fine"), seen)) as port:
        outcome = await _get(port, "healthz?x=1")
    assert outcome == ProbeOutcome.success("fine")
    lines = seen[0].decode().split("\r\n")
    assert lines[0] == "GET /healthz?x=1 HTTP/1.1"
    assert lines[1:5] == [
        f"Host: 127.0.0.1:{port}",
        "User-Agent: kube-probe/1.32",
        "Accept: */*",
        "Connection: close",
    ]
    assert "accept-encoding" not in seen[0].decode().lower()


async def test_headers_canonical_repeated_and_virtual_host() -> None:
    seen: list[bytes] = []
    headers = [
        HTTPHeader(name="x-token", value="a"),
        HTTPHeader(name="X-TOKEN", value="b"),
        HTTPHeader(name="host", value="example.com"),
        HTTPHeader(name="Accept", value=""),
    ]
    async with serve(_reply(response("204 No Content"), seen)) as port:
        assert (await _get(port, httpHeaders=headers)).result is ProbeResult.SUCCESS
    lines = seen[0].decode().split("\r\n")
    assert "Host: example.com" in lines
    assert lines.count("X-Token: a") == 1 and lines.count("X-Token: b") == 1
    assert not any(line.lower().startswith("accept:") for line in lines)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("200 OK", ProbeOutcome.success("body")),
        ("299 Whatever", ProbeOutcome.success("body")),
        ("404 Not Found", ProbeOutcome.failure("HTTP probe failed with statuscode: 404")),
        ("500 Oops", ProbeOutcome.failure("HTTP probe failed with statuscode: 500")),
        (
            "304 Not Modified",
            ProbeOutcome(ProbeResult.WARNING, "Probe terminated redirects, Response body: "),
        ),
        (
            "300 Multiple Choices",
            ProbeOutcome(ProbeResult.WARNING, "Probe terminated redirects, Response body: body"),
        ),
    ],
)
async def test_status_codes(status: str, expected: ProbeOutcome) -> None:
    body = b"" if status.startswith("304") else b"body"
    async with serve(_reply(response(status, body))) as port:
        assert await _get(port) == expected


async def test_same_host_redirect_is_followed() -> None:
    paths: list[bytes] = []

    async def handler(stream: ByteStream) -> None:
        request = await read_request(stream)
        paths.append(request.split(b" ")[1])
        if request.startswith(b"GET /old"):
            await stream.send(response("301 Moved", headers=("Location: /new",)))
        else:
            await stream.send(response("200 OK", b"new"))

    async with serve(handler) as port:
        assert await _get(port, "/old") == ProbeOutcome.success("new")
    assert paths == [b"/old", b"/new"]


async def test_other_host_redirect_is_a_warning() -> None:
    body = b'<a href="http://0.0.0.0/">Found</a>.'
    async with serve(_reply(response("302 Found", body, ("Location: http://0.0.0.0/",)))) as port:
        outcome = await _get(port)
    assert outcome == ProbeOutcome(
        ProbeResult.WARNING, f"Probe terminated redirects, Response body: {body.decode()}"
    )


async def test_redirect_loop_stops_after_ten() -> None:
    seen: list[bytes] = []
    async with serve(_reply(response("302 Found", headers=("Location: /loop",)), seen)) as port:
        outcome = await _get(port, "/loop")
    assert outcome == ProbeOutcome.failure('Get "/loop": stopped after 10 redirects')
    assert len(seen) == 10


async def test_connection_refused() -> None:
    port = free_port()
    outcome = await _get(port)
    url = f"http://127.0.0.1:{port}/healthz"
    assert outcome == ProbeOutcome.failure(
        f'Get "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'
    )


async def test_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    async with serve(_reply(response("200 OK", b"tls")), tls=self_signed(tmp_path)) as port:
        assert await _get(port, scheme="HTTPS") == ProbeOutcome.success("tls")


async def test_proxy_environment_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    async with serve(_reply(response("200 OK"))) as port:
        assert (await _get(port)).result is ProbeResult.SUCCESS


async def test_endless_body_is_cut_at_10_kib() -> None:
    async def handler(stream: ByteStream) -> None:
        await read_request(stream)
        await stream.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            await stream.send(b"400\r\n" + b"y" * 1024 + b"\r\n")

    async with serve(handler) as port:
        with before_later():
            outcome = await _get(port)
    assert outcome == ProbeOutcome.success("y" * 10240)


async def _timed(
    handler_body: bytes | None, *, dribble: bool = False
) -> tuple[ProbeOutcome, float]:
    async def handler(stream: ByteStream) -> None:
        await read_request(stream)
        if handler_body is not None and dribble:
            for index in range(len(handler_body)):
                await stream.send(handler_body[index : index + 1])
                await anyio.sleep(0.05)  # the hostile pace, not a synchronisation
        elif handler_body is not None:
            await stream.send(handler_body)
        await anyio.sleep_forever()

    async with serve(handler) as port:
        start = anyio.current_time()
        with before_later():
            outcome = await _get(port)
        return outcome, anyio.current_time() - start


def _deadline(port_url: str) -> str:
    return (
        f'Get "{port_url}": context deadline exceeded'
        " (Client.Timeout exceeded while awaiting headers)"
    )


async def test_server_that_never_answers() -> None:
    outcome, elapsed = await _timed(None)
    assert outcome.result is ProbeResult.FAILURE
    assert outcome.output.endswith("(Client.Timeout exceeded while awaiting headers)")
    assert outcome.output.startswith('Get "http://127.0.0.1:')
    assert elapsed >= 0.9  # it waited for its timeout


async def test_server_that_answers_byte_by_byte() -> None:
    outcome, elapsed = await _timed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", dribble=True)
    assert outcome.output.endswith(
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    )
    assert elapsed >= 0.9


async def test_body_that_stalls_is_errored_and_retried() -> None:
    outcome, elapsed = await _timed(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    assert outcome == ProbeOutcome.errored(  # DoHTTPProbe: probe.Failure with the error
        "context deadline exceeded (Client.Timeout or context cancellation while reading body)",
        ProbeResult.FAILURE,
    )
    assert elapsed >= 3 * 0.9  # three attempts, each to its timeout, all before LATER


@pytest.mark.parametrize(
    ("raw", "expected_tail"),
    [
        pytest.param(b"", ": EOF", id="closed before answering"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", ": EOF", id="closed in headers"),
    ],
)
async def test_server_closes_mid_response(raw: bytes, expected_tail: str) -> None:
    async with serve(_reply(raw)) as port:
        with before_later():
            outcome = await _get(port)
    assert outcome.result is ProbeResult.FAILURE
    assert outcome.output == f'Get "http://127.0.0.1:{port}/healthz"{expected_tail}'


async def test_server_closes_mid_body() -> None:
    async with serve(_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")) as port:
        outcome = await _get(port)
    assert outcome == ProbeOutcome.errored("unexpected EOF", ProbeResult.FAILURE)


async def test_response_without_a_status_line() -> None:
    async with serve(_reply(b"garbage\r\n\r\n")) as port:
        with before_later():
            outcome = await _get(port)
    assert outcome == ProbeOutcome.failure(
        f'Get "http://127.0.0.1:{port}/healthz": net/http: HTTP/1.x transport connection'
        ' broken: malformed HTTP response "garbage"'
    )
