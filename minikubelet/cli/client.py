"""The CLI's way to the agent: HTTP over its UNIX socket, starting the agent when it is absent.

Errors come back as metav1 Status bodies and are raised as the matching StatusError, so every
command prints them in kubectl's words (lightkube's `ApiError` idea).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx

from minikubelet.clock import poll
from minikubelet.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Invalid,
    MinikubeletError,
    NotFound,
    RequestEntityTooLarge,
    StatusError,
)
from minikubelet.paths import StatePaths

__all__ = ["AgentUnavailable", "ApiClient", "connect", "error_from_status"]

_BY_REASON: dict[str, type[StatusError]] = {
    cls.reason: cls
    for cls in (BadRequest, Invalid, NotFound, AlreadyExists, Conflict, RequestEntityTooLarge)
}
START_TIMEOUT = 30.0


class AgentUnavailable(MinikubeletError):
    """The node agent could not be reached or started."""


def error_from_status(body: dict[str, Any], code: int) -> StatusError:
    """The StatusError a metav1 Status body stands for."""
    reason = str(body.get("reason") or "")
    cls = _BY_REASON.get(reason, StatusError)
    err = cls(str(body.get("message") or ""), details=body.get("details") or {})
    if cls is StatusError:
        err.reason, err.code = reason, code
    return err


class ApiClient:
    """A thin synchronous client of the agent's Kubernetes-shaped API."""

    def __init__(self, paths: StatePaths, *, http: httpx.Client | None = None) -> None:
        self.paths = paths
        self.managed = http is None  # an injected client (tests) needs no agent started
        self._http = http or httpx.Client(
            transport=httpx.HTTPTransport(uds=str(paths.socket)),
            base_url="http://minikubelet",
            timeout=httpx.Timeout(60.0, connect=5.0),
            trust_env=False,
        )

    def close(self) -> None:
        if self.managed:
            self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        """Send a request; the decoded JSON answer, or the Status error raised."""
        query = {k: v for k, v in params.items() if v is not None}
        content = json.dumps(body) if body is not None else None
        try:
            response = self._http.request(
                method, path, params=query, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise AgentUnavailable(
                f"the node agent at {self.paths.socket} is not answering: {exc}"
            ) from exc
        return self._decode(response)

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"message": response.text}
        if response.status_code >= 400:
            raise error_from_status(body if isinstance(body, dict) else {}, response.status_code)
        return body

    def stream_lines(
        self, path: str, *, headers: dict[str, str] | None = None, **params: Any
    ) -> Iterator[bytes]:
        """A streaming GET (watch, logs -f), line by line; the Status error raised up front."""
        query = {k: v for k, v in params.items() if v is not None}
        timeout = httpx.Timeout(None, connect=5.0)
        try:
            with self._http.stream(
                "GET", path, params=query, timeout=timeout, headers=headers
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    self._decode(response)
                yield from (line.encode() + b"\n" for line in response.iter_lines())
        except httpx.TransportError as exc:
            raise AgentUnavailable(f"the node agent stopped answering: {exc}") from exc

    def healthy(self) -> bool:
        if self.managed and not _listening(str(self.paths.socket)):
            return False  # httpx leaks its socket when a UNIX connect fails: ask first
        try:
            return self._http.get("/healthz", timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    def ensure_agent(self) -> None:
        """Start the agent (detached, logging to its state dir) when it does not answer."""
        if not self.managed or self.healthy():
            return
        self.paths.ensure()
        print(f"Starting the minikubelet node agent (log: {self.paths.log})", file=sys.stderr)
        start_detached(self.paths)
        if poll(self.healthy, START_TIMEOUT):
            return
        raise AgentUnavailable(
            f"the node agent did not start within {START_TIMEOUT:.0f}s; see {self.paths.log}"
        )


def start_detached(paths: StatePaths) -> int:
    """Start `minikubelet daemon run` in its own session, output to the agent log; its pid."""
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    with open(paths.log, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "minikubelet", "daemon", "run"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return process.pid


def _listening(path: str) -> bool:
    """Whether something accepts connections on the UNIX socket at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def connect(paths: StatePaths | None = None) -> ApiClient:
    """A client of this user's agent, started if needed. Tests replace this function."""
    client = ApiClient(paths or StatePaths.from_env())
    client.ensure_agent()
    return client
