"""The Node object (`kubelet_node_status.go`): registration, labels, addresses, node info, and
the Ready condition, which follows the container engine (`container runtime is down`)."""

from __future__ import annotations

import platform
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from minikubelet import KUBERNETES_VERSION
from minikubelet.api.codec import format_time
from minikubelet.errors import NotFound
from minikubelet.store import Store

__all__ = ["register_node", "set_node_ready"]

READY = ("True", "KubeletReady", "kubelet is posting ready status")
NOT_READY = ("False", "KubeletNotReady", "container runtime is down")


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


def _ready_condition(ready: bool, now: datetime) -> dict[str, Any]:
    status, reason, message = READY if ready else NOT_READY
    stamp = format_time(now)
    return {
        "type": "Ready",
        "status": status,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _status(
    name: str, host_ip: str, runtime_version: str, ready: bool, now: datetime
) -> dict[str, Any]:
    return {
        "conditions": [_ready_condition(ready, now)],
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
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
        },
    }


def register_node(
    store: Store, name: str, host_ip: str, runtime_version: str | None, now: datetime
) -> None:
    """Create or refresh the Node; user labels are kept. No runtime version: NotReady."""
    status = _status(name, host_ip, runtime_version or "", runtime_version is not None, now)
    try:
        store.get("Node", "", name)
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
        return
    store.update_status("Node", "", name, status)


def set_node_ready(
    store: Store, name: str, ready: bool, now: datetime, runtime_version: str | None = None
) -> None:
    """Flip the Ready condition when the engine goes away or comes back (no write otherwise)."""
    status = dict(store.get("Node", "", name).get("status") or {})
    conditions = status.get("conditions") or []
    current: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    if current.get("status") == ("True" if ready else "False"):
        return
    others = [c for c in conditions if c.get("type") != "Ready"]
    status["conditions"] = [*others, _ready_condition(ready, now)]
    if runtime_version:
        status["nodeInfo"] = {
            **(status.get("nodeInfo") or {}),
            "containerRuntimeVersion": runtime_version,
        }
    store.update_status("Node", "", name, status)
