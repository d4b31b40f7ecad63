"""A pod's probe history: the one definition of its entries, for the node that writes them
(`prober/history.py`, `node/container_history.py`), the store that keeps them
(`store/probes.py`), the API path that serves them (`server/timeline.py`) and the printers
that draw them (`printers/timeline.py`).

    GET /minikubelet/v1/namespaces/NS/pods/NAME/probes
    {"kind": "PodProbeHistory", "apiVersion": "minikubelet/v1",
     "metadata": {"namespace", "name", "uid", "resourceVersion": "<last seq>"},
     "items": [entry, ...]}                                         in the order written (seq)

    entry = ProbeEntry      {"kind": "Probe", ...}        one probe attempt
          | ContainerEntry  {"kind": "Container", ...}    a container instance Started|Killed|Exited
          | ConditionEntry  {"kind": "Condition", ...}    Ready or ContainersReady changed
          | EndpointEntry   {"kind": "Endpoint", ...}     a Service's Endpoints took the pod
                                                          in (ready), aside (notReady) or out

Why, beside what: a probe attempt keeps its threshold `count` (`failure 2 of 3`, `success 1 of
1`, `ignored: errored`) and its handler's `detail` (exec: exitCode, stdout, stderr; httpGet:
statusCode, headerBytes, body; tcpSocket, grpc: error or servingStatus; every one: handler,
target). A kill, a restart (a `Started` of instance > 0) and a Ready change carry a `cause`:

    cause = {"summary": "one line",                        what a person reads first
             "probe": "liveness", "container": "webapl",   the probe whose run crossed its threshold
             "attempts": [probe entry, ...],               that run, oldest first
             "exitCode": 137, "reason": "Error",           how the previous instance ended
             "logs": ["last", "lines"]}                    what it logged last
    (every key but `summary` optional)

and an `Exited` entry keeps the last lines the container logged (`logs`).

Field names are the JSON names. Times are RFC 3339 strings as written: probe attempts and kills
with microseconds (metav1.MicroTime), starts, exits and condition changes as the pod's status
has them. `seq` is the order in which the store wrote the entry (absent before it is written).
Endpoint entries are written by the endpoints controller (`services/controller.py`), not the
node: they show when a readiness change reached the traffic.
Reading is tolerant (`entry_from_json` defaults what is missing and skips unknown kinds), as
the printers read whatever an agent served.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar

from minikubelet.api.raw import JSON

__all__ = [
    "ConditionEntry",
    "ContainerEntry",
    "EndpointEntry",
    "HistoryEntry",
    "ProbeEntry",
    "entries_from_json",
    "entry_from_json",
    "history_list",
    "micro_time",
]


def micro_time(value: datetime) -> str:
    """RFC 3339 with microseconds (metav1.MicroTime)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Entry:
    """JSON in and out: the fields in declaration order after `seq` and `kind`; optional
    fields that are None are left out."""

    __slots__ = ()
    KIND: ClassVar[str]

    def to_json(self) -> JSON:
        out: JSON = {}
        seq = getattr(self, "seq", None)
        if seq is not None:
            out["seq"] = seq
        out["kind"] = self.KIND
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if item.name != "seq" and value is not None:
                out[item.name] = value
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeEntry(_Entry):
    """One probe attempt: `result` success|failure|unknown (errored, not counted), `changed`
    when it crossed a threshold and changed the worker's cached result."""

    KIND: ClassVar[str] = "Probe"
    probe: str  # liveness | readiness | startup
    container: str
    instance: int  # the container's restartCount when it ran
    containerID: str = ""
    scheduled: str = ""  # the tick it was due at
    time: str = ""  # when it ran
    durationMs: float = 0.0
    result: str = "unknown"
    message: str = ""
    changed: bool = False
    count: str | None = None
    detail: JSON | None = None
    seq: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerEntry(_Entry):
    """A container instance `Started`, `Killed` (the kubelet's `Killing` event: reason and
    message) or `Exited` (reason and exitCode)."""

    KIND: ClassVar[str] = "Container"
    container: str
    instance: int
    event: str  # Started | Killed | Exited
    time: str
    containerID: str | None = None  # Started, Exited
    reason: str | None = None  # Killed, Exited
    message: str | None = None  # Killed
    exitCode: int | None = None  # Exited
    logs: list[str] | None = None  # Exited: the last lines it logged
    cause: JSON | None = None  # Killed; Started after a restart
    seq: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConditionEntry(_Entry):
    """The pod's Ready or ContainersReady condition took `status` at `time`; it concerns every
    container, so `container` is empty (a container filter keeps it)."""

    KIND: ClassVar[str] = "Condition"
    condition: str  # Ready | ContainersReady
    status: str
    time: str
    container: str = ""
    reason: str | None = None
    cause: JSON | None = None
    seq: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EndpointEntry(_Entry):
    """The Endpoints of Service `service` listed the pod's `address` as `state` from `time`:
    `ready` (in `addresses`: new connections may reach it), `notReady` (in
    `notReadyAddresses`), `removed` (in neither, or the Service is gone). It concerns the pod,
    so `container` is empty."""

    KIND: ClassVar[str] = "Endpoint"
    service: str
    state: str  # ready | notReady | removed
    time: str
    address: str = ""
    container: str = ""
    seq: int | None = None


