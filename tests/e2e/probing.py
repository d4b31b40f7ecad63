"""Helpers for the probe end-to-end tests: a small HTTP server to probe, probe specs, events.

The server runs with python3 in the debian-base image. It prints one line per request
(`GET <path> x-probe=<header> ua=<User-Agent>`), so a test reads in the container's log what
reached it, and answers:

- `/ok` 200, `/fail` 500, `/slow` 200 after 5 s;
- `/healthz` 200 until FAIL_AFTER seconds after start (env, default never), then 500;
- `/redirect?loc=<url>` 302 to `<url>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.e2e.conftest import Agent
from tests.e2e.pods import BASE, sh, status_of

PORT = 8080

SERVER = """\
import os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

START = time.monotonic()
FAIL_AFTER = float(os.environ.get("FAIL_AFTER") or "1e9")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlsplit(self.path)
        probe, agent = self.headers.get("X-Probe"), self.headers.get("User-Agent")
        print(f"GET {url.path} x-probe={probe} ua={agent}", flush=True)
        headers, code, body = {}, 200, b"OK"
        if url.path == "/redirect":
            code, body = 302, b"moved"
            headers["Location"] = parse_qs(url.query)["loc"][0]
        elif url.path == "/fail":
            code = 500
        elif url.path == "/slow":
            time.sleep(5)
        elif url.path == "/healthz" and time.monotonic() - START >= FAIL_AFTER:
            code = 500
        elif url.path not in ("/ok", "/healthz"):
            code = 404
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("", int(os.environ.get("PORT") or 8080)), H).serve_forever()
"""


def server(name: str = "server", fail_after: float | None = None, **extra: Any) -> dict[str, Any]:
    """A container serving the probe server on PORT (named `http`)."""
    env = [{"name": "PORT", "value": str(PORT)}]
    if fail_after is not None:
        env.append({"name": "FAIL_AFTER", "value": str(fail_after)})
    return {
        "name": name,
        "image": BASE,
        "command": ["python3", "-c", SERVER],
        "env": env,
        "ports": [{"name": "http", "containerPort": PORT}],
        **extra,
    }


def idle(name: str, **extra: Any) -> dict[str, Any]:
    """A container that only holds a probe."""
    return sh(name, "exec sleep 600", **extra)


def probe(handler: dict[str, Any], period: int = 1, **fields: Any) -> dict[str, Any]:
    return {**handler, "periodSeconds": period, **fields}


def exec_(*argv: str) -> dict[str, Any]:
    return {"exec": {"command": list(argv)}}


def http_get(path: str, port: int | str = PORT, **extra: Any) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port, **extra}}


def tcp(port: int | str, **extra: Any) -> dict[str, Any]:
    return {"tcpSocket": {"port": port, **extra}}


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def container_events(agent: Agent, pod_name: str, container: str) -> list[dict[str, Any]]:
    path = f"spec.containers{{{container}}}"
    return [
        e
        for e in agent.events(pod_name)
        if (e.get("involvedObject") or {}).get("fieldPath") == path
    ]


def event_count(agent: Agent, pod_name: str, container: str, reason: str, prefix: str = "") -> int:
    """How many times a matching event was recorded (aggregated counts summed)."""
    return sum(
        int(e.get("count") or 1)
        for e in container_events(agent, pod_name, container)
        if e.get("reason") == reason and str(e.get("message", "")).startswith(prefix)
    )


def messages(agent: Agent, pod_name: str, container: str, reason: str) -> set[str]:
    return {
        str(e.get("message"))
        for e in container_events(agent, pod_name, container)
        if e.get("reason") == reason
    }


def wait_events(
    agent: Agent,
    pod_name: str,
    container: str,
    reason: str,
    prefix: str = "",
    count: int = 1,
    timeout: float = 30.0,
) -> set[str]:
    """Wait until `count` matching events were recorded; their messages."""
    agent.wait_for(
        lambda: event_count(agent, pod_name, container, reason, prefix) >= count,
        timeout,
        why=f"{count}x {reason} {prefix!r} on {pod_name}/{container}",
    )
    return {m for m in messages(agent, pod_name, container, reason) if m.startswith(prefix)}


def ready(obj: dict[str, Any], container: str) -> bool:
    return bool(status_of(obj, container).get("ready"))


def restarts(obj: dict[str, Any], container: str) -> int:
    return int(status_of(obj, container).get("restartCount") or 0)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for item in obj.get("status", {}).get("conditions") or []:
        if item.get("type") == kind:
            found: dict[str, Any] = item
            return found
    return {}


def wait_message(
    agent: Agent,
    pod_name: str,
    container: str,
    reason: str,
    message: str,
    count: int = 1,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait until the event with exactly this message was recorded `count` times; the event.
    (Other messages may come first: a server still starting refuses connections.)"""

    def found() -> dict[str, Any] | None:
        for event in container_events(agent, pod_name, container):
            same = event.get("reason") == reason and event.get("message") == message
            if same and int(event.get("count") or 1) >= count:
                return event
        return None

    return agent.wait_for(found, timeout, why=f"{count}x {reason} {message!r}")
