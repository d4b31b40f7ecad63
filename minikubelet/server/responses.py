"""JSON in and out as the API server speaks it: bodies, metav1 Status errors, query parsing."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.errors import BadRequest, RequestEntityTooLarge, StatusError

__all__ = [
    "json_response",
    "loads_body",
    "query_bool",
    "query_int",
    "read_body",
    "status_response",
]

MAX_BODY = 3 * 1024 * 1024


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def status_response(err: StatusError) -> Response:
    return json_response(err.status(), err.code)


UNKNOWN_FORMAT = "the body of the request was in an unknown format"


def loads_body(data: bytes | bytearray) -> Any:
    """A request body's JSON, or BadRequest in the API server's words. Python's decoder recurses
    per level and gives up near 1,000 (Go's at 10,000): deeper input is refused, not a 500."""
    try:
        return json.loads(data or b"{}")
    except RecursionError as exc:
        raise BadRequest(f"{UNKNOWN_FORMAT}: exceeded max depth") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{UNKNOWN_FORMAT}: {exc}") from exc


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request, refused over the API server's 3 MiB limit."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
    if request.headers.get("content-type", "").startswith("application/vnd.kubernetes.protobuf"):
        from minikubelet.server.protobuf import decode_object  # kubectl's typed clients

        return decode_object(bytes(data))
    body = loads_body(data)
    if not isinstance(body, dict):
        raise BadRequest("the body of the request was in an unknown format: not an object")
    return body


def query_bool(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


def query_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise BadRequest(f'invalid value "{raw}" for {name}: must be an integer') from exc
