"""What the API needs from the rest of the agent, passed in explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from minikubelet.clock import Clock
from minikubelet.store import Store

__all__ = ["ApiDeps", "Listener", "LogSource"]


class LogSource(Protocol):
    """Where pod logs come from: the node, which knows the containers."""

    async def pod_logs(
        self, pod: dict[str, Any], container: str, options: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        """The log stream; raises a StatusError (before streaming) when there is none."""
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
    listener: Listener | None = None
