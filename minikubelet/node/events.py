"""The kubelet's event recorder: reasons and messages on a pod, or on one of its containers."""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Pod
from minikubelet.store import Store

__all__ = ["EventRecorder"]

NORMAL, WARNING = "Normal", "Warning"


class EventRecorder:
    """Records core/v1 events as `kubelet` on this node (`pkg/kubelet/events`)."""

    def __init__(self, store: Store, node_name: str, component: str = "kubelet") -> None:
        self.store = store
        self.source = {"component": component, "host": node_name}

    def pod(self, pod: Pod, type_: str, reason: str, message: str, *, container: str = "") -> None:
        """One event; `container` names the container it is about (`spec.containers{c}`)."""
        involved: dict[str, Any] = {
            "kind": "Pod",
            "namespace": pod.namespace,
            "name": pod.name,
            "uid": pod.metadata.uid or "",
            "apiVersion": "v1",
            "resourceVersion": pod.metadata.resourceVersion or "",
        }
        if container:
            init = any(c.name == container for c in pod.spec.initContainers or [])
            field = "initContainers" if init else "containers"
            involved["fieldPath"] = f"spec.{field}{{{container}}}"
        self.store.record_event(pod.namespace, involved, type_, reason, message, self.source)

    def node(self, reason: str, message: str, type_: str = NORMAL) -> None:
        """One event on the node, in `default`, as the kubelet's `nodeRef` names it: the
        node's name as its uid (`kubectl describe node` looks for both uids)."""
        name = self.source["host"]
        involved = {"kind": "Node", "name": name, "uid": name}
        self.store.record_event("default", involved, type_, reason, message, self.source)

    def node_status(self, reason: str) -> None:
        """`recordNodeStatusEvent`: `Node NAME status is now: REASON`."""
        self.node(reason, f"Node {self.source['host']} status is now: {reason}")
