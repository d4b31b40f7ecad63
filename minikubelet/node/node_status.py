"""The Node object (`kubelet_node_status.go`): registration, labels, addresses, node info,
capacity and allocatable, and the conditions: the three pressures (none here: the node evicts
nothing) and Ready, which follows the container engine (`container runtime is down`)."""

from __future__ import annotations

import os
import platform
import re
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from minikubelet import KUBERNETES_VERSION
from minikubelet.api.codec import format_time
from minikubelet.api.history import micro_time
from minikubelet.api.nodes import condition_taint
from minikubelet.api.quantity import Format, Quantity
from minikubelet.api.raw import JSON
from minikubelet.errors import NotFound
from minikubelet.store import Store

__all__ = [
    "LEASE_NAMESPACE",
    "machine_capacity",
    "node_allocatable",
    "register_node",
    "renew_lease",
    "set_node_ready",
]

READY = ("True", "KubeletReady", "kubelet is posting ready status")
NOT_READY = ("False", "KubeletNotReady", "container runtime is down")
# setters.go MemoryPressureCondition, DiskPressureCondition, PIDPressureCondition: False, as
# the eviction manager reports while no threshold is crossed
PRESSURES = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)
MAX_PODS = 110  # the kubelet's --max-pods default
# the kubelet's default hard eviction thresholds, which allocatable leaves aside
# (`memory.available<100Mi`, `nodefs.available<10%`)
EVICTION_MEMORY = 100 * 1024 * 1024
EVICTION_NODEFS_PERCENT = 0.1


def _binary(value: int) -> str:
    """A byte count as `resource.NewQuantity(v, BinarySI)` prints it (`24683792Ki`, or the
    bare number when 1024 does not divide it)."""
    return str(Quantity(Decimal(value), Format.BINARY_SI))


def _memory_bytes() -> int:
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    except OSError:
        return 0
    return int(found.group(1)) * 1024 if found else 0


def _fs_bytes(root: Path) -> int:
    """The size of the filesystem holding `root` (its nearest existing ancestor)."""
    for path in (root, *root.parents):
        try:
            stat = os.statvfs(path)
        except OSError:
            continue
        return stat.f_blocks * stat.f_frsize
    return 0


def machine_capacity(root: Path) -> dict[str, str]:
    """The node's capacity as cadvisor's machine info gives it to the kubelet: CPUs, MemTotal,
    the size of the filesystem holding the kubelet's root directory (`root`), the huge page
    sizes the kernel offers (none reserved) and the pod limit."""
    capacity = {
        "cpu": str(os.cpu_count() or 1),
        "ephemeral-storage": _binary(_fs_bytes(root)),
        "memory": _binary(_memory_bytes()),
        "pods": str(MAX_PODS),
    }
    try:
        sizes = [p.name for p in Path("/sys/kernel/mm/hugepages").iterdir()]
    except OSError:
        sizes = []
    for size in sizes:
        found = re.fullmatch(r"hugepages-(\d+)kB", size)
        if found:
            capacity[f"hugepages-{_binary(int(found.group(1)) * 1024)}"] = "0"
    return dict(sorted(capacity.items()))


def node_allocatable(capacity: dict[str, str]) -> dict[str, str]:
    """Capacity less the hard eviction thresholds (`GetNodeAllocatableAbsolute` with no
    kube- or system-reserved): 100Mi of memory and 10% of the root filesystem."""
    allocatable = dict(capacity)
    memory = Quantity.parse(capacity["memory"]).value()
    allocatable["memory"] = _binary(max(memory - EVICTION_MEMORY, 0))
    storage = Quantity.parse(capacity["ephemeral-storage"]).value()
    allocatable["ephemeral-storage"] = _binary(storage - int(storage * EVICTION_NODEFS_PERCENT))
    return allocatable


def arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _os_image() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return "Linux"
    found = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.M)
    return found.group(1) if found else "Linux"


def _first_line(*paths: str) -> str:
    """The first of `paths` that reads, as cadvisor reads machine-id, product_uuid, boot_id."""
    for path in paths:
        try:
            return Path(path).read_text().strip()
        except OSError:
            continue
    return ""


