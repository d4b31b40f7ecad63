"""The CLI's way to the agent: HTTP over its UNIX socket, starting the agent when it is absent.

Errors come back as metav1 Status bodies and are raised as the matching StatusError, so every
command prints them in kubectl's words (lightkube's `ApiError` idea).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence

from minikubelet.cli.transport import (
    TransportError,
    UnixTransport,
    target,
    warning_texts,
)
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

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    from minikubelet.cli.transport import Transport

__all__ = ["AgentUnavailable", "ApiClient", "connect", "error_from_status"]

_BY_REASON: dict[str, type[StatusError]] = {
    cls.reason: cls
    for cls in (BadRequest, Invalid, NotFound, AlreadyExists, Conflict, RequestEntityTooLarge)
}
START_TIMEOUT = 30.0
# How often a command that started the agent looks for its socket: a connect() each time, so
# a fine grain costs nothing and the command goes on within 20 ms of the agent serving.
START_POLL = 0.02


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

    def __init__(self, paths: StatePaths, *, transport: Transport | None = None) -> None:
        self.paths = paths
        self.managed = transport is None  # an injected transport (tests) needs no agent
        # the agent's socket, when no transport is given: connect() opens it early
        self._unix: UnixTransport | None = None
        if transport is None:
            transport = self._unix = UnixTransport(paths.socket_path)
        self._transport = transport

    def close(self) -> None:
        self._transport.close()

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
        query = {k: str(v) for k, v in params.items() if v is not None}
        content = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **(headers or {})}
        if content is not None:
            # a PATCH body is a JSON merge patch (RFC 7386), as `kubectl label` sends one
            merge = "application/merge-patch+json"
            sent.setdefault("Content-Type", merge if method == "PATCH" else "application/json")
        try:
            code, data, warnings = self._transport.request(
                method, target(path, query), content, sent
            )
        except TransportError as exc:
            raise AgentUnavailable(
                f"the node agent at {self.paths.socket_path} is not answering: {exc}"
            ) from exc
        for text in warning_texts(warnings):  # as kubectl prints an API server's warnings
            print(f"Warning: {text}", file=sys.stderr)
        return _decode(code, data)

    def get_named(self, path: str, namespace: str, *, headers: dict[str, str] | None = None) -> Any:
        """GET one named object as kubectl's resource builder does (`Info.Get`): not found
        in a namespace other than default, the namespace is asked for, and a missing one is
        the error (`namespaces "x" not found`) instead of the object's."""
        try:
            return self.request("GET", path, headers=headers)
        except NotFound as err:
            if namespace in ("", "default"):
                raise
            try:
                self.request("GET", f"/api/v1/namespaces/{namespace}")
            except NotFound as missing:
                raise missing from None
            except StatusError:
                pass
            raise err from None

    def stream_lines(
        self, path: str, *, headers: dict[str, str] | None = None, **params: Any
    ) -> Iterator[bytes]:
        """A streaming GET (watch, logs -f), line by line; the Status error raised up front."""
        query = {k: str(v) for k, v in params.items() if v is not None}
        try:
            with self._transport.stream(target(path, query), headers or {}) as (code, lines):
                if code >= 400:
                    _decode(code, b"".join(lines))
                yield from lines
        except TransportError as exc:
            raise AgentUnavailable(f"the node agent stopped answering: {exc}") from exc

    def healthy(self) -> bool:
        if self.managed and not self._serving():
            return False
        try:
            code, _, _ = self._transport.request("GET", "/healthz", None, {})
        except TransportError:
            return False
        return code == 200

    def ensure_agent(self) -> None:
        """Start the agent (detached, logging to its state dir) when nothing listens on its
        socket. A listening agent is not asked for /healthz: the command's own request will
        tell, and a round trip less is most of a fast command's time. Nor is one just started:
        it serves its socket before its node has connected to the engine (/healthz says when
        that is done), so a cold command's request overlaps the node's start. Whether it
        listens is asked by connecting the transport: the request goes on that connection."""
        if not self.managed or self._serving():
            return
        from minikubelet.clock import poll  # only a command that starts the agent waits

        if _agent_alive(self.paths) and poll(self._serving, START_TIMEOUT, START_POLL):
            return  # an agent is starting or busy: wait for it rather than start another
        self.paths.ensure()
        print(f"Starting the minikubelet node agent (log: {self.paths.log})", file=sys.stderr)
        process = start_detached(self.paths)
        started = poll(
            lambda: self._serving() or process.poll() is not None, START_TIMEOUT, START_POLL
        )
        if started:
            if process.poll() is None:
                return
            raise AgentUnavailable(
                f"the node agent failed to start (exit code {process.returncode}); "
                f"see {self.paths.log}"
            )
        raise AgentUnavailable(
            f"the node agent did not start within {START_TIMEOUT:.0f}s; see {self.paths.log}"
        )

    def _serving(self) -> bool:
        return self._unix is not None and self._unix.open()


def _decode(code: int, data: bytes) -> Any:
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {"message": data.decode(errors="replace")}
    if code >= 400:
        raise error_from_status(body if isinstance(body, dict) else {}, code)
    return body


def start_detached(paths: StatePaths, options: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """Start the agent in its own session, output to the agent log: `python -P -m
    minikubelet.agent [options]`, what `minikubelet daemon run` execs.

    `-P`: the agent imports the installed minikubelet, never a `minikubelet/` directory that
    happens to be in the caller's working directory (`-m` would put it first on sys.path)."""
    import subprocess  # only when the agent is started: most commands find it running

    env = {**os.environ, "MINIKUBELET_HOME": os.fspath(paths.home)}
    with open(paths.log, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "minikubelet.agent", *options],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return process


def _agent_alive(paths: StatePaths) -> bool:
    """Whether the agent recorded in the state dir's pid file is a live process."""
    try:
        os.kill(int(paths.pid.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def connect(paths: StatePaths | None = None) -> ApiClient:
    """A client of this user's agent, started if needed. Tests replace this function."""
    client = ApiClient(paths or StatePaths.from_env())
    client.ensure_agent()
    return client
