"""grpc probes against a tiny grpc.health.v1 server made on h2."""

from __future__ import annotations

import struct

import anyio
import h2.config
import h2.connection
import h2.events
import pytest
from anyio.abc import ByteStream

from minikubelet.prober.grpc import grpc_probe
from minikubelet.prober.outcome import ProbeOutcome
from tests.prober.servers import Handler, before_later, free_port, serve

pytestmark = pytest.mark.anyio


def _health_server(
    status: int | None, grpc_status: int = 0, message: str = "", seen: list[bytes] | None = None
) -> Handler:
    """Answer Check with `status` (None: never answer the call)."""

    async def handler(stream: ByteStream) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        await stream.send(conn.data_to_send())
        body = b""
        while True:
            for event in conn.receive_data(await stream.receive()):
                if isinstance(event, h2.events.DataReceived):
                    body += event.data
                if isinstance(event, h2.events.StreamEnded):
                    if seen is not None:
                        seen.append(body)
                    if status is None:
                        continue
                    sid = event.stream_id
                    conn.send_headers(
                        sid, [(":status", "200"), ("content-type", "application/grpc")]
                    )
                    if grpc_status == 0:
                        payload = b"\x08" + bytes([status]) if status else b""
                        conn.send_data(sid, struct.pack(">BI", 0, len(payload)) + payload)
                    trailers = [("grpc-status", str(grpc_status))]
                    if message:
                        trailers.append(("grpc-message", message))
                    conn.send_headers(sid, trailers, end_stream=True)
            await stream.send(conn.data_to_send())

    return handler


async def _probe(port: int, service: str = "") -> ProbeOutcome:
    return await grpc_probe("127.0.0.1", port, service, 1.0, "kube-probe/1.32")


@pytest.mark.parametrize(
    ("status", "grpc_status", "message", "expected"),
    [
        (1, 0, "", ProbeOutcome.success("service healthy")),
        (2, 0, "", ProbeOutcome.failure('service unhealthy (responded with "NOT_SERVING")')),
        (0, 0, "", ProbeOutcome.failure('service unhealthy (responded with "UNKNOWN")')),
        (3, 0, "", ProbeOutcome.failure('service unhealthy (responded with "SERVICE_UNKNOWN")')),
        (
            1,
            12,
            "unknown service grpc.health.v1.Health",
            ProbeOutcome.failure(
                "error: this server does not implement the grpc health protocol"
                " (grpc.health.v1.Health): unknown service grpc.health.v1.Health"
            ),
        ),
        (
            1,
            5,
            "unknown%20service",
            ProbeOutcome.failure(
                "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"
            ),
        ),
        (1, 4, "", ProbeOutcome.failure("timeout: health rpc did not complete within 1s")),
    ],
)
async def test_check(status: int, grpc_status: int, message: str, expected: ProbeOutcome) -> None:
    async with serve(_health_server(status, grpc_status, message)) as port:
        assert await _probe(port) == expected


async def test_service_name_is_sent() -> None:
    seen: list[bytes] = []
    async with serve(_health_server(1, seen=seen)) as port:
        assert await _probe(port, "db") == ProbeOutcome.success("service healthy")
    assert seen == [b"\x00\x00\x00\x00\x04\x0a\x02db"]


async def test_call_that_never_completes() -> None:
    async with serve(_health_server(None)) as port:
        start = anyio.current_time()
        with before_later():
            outcome = await _probe(port)
    assert outcome == ProbeOutcome.failure("timeout: health rpc did not complete within 1s")
    assert anyio.current_time() - start >= 0.9


@pytest.mark.parametrize("silent", [True, False], ids=["silent server", "closed port"])
async def test_connect_timeout(silent: bool) -> None:
    async def handler(stream: ByteStream) -> None:
        await anyio.sleep_forever()

    start = anyio.current_time()
    with before_later():
        if silent:
            async with serve(handler) as port:
                outcome = await _probe(port)
        else:
            port = free_port()
            outcome = await _probe(port)
    assert outcome == ProbeOutcome.failure(
        f'timeout: failed to connect service "127.0.0.1:{port}" within 1s:'
        " context deadline exceeded"
    )
    assert anyio.current_time() - start >= 0.9
