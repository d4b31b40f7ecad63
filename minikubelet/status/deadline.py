"""`activeDeadlineSeconds`: `pkg/kubelet/active_deadline.go`, counted from the pod's
`status.startTime` (set when the node first reports the pod), not from its creation."""

from __future__ import annotations

from datetime import datetime

from minikubelet.api.models import Pod, PodStatus

__all__ = ["DEADLINE_MESSAGE", "DEADLINE_REASON", "deadline_in", "past_active_deadline"]

DEADLINE_REASON = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def deadline_in(pod: Pod, status: PodStatus | None, now: datetime) -> float | None:
    """Seconds left before the deadline (≤ 0 once past); None without a deadline or a start."""
    seconds = pod.spec.activeDeadlineSeconds
    start = status.startTime if status is not None else None
    if seconds is None or start is None:
        return None
    return seconds - (now - start).total_seconds()


def past_active_deadline(pod: Pod, status: PodStatus | None, now: datetime) -> bool:
    """`pastActiveDeadline`: `now - startTime >= activeDeadlineSeconds`."""
    left = deadline_in(pod, status, now)
    return left is not None and left <= 0
