"""What the API needs from the rest of the agent, passed in explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.abc

from minikubelet.clock import Clock
from minikubelet.runtime.types import ExecStream
from minikubelet.store import Store
from minikubelet.store.barrier import CommitBarrier

__all__ = ["ApiDeps", "Listener", "LogSource", "ProbeSource", "StreamSource"]


class LogSource(Protocol):
    """Where pod logs come from: the node, which knows the containers."""

    async def pod_logs(
        self, pod: dict[str, Any], container: str, options: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        """The log stream; raises a StatusError (before streaming) when there is none."""
        ...


class StreamSource(Protocol):
    """Where exec and attach sessions come from: the node, which knows the containers."""

    async def running_container(self, pod: dict[str, Any], container: str) -> str | None:
        """The id of the container's running instance; None when it is not running."""
        ...

    def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]: ...

    def attach_stream(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]: ...

    async def pod_sandbox(self, pod: dict[str, Any]) -> str | None:
        """The id of the pod's running sandbox; None when there is none."""
        ...

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.ByteStream:
        """localhost:port in the sandbox's network namespace; RuntimeFailure when refused."""
        ...


class ProbeSource(Protocol):
    """Who runs a probe by hand (`server/probe_run.py`): the node, which knows the pod IP."""

    async def probe_once(self, pod: dict[str, Any], container: str, kind: str) -> dict[str, Any]:
        """The raw outcome as JSON; a StatusError when there is nothing to probe."""
        ...


@dataclass(frozen=True)
class Listener:
    """The agent's HTTPS listener as a client needs it: URL, CA certificate (PEM), token."""

    server: str
    ca_pem: bytes
    token: str


@dataclass
class ApiDeps:
    store: Store
    clock: Clock
    node_name: str
    logs: LogSource | None = None
    streams: StreamSource | None = None
    probes: ProbeSource | None = None
    dashboard_url: str | None = None  # the live view's, with its token (server/dashboard/)
    barrier: CommitBarrier | None = None  # the store's group commit, made by `create_app`
    listener: Listener | None = None
    # The agent serves its socket before the node and the services have started (a CLI that
    # started it sends its request meanwhile); /healthz answers 200 once they have.
    started: bool = True
