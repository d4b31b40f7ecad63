"""grpc probes (`pkg/probe/grpc/grpc.go`): `grpc.health.v1.Health/Check` over cleartext HTTP/2.

The call is small enough to make by hand on `h2` (a sans-I/O HTTP/2 state machine) rather than
pull in grpcio: one stream, one request message, one response message and its trailers. As
grpc-go with `WithBlock`, the dial retries with back-off until the server's SETTINGS arrive or
the deadline passes; one deadline covers the dial and the call. Every problem is a failure.
"""

from __future__ import annotations

import struct
import urllib.parse
from collections.abc import Sequence

import anyio
import h2.config
import h2.connection
import h2.events
import h2.exceptions
from anyio.abc import SocketStream

from minikubelet.api.gofmt import go_duration, join_host_port
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult
from minikubelet.prober.tcp import DialError, dial

__all__ = ["SERVING_STATUS", "grpc_probe"]

SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
_CODES = (
    "OK Canceled Unknown InvalidArgument DeadlineExceeded NotFound AlreadyExists "
    "PermissionDenied ResourceExhausted FailedPrecondition Aborted OutOfRange Unimplemented "
    "Internal Unavailable DataLoss Unauthenticated"
).split()
_UNIMPLEMENTED, _DEADLINE_EXCEEDED = 12, 4
# grpc-go's mapping of a non-200 HTTP status to a gRPC code (http_util.go HTTPStatusConvTab).
_HTTP_TO_CODE = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_PATH = "/grpc.health.v1.Health/Check"
_GRPC_GO = "grpc-go/1.65.0"  # what grpc-go appends to WithUserAgent


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"rpc error: code = {_code_name(code)} desc = {message}")
        self.code = code
        self.message = message


def _code_name(code: int) -> str:
    return _CODES[code] if 0 <= code < len(_CODES) else f"Code({code})"


def _encode_request(service: str) -> bytes:
    raw = service.encode()
    message = b""
    if raw:  # proto3: an empty string is not written
        message = b"\x0a" + _varint(len(raw)) + raw
    return struct.pack(">BI", 0, len(message)) + message


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _decode_status(body: bytes) -> int:
    """The `status` field (1, varint) of a HealthCheckResponse in a length-prefixed message."""
    if len(body) < 5:
        raise _RpcError(13, "server closed the stream without sending a response message")
    flag, length = struct.unpack(">BI", body[:5])
    if flag != 0:
        raise _RpcError(13, "grpc: compressed response messages are not supported here")
    message, pos, status = body[5 : 5 + length], 0, 0
    while pos < len(message):
        key, pos = _read_varint(message, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(message, pos)
            if field == 1:
                status = value
        elif wire == 2:
            size, pos = _read_varint(message, pos)
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise _RpcError(13, "grpc: failed to unmarshal the received message")
    return status


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise _RpcError(13, "grpc: failed to unmarshal the received message")


class _Conn:
    """One HTTP/2 client connection over a dialed stream."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config)

    async def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            await self.stream.send(data)

    async def _events(self) -> list[h2.events.Event]:
        try:
            data = await self.stream.receive(65536)
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
            raise _RpcError(14, "error reading from server: EOF") from exc
        events = self.h2.receive_data(data)
        await self._flush()
        return events

    async def handshake(self) -> None:
        """Send the preface and wait for the server's SETTINGS (grpc-go's READY)."""
        self.h2.initiate_connection()
        await self._flush()
        while True:
            if any(isinstance(e, h2.events.RemoteSettingsChanged) for e in await self._events()):
                return

    async def check(self, authority: str, service: str, user_agent: str, timeout: float) -> int:
        stream_id = self.h2.get_next_available_stream_id()
        micros = max(1, int(timeout * 1e6))
        grpc_timeout = f"{micros}u" if micros < 10**8 else f"{micros // 1000}m"
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", _PATH),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("user-agent", f"{user_agent} {_GRPC_GO}"),
            ("te", "trailers"),
            ("grpc-timeout", grpc_timeout),
        ]
        self.h2.send_headers(stream_id, headers)
        self.h2.send_data(stream_id, _encode_request(service), end_stream=True)
        await self._flush()
        body = bytearray()
        meta: dict[str, str] = {}
        while True:
            for event in await self._events():
                if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                    meta.update(_decode_headers(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    self.h2.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.StreamReset):
                    raise _RpcError(
                        14, f"stream terminated by RST_STREAM with error code: {event.error_code}"
                    )
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise _RpcError(14, "the connection is draining")
                elif isinstance(event, h2.events.StreamEnded):
                    return _finish(meta, bytes(body))


def _decode_headers(headers: Sequence[tuple[str | bytes, str | bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.decode() if isinstance(name, bytes) else name
        out[key] = value.decode() if isinstance(value, bytes) else value
    return out


def _finish(meta: dict[str, str], body: bytes) -> int:
    http_status = int(meta.get(":status", "0") or 0)
    if http_status != 200:
        code = _HTTP_TO_CODE.get(http_status, 2)
        raise _RpcError(code, f"unexpected HTTP status code received from server: {http_status}")
    code = int(meta.get("grpc-status", "2") or 2)
    if code != 0:
        raise _RpcError(code, urllib.parse.unquote(meta.get("grpc-message", "")))
    return _decode_status(body)


async def _connect(host: str, port: int) -> _Conn:
    """Dial until READY, backing off as grpc-go does (1 s, ×1.6); the caller's scope ends it."""
    backoff = 1.0
    while True:
        try:
            stream = await dial(host, port, backoff * 20)
        except DialError:
            stream = None
        if stream is not None:
            conn = _Conn(stream)
            try:
                await conn.handshake()
                return conn
            except (_RpcError, h2.exceptions.ProtocolError):
                await anyio.aclose_forcefully(stream)
            except BaseException:
                await anyio.aclose_forcefully(stream)
                raise
        await anyio.sleep(backoff)
        backoff *= 1.6


