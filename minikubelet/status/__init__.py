"""Pod status from the pod and what the runtime observed: phase, conditions, container statuses.

Pure functions (no I/O, no clock reads); `generate_status` is the one entry point the node uses.
"""

from minikubelet.status.generate import (
    generate_status,
    unschedulable_status,
)
from minikubelet.status.phase import get_phase

__all__ = [
    "generate_status",
    "get_phase",
    "unschedulable_status",
]
