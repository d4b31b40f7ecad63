"""The node's status cache: the last status each pod worker wrote (the kubelet status manager's
`podStatuses`).

The pod worker reads it back as the old status of its next sync and replaces it after each one;
the prober reads it through `PodStatusProvider` (`prober/manager.py`), as the kubelet's prober
reads the status manager (`GetPodStatus`). An entry lives as long as its pod worker.
"""

from __future__ import annotations

from minikubelet.api.models import PodStatus

__all__ = ["StatusCache"]


class StatusCache:
    """Pod uid → the status its worker last wrote; implements `prober.PodStatusProvider`."""

    def __init__(self) -> None:
        self._statuses: dict[str, PodStatus] = {}

    def pod_status(self, uid: str) -> PodStatus | None:
        """The status last written for the pod, None before its worker's first report."""
        return self._statuses.get(uid)

    def set(self, uid: str, status: PodStatus) -> None:
        self._statuses[uid] = status

    def forget(self, uid: str) -> None:
        self._statuses.pop(uid, None)