async def grpc_probe(
    host: str, port: int, service: str, timeout: float, user_agent: str
) -> ProbeOutcome:
    """`grpcProber.Probe`: SERVING → success `service healthy`; anything else is a failure.
    The detail names the serving status the server answered, else the error."""
    outcome = await _grpc_probe(host, port, service, timeout, user_agent)
    if outcome.detail is None and outcome.result is ProbeResult.FAILURE:
        return outcome.with_detail(error=outcome.output)
    return outcome


async def _grpc_probe(
    host: str, port: int, service: str, timeout: float, user_agent: str
) -> ProbeOutcome:
    addr = join_host_port(host, port)
    duration = go_duration(timeout)
    deadline = anyio.current_time() + timeout
    conn: _Conn | None = None
    with anyio.move_on_after(timeout):
        conn = await _connect(host, port)
    if conn is None:
        return ProbeOutcome.failure(
            f"timeout: failed to connect service {_quote(addr)} within {duration}:"
            " context deadline exceeded"
        )
    try:
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            status = await conn.check(addr, service, user_agent, deadline - anyio.current_time())
    except TimeoutError:
        return ProbeOutcome.failure(f"timeout: health rpc did not complete within {duration}")
    except h2.exceptions.ProtocolError as exc:
        return ProbeOutcome.failure(f"error: health rpc probe failed: {_RpcError(13, str(exc))}")
    except _RpcError as exc:
        if exc.code == _UNIMPLEMENTED:
            return ProbeOutcome.failure(
                "error: this server does not implement the grpc health protocol"
                f" (grpc.health.v1.Health): {exc.message}"
            )
        if exc.code == _DEADLINE_EXCEEDED:
            return ProbeOutcome.failure(f"timeout: health rpc did not complete within {duration}")
        return ProbeOutcome.failure(f"error: health rpc probe failed: {exc}")
    finally:
        await anyio.aclose_forcefully(conn.stream)
    name = SERVING_STATUS.get(status, str(status))
    if status != 1:
        outcome = ProbeOutcome.failure(f'service unhealthy (responded with "{name}")')
        return outcome.with_detail(servingStatus=name)
    return ProbeOutcome.success("service healthy").with_detail(servingStatus=name)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