HistoryEntry = ProbeEntry | ContainerEntry | ConditionEntry | EndpointEntry


def _text(data: JSON, key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _optional(data: JSON, key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _seq(data: JSON) -> int | None:
    value = data.get("seq")
    return None if value is None else int(value)


def _object(data: JSON, key: str) -> JSON | None:
    value = data.get(key)
    return dict(value) if isinstance(value, dict) else None


def _lines(data: JSON, key: str) -> list[str] | None:
    value = data.get(key)
    return [str(line) for line in value] if isinstance(value, list) else None


def entry_from_json(data: JSON) -> HistoryEntry | None:
    """The entry `data` holds, None for a kind this version does not know."""
    kind = data.get("kind")
    if kind == ProbeEntry.KIND:
        return ProbeEntry(
            probe=_text(data, "probe"),
            container=_text(data, "container"),
            instance=int(data.get("instance") or 0),
            containerID=_text(data, "containerID"),
            scheduled=_text(data, "scheduled"),
            time=_text(data, "time"),
            durationMs=float(data.get("durationMs") or 0),
            result=_text(data, "result", "unknown"),
            message=_text(data, "message"),
            changed=bool(data.get("changed")),
            count=_optional(data, "count"),
            detail=_object(data, "detail"),
            seq=_seq(data),
        )
    if kind == ContainerEntry.KIND:
        code = data.get("exitCode")
        return ContainerEntry(
            container=_text(data, "container"),
            instance=int(data.get("instance") or 0),
            event=_text(data, "event"),
            time=_text(data, "time"),
            containerID=_optional(data, "containerID"),
            reason=_optional(data, "reason"),
            message=_optional(data, "message"),
            exitCode=None if code is None else int(code),
            logs=_lines(data, "logs"),
            cause=_object(data, "cause"),
            seq=_seq(data),
        )
    if kind == ConditionEntry.KIND:
        return ConditionEntry(
            condition=_text(data, "condition"),
            status=_text(data, "status", "Unknown"),
            time=_text(data, "time"),
            container=_text(data, "container"),
            reason=_optional(data, "reason"),
            cause=_object(data, "cause"),
            seq=_seq(data),
        )
    if kind == EndpointEntry.KIND:
        return EndpointEntry(
            service=_text(data, "service"),
            state=_text(data, "state", "removed"),
            time=_text(data, "time"),
            address=_text(data, "address"),
            container=_text(data, "container"),
            seq=_seq(data),
        )
    return None


def entries_from_json(items: list[JSON]) -> list[HistoryEntry]:
    """The entries of a history's `items`, unknown kinds left out."""
    return [entry for entry in map(entry_from_json, items) if entry is not None]


def history_list(meta: JSON, entries: list[HistoryEntry]) -> JSON:
    """The `PodProbeHistory` object: the pod's namespace, name and uid and the last `seq`."""
    return {
        "kind": "PodProbeHistory",
        "apiVersion": "minikubelet/v1",
        "metadata": meta,
        "items": [entry.to_json() for entry in entries],
    }
