"""An httpGet probe's request before any I/O (`pkg/probe/http/request.go`): the URL, the
headers in Go's wire order, the virtual host. Plain functions, so the handlers can build a
request (and the lifecycle its hooks') without importing h11 and httpx, which `http.py` sends
it with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minikubelet.api.gofmt import join_host_port

__all__ = ["ProbeRequest", "canonical_header_key", "format_url", "probe_headers"]

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def canonical_header_key(name: str) -> str:
    """`textproto.CanonicalMIMEHeaderKey`: `user-agent` → `User-Agent`; a name with a byte
    that is not a token character is left as written."""
    if not name or any(ch not in _TOKEN for ch in name):
        return name
    parts = name.split("-")
    return "-".join(part[:1].upper() + part[1:].lower() for part in parts)


def format_url(scheme: str, host: str, port: int, path: str) -> str:
    """`formatURL`: the path through `url.Parse` (query kept, fragment dropped), then scheme and
    `JoinHostPort(host, port)` set; a relative path gains its leading slash."""
    path = path.split("#", 1)[0]
    if path and not path.startswith(("/", "?")):
        path = "/" + path
    return f"{scheme}://{join_host_port(host, port)}{path}"


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """A probe GET before any I/O: the URL, the headers in wire order, the virtual host."""

    url: str
    headers: tuple[tuple[str, str], ...]  # without Host; Connection: close is added on send
    host: str | None  # the Host header's override, or None for the URL's host:port


def probe_headers(
    pairs: Sequence[tuple[str, str]], user_agent: str
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """`newProbeRequest`'s header rules: canonical names, repeated values kept, a default
    User-Agent and `Accept: */*`, an empty Accept deleted, Host taken out as the virtual host.
    Returns the headers in Go's wire order (User-Agent first, then sorted) and the Host."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(canonical_header_key(name), []).append(value)
    if "User-Agent" not in values:
        values["User-Agent"] = [user_agent]
    if "Accept" not in values:
        values["Accept"] = ["*/*"]
    elif values["Accept"][0] == "":
        del values["Accept"]
    host_values = values.pop("Host", [])
    host = host_values[0] if host_values and host_values[0] else None
    ordered: list[tuple[str, str]] = []
    agent = values.pop("User-Agent")[0]
    if agent:  # Go writes no User-Agent line for an empty value
        ordered.append(("User-Agent", agent))
    for name in sorted(values):
        ordered.extend((name, value) for value in values[name])
    return tuple(ordered), host
