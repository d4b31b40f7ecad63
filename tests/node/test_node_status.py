"""The Node object's capacity, allocatable and conditions (`kubelet_node_status.go`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from minikubelet.clock import FakeClock
from minikubelet.node.node_status import (
    machine_capacity,
    node_allocatable,
    register_node,
    renew_lease,
    set_node_ready,
)
from minikubelet.store import Store

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
CAPACITY = {
    "cpu": "2",
    "ephemeral-storage": "264212084Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "memory": "24683792Ki",
    "pods": "110",
}


def test_allocatable_leaves_the_hard_eviction_thresholds_aside() -> None:
    """100Mi of memory (`memory.available<100Mi`) and 10% of the root filesystem
    (`nodefs.available<10%`), printed as BinarySI quantities print: Ki when 1024 divides the
    bytes, else the bare number, as on a real node (`ephemeral-storage: 243497856615`)."""
    allocatable = node_allocatable(CAPACITY)
    assert allocatable["memory"] == "24581392Ki"
    assert allocatable["ephemeral-storage"] == str(264212084 * 1024 - 264212084 * 1024 // 10)
    assert {k: v for k, v in allocatable.items() if k not in ("memory", "ephemeral-storage")} == {
        "cpu": "2",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "pods": "110",
    }


def test_machine_capacity_reads_this_machine(tmp_path: Path) -> None:
    capacity = machine_capacity(tmp_path / "not" / "yet")  # the nearest existing ancestor
    assert capacity["pods"] == "110"
    assert int(capacity["cpu"]) >= 1
    assert capacity["memory"].endswith("Ki") and capacity["ephemeral-storage"][:1].isdigit()
    assert list(capacity) == sorted(capacity)


def test_the_node_reports_capacity_and_the_three_pressures_before_ready(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state.db", FakeClock()) as store:
        register_node(store, "node1", "10.89.0.1", "docker://20.10.24", NOW, CAPACITY)
        status = store.get("Node", "", "node1")["status"]
    assert list(status)[:3] == ["capacity", "allocatable", "conditions"]
    assert status["capacity"] == CAPACITY
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    assert status["conditions"][2]["message"] == "kubelet has sufficient PID available"


def test_the_node_lease_is_created_then_renewed(tmp_path: Path) -> None:
    later = datetime(2026, 12, 4, 18, 0, 10, 250000, tzinfo=UTC)
    with Store.open(tmp_path / "state.db", FakeClock()) as store:
        register_node(store, "node1", "10.89.0.1", "docker://20.10.24", NOW, CAPACITY)
        renew_lease(store, "node1", NOW)
        renew_lease(store, "node1", later)
        lease = store.get("Lease", "kube-node-lease", "node1")
        node_uid = store.get("Node", "", "node1")["metadata"]["uid"]
    assert lease["spec"] == {
        "holderIdentity": "node1",
        "leaseDurationSeconds": 40,
        "renewTime": "2026-12-04T18:00:10.250000Z",
    }
    assert lease["metadata"]["creationTimestamp"] == "2026-12-04T18:00:00Z"
    assert lease["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": "node1", "uid": node_uid}
    ]


def test_a_node_that_is_not_ready_carries_the_not_ready_taint(tmp_path: Path) -> None:
    """`TaintNodesByCondition`: NoSchedule while Ready is not True, gone when it is."""
    with Store.open(tmp_path / "state.db", FakeClock()) as store:
        register_node(store, "node1", "", None, NOW, CAPACITY)  # no engine: NotReady
        taints = store.get("Node", "", "node1")["spec"]["taints"]
        assert taints == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
        assert set_node_ready(store, "node1", True, NOW, "docker://20.10.24") == "NodeReady"
        assert "taints" not in store.get("Node", "", "node1")["spec"]
        assert set_node_ready(store, "node1", True, NOW) is None
        assert set_node_ready(store, "node1", False, NOW) == "NodeNotReady"
        assert store.get("Node", "", "node1")["spec"]["taints"] == taints
