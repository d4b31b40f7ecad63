"""Docker's JSON as our types: `docker inspect` answers, engine events, network configs.

Pure functions with no SDK import, so they are read and tested without an engine; only
`runtime/docker.py` and its `_sessions` call them. States follow dockershim's reading
(kubelet-reference Part 2 §9).
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime

from minikubelet.api.raw import JSON as Raw
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime.types import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_IMAGE,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_POD,
    LABEL_SPARE,
    LABEL_UID,
    ContainerInfo,
    ContainerSpec,
    Instance,
    InstanceState,
    RuntimeEvent,
    SandboxInfo,
    SandboxSpec,
    sandbox_owner,
)

__all__ = [
    "EVENT_ACTIONS",
    "container_gone",
    "container_info",
    "error_message",
    "free_subnets",
    "host_routes",
    "instance_of",
    "gateway_of",
    "labels_for",
    "parse_time",
    "sandbox_info",
    "to_event",
]

EVENT_ACTIONS = ("start", "die", "oom", "destroy")
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str | None) -> datetime | None:
    """Docker's RFC 3339 nano time as an aware datetime; the zero time means never."""
    if not value or value.startswith("0001-01-01"):
        return None
    # Python 3.11 reads at most microseconds: cut the nanoseconds.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _state_of(state: Raw) -> InstanceState:
    """dockershim's reading: running, else exited once it finished or failed to start."""
    if state.get("Running"):
        return InstanceState.RUNNING
    if (
        parse_time(state.get("FinishedAt"))
        or state.get("ExitCode")
        or state.get("Status") == "dead"
    ):
        return InstanceState.EXITED  # "removing" and "paused" fall to Running's flag above
    return InstanceState.CREATED if state.get("Status") == "created" else InstanceState.UNKNOWN


def _attempt(labels: dict[str, str]) -> int:
    value = labels.get(LABEL_ATTEMPT, "0")
    return int(value) if value.isdigit() else 0


def container_info(raw: Raw) -> ContainerInfo:
    """Our view of one `docker inspect` answer."""
    labels: dict[str, str] = raw["Config"].get("Labels") or {}
    state: Raw = raw["State"]
    return ContainerInfo(
        id=raw["Id"],
        pod_uid=labels.get(LABEL_UID, ""),
        name=labels.get(LABEL_CONTAINER, ""),
        attempt=_attempt(labels),
        # as the pod asked for it: Podman reports the resolved name (`localhost/x:1`)
        image=labels.get(LABEL_IMAGE) or raw["Config"].get("Image", ""),
        image_id=raw.get("Image", ""),
        state=_state_of(state),
        exit_code=int(state.get("ExitCode") or 0),
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or "",
        created_at=parse_time(raw.get("Created")),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        labels=dict(labels),
    )


# The list's `State` words whose inspect says `Running: true` (a paused or restarting one too).
_RUNNING_STATES = {"running", "paused", "restarting"}


def instance_of(summary: Raw) -> Instance:
    """One entry of the engine's container list (`GET /containers/json`) as the relist sees it:
    the sandbox's pod by its labels or claimed name, as `sandbox_info` reads it."""
    labels: dict[str, str] = summary.get("Labels") or {}
    names = summary.get("Names") or [""]
    sandbox = labels.get(LABEL_KIND) == "podsandbox"
    if sandbox:
        owner = sandbox_owner(labels, str(names[0]))
        uid = owner[2] if owner is not None else ""
    else:
        uid = labels.get(LABEL_UID, "")
    running = str(summary.get("State") or "").lower() in _RUNNING_STATES
    return Instance(id=str(summary["Id"]), pod_uid=uid, running=running, sandbox=sandbox)


