"""`printEvent` and `printNode` rows, and the Table the API serves (printers.go 1.32)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.raw import JSON
from minikubelet.printers.tables import event_row, node_row, row_for, table

NOW = datetime(2026, 1, 1, tzinfo=UTC)

EVENT: JSON = {
    "metadata": {"name": "web.18867251edfa0000", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
    "reason": "Pulled",
    "message": '  Container image "nginx:1.25" already present on machine\n',
    "source": {"component": "kubelet", "host": "node1"},
    "firstTimestamp": "2025-12-31T23:54:33Z",
    "lastTimestamp": "2025-12-31T23:58:51Z",
    "count": 3,
    "type": "Normal",
}
EVENT_ROW = [
    "69s",
    "Normal",
    "Pulled",
    "pod/web",
    "spec.containers{web}",
    "kubelet, node1",
    'Container image "nginx:1.25" already present on machine',
    "5m27s",
    3,
    "web.18867251edfa0000",
]


def edited(base: JSON, **changes: Any) -> JSON:
    obj = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


@pytest.mark.parametrize(
    ("event", "changed"),
    [
        pytest.param(EVENT, {}, id="all columns"),
        pytest.param(
            edited(EVENT, lastTimestamp=None), {0: "5m27s"}, id="no lastTimestamp: FIRST SEEN"
        ),
        pytest.param(
            edited(
                EVENT,
                firstTimestamp=None,
                lastTimestamp=None,
                eventTime="2025-12-31T23:59:00.123456Z",
            ),
            {0: "59s", 7: "59s"},
            id="no timestamps: eventTime (micro time truncated to 59s)",
        ),
        pytest.param(
            edited(EVENT, firstTimestamp=None, lastTimestamp=None, eventTime=None),
            {0: "<unknown>", 7: "<unknown>"},
            id="no time at all: <unknown>",
        ),
        pytest.param(
            edited(
                EVENT,
                series={"count": 7, "lastObservedTime": "2025-12-31T23:59:50.000000Z"},
            ),
            {0: "10s", 8: 7},
            id="series overrides LAST SEEN and COUNT",
        ),
        pytest.param(edited(EVENT, count=None), {8: 1}, id="count 0 shows 1"),
        pytest.param(
            edited(
                EVENT,
                source=None,
                reportingComponent="kubelet",
                reportingInstance="node2",
            ),
            {5: "kubelet, node2"},
            id="source from reportingComponent/Instance",
        ),
        pytest.param(
            edited(EVENT, source={"component": "default-scheduler"}),
            {5: "default-scheduler"},
            id="source without a host",
        ),
        pytest.param(
            edited(EVENT, involvedObject={"kind": "Node"}),
            {3: "node", 4: ""},
            id="involved object without a name: kind alone",
        ),
        pytest.param(
            edited(EVENT, involvedObject={"kind": "Node", "name": "node1"}),
            {3: "node/node1", 4: ""},
            id="node event",
        ),
    ],
)
def test_event_row(event: JSON, changed: dict[int, Any]) -> None:
    expected = list(EVENT_ROW)
    for index, value in changed.items():
        expected[index] = value
    assert event_row(event, NOW) == expected


NODE: JSON = {
    "metadata": {
        "name": "minikube",
        "creationTimestamp": "2025-12-22T00:00:00Z",
        "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/os": "linux"},
    },
    "spec": {},
    "status": {
        "conditions": [
            {"type": "MemoryPressure", "status": "False"},
            {"type": "Ready", "status": "True"},
        ],
        "addresses": [
            {"type": "Hostname", "address": "minikube"},
            {"type": "InternalIP", "address": "192.168.49.2"},
            {"type": "InternalIP", "address": "10.0.0.2"},
        ],
        "nodeInfo": {
            "kubeletVersion": "v1.32.5",
            "osImage": "Ubuntu 22.04.4 LTS",
            "kernelVersion": "6.1.0",
            "containerRuntimeVersion": "docker://27.4.1",
        },
    },
}
NODE_ROW = [
    "minikube",
    "Ready",
    "control-plane",
    "10d",
    "v1.32.5",
    "192.168.49.2",
    "<none>",
    "Ubuntu 22.04.4 LTS",
    "6.1.0",
    "docker://27.4.1",
]


def node_with(
    *, labels: JSON | None = None, spec: JSON | None = None, status: JSON | None = None
) -> JSON:
    node = copy.deepcopy(NODE)
    if labels is not None:
        node["metadata"]["labels"] = labels
    node["spec"].update(spec or {})
    node["status"].update(status or {})
    return node


@pytest.mark.parametrize(
    ("node", "changed"),
    [
        pytest.param(NODE, {}, id="all columns"),
        pytest.param(
            node_with(status={"conditions": [{"type": "Ready", "status": "False"}]}),
            {1: "NotReady"},
            id="NotReady",
        ),
        pytest.param(
            node_with(status={"conditions": [{"type": "Ready", "status": "Unknown"}]}),
            {1: "NotReady"},
            id="Ready=Unknown is NotReady",
        ),
        pytest.param(node_with(status={"conditions": []}), {1: "Unknown"}, id="no Ready condition"),
        pytest.param(
            node_with(
                status={
                    "conditions": [
                        {"type": "Ready", "status": "True"},
                        {"type": "Ready", "status": "False"},
                    ]
                }
            ),
            {1: "NotReady"},
            id="the last Ready condition wins (a map by type)",
        ),
        pytest.param(
            node_with(spec={"unschedulable": True}),
            {1: "Ready,SchedulingDisabled"},
            id="SchedulingDisabled",
        ),
        pytest.param(
            node_with(
                spec={"unschedulable": True},
                status={"conditions": []},
            ),
            {1: "Unknown,SchedulingDisabled"},
            id="Unknown,SchedulingDisabled",
        ),
        pytest.param(node_with(labels={}), {2: "<none>"}, id="no roles"),
        pytest.param(
            node_with(
                labels={
                    "node-role.kubernetes.io/worker": "",
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/": "",
                    "kubernetes.io/role": "infra",
                }
            ),
            {2: "control-plane,infra,worker"},
            id="roles sorted, empty suffix skipped, kubernetes.io/role value",
        ),
        pytest.param(
            node_with(labels={"kubernetes.io/role": ""}), {2: "<none>"}, id="empty role value"
        ),
        pytest.param(
            node_with(
                status={
                    "addresses": [
                        {"type": "ExternalIP", "address": "34.1.2.3"},
                        {"type": "InternalIP", "address": "10.0.0.2"},
                    ]
                }
            ),
            {5: "10.0.0.2", 6: "34.1.2.3"},
            id="external IP",
        ),
        pytest.param(
            node_with(status={"nodeInfo": {}, "addresses": []}),
            {4: "", 5: "<none>", 6: "<none>", 7: "<unknown>", 8: "<unknown>", 9: "<unknown>"},
            id="no node info: <unknown>, no addresses: <none>",
        ),
    ],
)
def test_node_row(node: JSON, changed: dict[int, Any]) -> None:
    expected = list(NODE_ROW)
    for index, value in changed.items():
        expected[index] = value
    assert node_row(node, NOW) == expected


def test_table_shape_and_include_object() -> None:
    pod = {"metadata": {"name": "p", "namespace": "default", "labels": {"a": "b"}}, "spec": {}}
    served = table("Pod", [pod], NOW, "42")
    assert served["kind"] == "Table" and served["apiVersion"] == "meta.k8s.io/v1"
    assert served["metadata"] == {"resourceVersion": "42"}
    assert [(c["name"], c["priority"]) for c in served["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    assert served["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert "object" not in row_for("Pod", pod, NOW, include_object="None")
    assert row_for("Pod", pod, NOW, include_object="Object")["object"]["kind"] == "Pod"


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        pytest.param(
            "Event",
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name",
            ],
            id="events",
        ),
        pytest.param(
            "Node",
            [
                "Name",
                "Status",
                "Roles",
                "Age",
                "Version",
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime",
            ],
            id="nodes",
        ),
    ],
)
def test_column_definitions(kind: str, names: list[str]) -> None:
    assert [c["name"] for c in table(kind, [], NOW)["columnDefinitions"]] == names
