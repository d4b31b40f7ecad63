"""webapl: the seed's mock application (webapl.js, express) in Python's standard library.

- ``GET /healthz``: 200 until 40 s after start, then 500 (the liveness probe then fails and the
  kubelet restarts the container);
- ``GET /ready``: 500 until 20 s after start, then 200 (the app's "initialisation time");
- ``GET /``: ``Hello from Node.js``.

Every handled request prints the seed's ``console.log`` line to stdout (``GET /healthz 200``,
``GET /ready 500``, ``GET /``), flushed at once. The probe bodies are ``OK``.

Env overrides for quick demos, in seconds (floats): ``WEBAPL_LIVENESS_FAIL_AFTER`` (default 40)
and ``WEBAPL_READY_AFTER`` (default 20).

It installs no SIGTERM handler on purpose: run as PID 1 it ignores SIGTERM, like the seed's
node process, so a kill ends by SIGKILL after the grace period.
"""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PORT = 3000


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        print(f"webapl: ignoring {name}={raw!r}: not a number", file=sys.stderr, flush=True)
        return default


LIVENESS_FAIL_AFTER_MS = _seconds("WEBAPL_LIVENESS_FAIL_AFTER", 40.0) * 1000
READY_AFTER_MS = _seconds("WEBAPL_READY_AFTER", 20.0) * 1000
START = time.monotonic()


def _msec() -> int:
    """Milliseconds since start, as ``Date.now() - start`` in the seed."""
    return int((time.monotonic() - START) * 1000)


def _log(line: str) -> None:
    print(line, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webapl/0.1"
    sys_version = ""

    def _send(self, code: int, body: str, *, head: bool = False) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _route(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            code = 200
            if _msec() > LIVENESS_FAIL_AFTER_MS:
                code = 500
            _log(f"GET /healthz {code}")
            self._send(code, "OK", head=head)
        elif path == "/ready":
            code = 500
            if _msec() > READY_AFTER_MS:
                code = 200
            _log(f"GET /ready {code}")
            self._send(code, "OK", head=head)
        elif path == "/":
            _log("GET /")
            self._send(200, "Hello from Node.js", head=head)
        else:
            # express's default 404 for an unknown route; it logs nothing.
            self._send(404, f"Cannot GET {path}\n", head=head)

    def do_GET(self) -> None:  # noqa: N802 (BaseHTTPRequestHandler's naming)
        self._route(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        # express answers HEAD with its GET route (and runs the handler).
        self._route(head=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence http.server's stderr access log; the routes print the seed's lines."""


def main() -> None:
    server = ThreadingHTTPServer(("", PORT), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
