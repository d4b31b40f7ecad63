"""The `get pods` row (`printPod` of the 1.32 API server, `pkg/printers/internalversion`).

STATUS, READY and RESTARTS derive from the pod's status exactly as kubectl shows them; the
algorithm is in kubelet-reference Part 3 §2, step by step, and so is this code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minikubelet.api.codec import parse_time
from minikubelet.api.raw import JSON
from minikubelet.printers.duration import age, human_duration
from minikubelet.printers.tables import TablePrinter

__all__ = ["POD_COLUMNS", "POD_TABLE", "pod_row", "pod_status_reason"]


# (name, type, format, priority, description): the Table's columnDefinitions.
POD_COLUMNS: list[tuple[str, str, str, int]] = [
    ("Name", "string", "name", 0),
    ("Ready", "string", "", 0),
    ("Status", "string", "", 0),
    ("Restarts", "string", "", 0),
    ("Age", "string", "", 0),
    ("IP", "string", "", 1),
    ("Node", "string", "", 1),
    ("Nominated Node", "string", "", 1),
    ("Readiness Gates", "string", "", 1),
]


def _time(text: Any) -> datetime | None:
    return parse_time(text) if isinstance(text, str) and text else None


def _later(current: datetime | None, state: JSON | None) -> datetime | None:
    terminated = (state or {}).get("terminated") or {}
    finished = _time(terminated.get("finishedAt"))
    if finished is not None and (current is None or finished > current):
        return finished
    return current


def _condition(status: JSON, kind: str) -> JSON | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def _terminated_reason(terminated: JSON, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


class _Walk:
    """The running totals of `printPod`."""

    def __init__(self, pod: JSON) -> None:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        self.reason = status.get("reason") or status.get("phase") or ""
        # printPod checks every condition, not only the first PodScheduled one.
        if any(
            c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
            for c in status.get("conditions") or []
        ):
            self.reason = "SchedulingGated"
        self.sidecars = {
            c["name"]
            for c in spec.get("initContainers") or []
            if c.get("restartPolicy") == "Always"
        }
        self.total = len(spec.get("containers") or []) + len(self.sidecars)
        self.ready = 0
        self.restarts = self.sidecar_restarts = 0
        self.last: datetime | None = None
        self.last_sidecar: datetime | None = None

    def init_containers(self, pod: JSON) -> bool:
        """Step 4; True when the pod is still initializing."""
        statuses = (pod.get("status") or {}).get("initContainerStatuses") or []
        count = len((pod.get("spec") or {}).get("initContainers") or [])
        for i, cs in enumerate(statuses):
            self.restarts += cs.get("restartCount", 0)
            self.last = _later(self.last, cs.get("lastState"))
            sidecar = cs.get("name") in self.sidecars
            if sidecar:
                self.sidecar_restarts += cs.get("restartCount", 0)
                self.last_sidecar = _later(self.last_sidecar, cs.get("lastState"))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if terminated is not None and terminated.get("exitCode", 0) == 0:
                continue
            if sidecar and cs.get("started"):
                self.ready += 1 if cs.get("ready") else 0
                continue
            if terminated is not None:
                self.reason = _terminated_reason(terminated, "Init:")
            elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
                self.reason = "Init:" + waiting["reason"]
            else:
                self.reason = f"Init:{i}/{count}"
            return True
        return False

    def containers(self, pod: JSON) -> None:
        """Step 5: regular containers, walked in reverse so the first in spec order wins."""
        self.restarts, self.last = self.sidecar_restarts, self.last_sidecar
        has_running = False
        for cs in reversed((pod.get("status") or {}).get("containerStatuses") or []):
            self.restarts += cs.get("restartCount", 0)
            self.last = _later(self.last, cs.get("lastState"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                self.reason = waiting["reason"]
            elif terminated is not None:
                self.reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                self.ready += 1
        if self.reason == "Completed" and has_running:
            # hasPodReadyCondition: any Ready=True condition, not only the first Ready one.
            conditions = (pod.get("status") or {}).get("conditions") or []
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            self.reason = "Running" if ready else "NotReady"


def pod_status_reason(pod: JSON) -> tuple[str, int, int, int, datetime | None]:
    """(STATUS, ready, total, restarts, last restart) as `printPod` computes them."""
    walk = _Walk(pod)
    initializing = walk.init_containers(pod)
    initialized = _condition(pod.get("status") or {}, "Initialized")
    if not initializing or (initialized and initialized.get("status") == "True"):
        walk.containers(pod)
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        walk.reason = "Unknown"
    elif meta.get("deletionTimestamp") and status.get("phase") not in ("Succeeded", "Failed"):
        walk.reason = "Terminating"
    return walk.reason, walk.ready, walk.total, walk.restarts, walk.last


def _readiness_gates(pod: JSON) -> str:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    first: dict[str, Any] = {}
    for condition in (pod.get("status") or {}).get("conditions") or []:
        first.setdefault(condition.get("type"), condition)
    true = sum(
        1 for g in gates if (first.get(g.get("conditionType")) or {}).get("status") == "True"
    )
    return f"{true}/{len(gates)}"


def pod_row(pod: JSON, now: datetime) -> list[str]:
    """The cells of one pod, in POD_COLUMNS order."""
    reason, ready, total, restarts, last = pod_status_reason(pod)
    restart_cell = str(restarts)
    if restarts and last is not None:
        restart_cell = f"{restarts} ({human_duration(now - last)} ago)"
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    ips = status.get("podIPs") or []
    return [
        meta.get("name", ""),
        f"{ready}/{total}",
        reason,
        restart_cell,
        age(_time(meta.get("creationTimestamp")), now),
        (ips[0].get("ip") if ips else "") or "<none>",  # an empty podIPs[0].ip is <none> too
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(pod),
    ]


POD_TABLE = TablePrinter(POD_COLUMNS, pod_row)
