"""The strategies of Service, Endpoints and EndpointSlice (the registry's `strategy` entries).

A Service's create and update allocate ClusterIPs and NodePorts, so its strategy reads what the
other Services hold: the server binds it to the store's Services (`bound(services)`) before each
request, as the Service REST storage holds its allocators. Unbound, nothing counts as taken.

Endpoints and EndpointSlices are written by the node's controllers, and may be written by hand
for a Service without a selector: strict decoding and ObjectMeta rules, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from minikubelet.api.raw import JSON
from minikubelet.api.schema import check_object
from minikubelet.api.services import (
    Allocation,
    Taken,
    prepare_service_create,
    prepare_service_update,
    taken_by,
)
from minikubelet.api.strategy import ObjectStrategy
from minikubelet.errors import BadRequest

__all__ = [
    "ENDPOINTS_STRATEGY",
    "ENDPOINT_SLICE_STRATEGY",
    "SERVICE_STRATEGY",
    "EndpointsStrategy",
    "ServiceStrategy",
]


class ServiceStrategy:
    """The Service REST storage's create/update: allocation, then ValidateService."""

    def __init__(
        self, services: Callable[[], list[JSON]] | None = None, alloc: Allocation | None = None
    ) -> None:
        self._services = services
        self._alloc = alloc or Allocation()

    def bound(self, services: Callable[[], list[JSON]]) -> ServiceStrategy:
        """This strategy reading the stored Services (every namespace) to know what is taken."""
        return ServiceStrategy(services, self._alloc)

    def _taken(self, besides: tuple[str, str] | None = None) -> Taken:
        return taken_by(self._services(), besides=besides) if self._services else Taken()

    def unknown_fields(self, body: JSON) -> list[str]:
        return check_object(body, "Service").unknown

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        return prepare_service_create(body, namespace, now, self._taken(), self._alloc), []

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        meta = old.get("metadata") or {}
        taken = self._taken((meta.get("namespace", ""), meta.get("name", "")))
        return prepare_service_update(old, body, now, taken, self._alloc), []

    def delete_grace(self, obj: JSON, requested: int | None) -> int:
        return 0


class EndpointsStrategy(ObjectStrategy):
    """Strict decoding against the kind's schema, then the common pipeline."""

    def __init__(self, kind: str, api_version: str) -> None:
        self.kind = kind
        self._api_version = api_version

    def unknown_fields(self, body: JSON) -> list[str]:
        return check_object(body, self.kind).unknown

    def _decode(self, body: JSON) -> None:
        problem = check_object(body, self.kind).message()
        if problem is not None:
            raise BadRequest(
                f'{self.kind} in version "{self._api_version.rpartition("/")[2]}" cannot be '
                f"handled as a {self.kind}: {problem}"
            )

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        self._decode(body)
        return super().create(body, namespace, now)

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        self._decode(body)
        return super().update(old, body, now)


SERVICE_STRATEGY = ServiceStrategy()
ENDPOINTS_STRATEGY = EndpointsStrategy("Endpoints", "v1")
ENDPOINT_SLICE_STRATEGY = EndpointsStrategy("EndpointSlice", "discovery.k8s.io/v1")