def _condition(type_: str, status: str, reason: str, message: str, now: datetime) -> JSON:
    stamp = format_time(now)
    return {
        "type": type_,
        "status": status,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _ready_condition(ready: bool, now: datetime) -> JSON:
    return _condition("Ready", *(READY if ready else NOT_READY), now)


def _status(
    name: str,
    host_ip: str,
    runtime_version: str,
    ready: bool,
    now: datetime,
    capacity: dict[str, str],
) -> JSON:
    pressures = [_condition(t, "False", reason, message, now) for t, reason, message in PRESSURES]
    return {
        "capacity": capacity,
        "allocatable": node_allocatable(capacity),
        "conditions": [*pressures, _ready_condition(ready, now)],
        "addresses": [
            {"type": "InternalIP", "address": host_ip},
            {"type": "Hostname", "address": name},
        ],
        "nodeInfo": {
            "kubeletVersion": KUBERNETES_VERSION,
            "kubeProxyVersion": "",
            "containerRuntimeVersion": runtime_version,
            "operatingSystem": "linux",
            "architecture": arch(),
            "kernelVersion": platform.release(),
            "osImage": _os_image(),
            "machineID": _first_line("/etc/machine-id", "/var/lib/dbus/machine-id"),
            "systemUUID": _first_line("/sys/class/dmi/id/product_uuid").lower(),
            "bootID": _first_line("/proc/sys/kernel/random/boot_id"),
        },
    }


def register_node(
    store: Store,
    name: str,
    host_ip: str,
    runtime_version: str | None,
    now: datetime,
    capacity: dict[str, str] | None = None,
) -> list[str]:
    """Create or refresh the Node; user labels are kept. No runtime version: NotReady.
    `capacity` defaults to this machine's, its storage that of `/`. Returns the node
    events the kubelet's condition setters record: every condition of a new node, a Ready
    that changed; a condition that did not change keeps its transition time."""
    found = machine_capacity(Path("/")) if capacity is None else capacity
    ready = runtime_version is not None
    status = _status(name, host_ip, runtime_version or "", ready, now, found)
    try:
        old = store.get("Node", "", name)
    except NotFound:
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": arch(),
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": arch(),
        }
        meta = {
            "name": name,
            "uid": str(uuid.uuid4()),
            "creationTimestamp": format_time(now),
            "labels": labels,
        }
        node = {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": {}}
        store.create("Node", {**node, "status": status})
        _sync_not_ready_taint(store, name, ready)
        # the events say Node where the conditions say Kubelet (`NodeHasSufficientMemory`)
        pressures = [reason.replace("Kubelet", "Node", 1) for _, reason, _ in PRESSURES]
        return [*pressures, _ready_reason(ready)]
    before = {c.get("type"): c for c in (old.get("status") or {}).get("conditions") or []}
    changed = []
    for condition in status["conditions"]:
        earlier = before.get(condition["type"]) or {}
        if earlier.get("status") == condition["status"]:
            condition["lastTransitionTime"] = earlier.get("lastTransitionTime")
        elif condition["type"] == "Ready":
            changed.append(_ready_reason(ready))
    store.update_status("Node", "", name, status)
    _sync_not_ready_taint(store, name, ready)
    return changed


NOT_READY_TAINT = "node.kubernetes.io/not-ready"


def _sync_not_ready_taint(store: Store, name: str, ready: bool) -> None:
    """`TaintNodesByCondition` for Ready: a node whose Ready is not True carries
    `node.kubernetes.io/not-ready:NoSchedule`, which keeps new pods off it (the NoExecute
    taint that would evict running ones after 300 s is not set: nothing here evicts)."""
    node = store.get("Node", "", name)
    spec = node.get("spec") or {}
    synced = condition_taint(spec, NOT_READY_TAINT, not ready)
    if synced != spec:
        node["spec"] = synced
        store.update("Node", node, expected_rv=None)


def _ready_reason(ready: bool) -> str:
    return "NodeReady" if ready else "NodeNotReady"


def set_node_ready(
    store: Store, name: str, ready: bool, now: datetime, runtime_version: str | None = None
) -> str | None:
    """Flip the Ready condition when the engine goes away or comes back (no write otherwise);
    the node event it is worth (`NodeReady`, `NodeNotReady`), if any."""
    status = dict(store.get("Node", "", name).get("status") or {})
    conditions = status.get("conditions") or []
    current: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    if current.get("status") == ("True" if ready else "False"):
        return None
    others = [c for c in conditions if c.get("type") != "Ready"]
    status["conditions"] = [*others, _ready_condition(ready, now)]
    if runtime_version:
        status["nodeInfo"] = {
            **(status.get("nodeInfo") or {}),
            "containerRuntimeVersion": runtime_version,
        }
    store.update_status("Node", "", name, status)
    _sync_not_ready_taint(store, name, ready)
    return _ready_reason(ready)


LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40  # the kubelet's --node-lease-duration-seconds
LEASE_RENEW = LEASE_DURATION / 4  # `renewIntervalFraction`: every 10 s


def renew_lease(store: Store, name: str, now: datetime) -> None:
    """The kubelet's node lease (`nodelease` controller): `kube-node-lease/<node>`, held by
    the node, owned by its Node, its renewTime the last renewal."""
    renewed = micro_time(now)
    try:
        lease = store.get("Lease", LEASE_NAMESPACE, name)
    except NotFound:
        node = store.get("Node", "", name)
        owner = {"apiVersion": "v1", "kind": "Node", "name": name}
        owner["uid"] = node["metadata"]["uid"]
        meta = {
            "name": name,
            "namespace": LEASE_NAMESPACE,
            "uid": str(uuid.uuid4()),
            "creationTimestamp": format_time(now),
            "ownerReferences": [owner],
        }
        spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION}
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta}
        store.create("Lease", {**body, "spec": {**spec, "renewTime": renewed}})
        return
    lease["spec"] = {**(lease.get("spec") or {}), "renewTime": renewed}
    store.update("Lease", lease, expected_rv=None)
