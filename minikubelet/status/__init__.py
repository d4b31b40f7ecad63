"""Pod status from the pod and what the runtime observed: phase, conditions, container statuses.

Pure functions (no I/O, no clock reads); `generate_status` is the one entry point the node uses.
"""

from minikubelet.status.generate import (
    FAILED_SCHEDULING_MESSAGE,
    generate_status,
    node_selector_matches,
    unschedulable_status,
)
from minikubelet.status.phase import get_phase

__all__ = [
    "FAILED_SCHEDULING_MESSAGE",
    "generate_status",
    "get_phase",
    "node_selector_matches",
    "unschedulable_status",
]