def sandbox_info(raw: Raw, network: str, host_ip: str = "") -> SandboxInfo:
    """The sandbox's pod from its labels or, for a claimed warm sandbox, its name (an
    unclaimed spare belongs to no pod: uid ""). `host_ip`: its IP on the host's network."""
    labels: dict[str, str] = raw["Config"].get("Labels") or {}
    networks: Raw = raw.get("NetworkSettings", {}).get("Networks") or {}
    running = bool(raw["State"].get("Running"))
    pod_name, namespace, uid, attempt = sandbox_owner(labels, str(raw.get("Name") or "")) or (
        "",
        "",
        "",
        0,
    )
    return SandboxInfo(
        id=raw["Id"],
        pod_uid=uid,
        pod_name=pod_name,
        namespace=namespace,
        attempt=attempt,
        running=running,
        ip=(host_ip or (networks.get(network) or {}).get("IPAddress", "")) if running else "",
        created_at=parse_time(raw.get("Created")),
    )


def to_event(raw: Raw) -> RuntimeEvent | None:
    action = str(raw.get("Action") or raw.get("status") or "")
    action = action.split(":", 1)[0]  # e.g. "exec_die" never matches; "health_status: x"
    if action not in EVENT_ACTIONS:
        return None
    attributes: dict[str, str] = (raw.get("Actor") or {}).get("Attributes") or {}
    uid = attributes.get(LABEL_UID, "")
    if attributes.get(LABEL_SPARE) == "true":  # a warm sandbox: its name, once claimed, says
        uid = (sandbox_owner(attributes, attributes.get("name", "")) or ("", "", "", 0))[2]
    return RuntimeEvent(
        action=action,
        container_id=str(raw.get("id") or (raw.get("Actor") or {}).get("ID") or ""),
        pod_uid=uid,
        container_name=attributes.get(LABEL_CONTAINER, ""),
    )


def free_subnets(nets: list[Raw], routes: str = "") -> list[str]:
    """10.89.N.0/24 ranges that overlap no network of the engine (ours, other agents') and no
    route of the host (`/proc/net/route`: another engine's bridges, VPNs), which the engine
    itself does not look at: Podman refuses a subnet a Docker bridge holds."""
    taken = [
        ipaddress.ip_network(cfg["Subnet"], strict=False)
        for net in nets
        for cfg in (net.get("IPAM") or {}).get("Config") or []
        if cfg.get("Subnet")
    ]
    taken += host_routes(routes)
    candidates = (ipaddress.ip_network(f"10.89.{n}.0/24") for n in range(256))
    return [str(c) for c in candidates if not any(c.overlaps(t) for t in taken)]


def host_routes(table: str) -> list[ipaddress.IPv4Network]:
    """The destinations of a `/proc/net/route` table (little-endian hex), the default route
    left out."""
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            dest = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
            mask = ipaddress.IPv4Address(int(fields[7], 16).to_bytes(4, "little"))
            net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
        except ValueError:
            continue
        if net.prefixlen > 0:
            found.append(net)
    return found


def gateway_of(net: Raw) -> str:
    for cfg in (net.get("IPAM") or {}).get("Config") or []:
        if cfg.get("Gateway"):
            return str(cfg["Gateway"])
    raise RuntimeFailure(f"network {net.get('Name')} has no gateway")


def container_gone(status: int | None, message: str) -> bool:
    """The engine's error says the container is missing or going: a 404, or "can not get logs
    from container which is dead or marked for removal" (a 409): a container being removed is
    as gone to its reader as one removed already. The one rule for the SDK's errors
    (`docker._translate`) and the event loop's (`_sessions.engine_failure`)."""
    return status == 404 or "marked for removal" in message


def error_message(status: int, text: str) -> str:
    """The engine's words from an error answer: its JSON `message`, else the body."""
    try:
        found = json.loads(text)
    except ValueError:
        return text or f"HTTP {status}"
    return str((found.get("message") if isinstance(found, dict) else None) or text)


def labels_for(
    spec: SandboxSpec | ContainerSpec, instance: str, name: str, *, kind: str
) -> dict[str, str]:
    """dockershim's labels; ours come last so a pod label cannot claim another agent's."""
    return {
        **spec.labels,
        LABEL_INSTANCE: instance,
        LABEL_UID: spec.pod_uid,
        LABEL_POD: spec.pod_name,
        LABEL_NAMESPACE: spec.namespace,
        LABEL_CONTAINER: name,
        LABEL_ATTEMPT: str(spec.attempt),
        LABEL_KIND: kind,
        **({LABEL_IMAGE: spec.image} if isinstance(spec, ContainerSpec) else {}),
    }
