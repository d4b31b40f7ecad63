"""Endpoints and EndpointSlices as the controllers keep them: one base Service and pod, one
mutation per case (reference Part B; endpoints_controller.go, the endpointslice reconciler)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.raw import JSON
from minikubelet.services.endpoints import (
    desired_endpoints,
    desired_slices,
    find_port,
    rfc3339_nano,
)

SERVICE: JSON = {
    "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid", "labels": {"tier": "x"}},
    "spec": {
        "selector": {"app": "web"},
        "clusterIP": "10.96.0.20",
        "clusterIPs": ["10.96.0.20"],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 3000}],
    },
}


def pod(name: str, ip: str, ready: bool = True, **extra: Any) -> JSON:
    body: JSON = {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "labels": {"app": "web"},
        },
        "spec": {
            "nodeName": "vm",
            "containers": [
                {"name": "c", "ports": [{"name": "web", "containerPort": 3000, "protocol": "TCP"}]}
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }
    for key, value in extra.items():
        section, _, field = key.partition("__")
        body[section][field] = value
    return body


def address(name: str, ip: str) -> JSON:
    return {
        "ip": ip,
        "nodeName": "vm",
        "targetRef": {"kind": "Pod", "namespace": "default", "name": name, "uid": f"uid-{name}"},
    }


HTTP = [{"name": "http", "port": 3000, "protocol": "TCP"}]


def svc(change: Callable[[JSON], Any] = lambda s: None) -> JSON:
    body = copy.deepcopy(SERVICE)
    change(body)
    return body


@pytest.mark.parametrize(
    ("service", "pods", "subsets"),
    [
        pytest.param(svc(), [], None, id="no pods: no subsets"),
        pytest.param(
            svc(),
            [pod("b", "10.89.0.9"), pod("a", "10.89.0.10")],
            [{"addresses": [address("a", "10.89.0.10"), address("b", "10.89.0.9")], "ports": HTTP}],
            id="ready pods sorted bytewise by IP",
        ),
        pytest.param(
            svc(),
            [pod("a", "10.89.0.2"), pod("b", "10.89.0.3", ready=False)],
            [
                {
                    "addresses": [address("a", "10.89.0.2")],
                    "notReadyAddresses": [address("b", "10.89.0.3")],
                    "ports": HTTP,
                }
            ],
            id="an unready pod is a notReadyAddress",
        ),
        pytest.param(
            svc(lambda s: s["spec"].update(publishNotReadyAddresses=True)),
            [pod("b", "10.89.0.3", ready=False)],
            [{"addresses": [address("b", "10.89.0.3")], "ports": HTTP}],
            id="publishNotReadyAddresses",
        ),
        pytest.param(
            svc(),
            [pod("a", "10.89.0.2", metadata__deletionTimestamp="2025-01-01T00:00:00Z")],
            None,
            id="terminating pods are dropped",
        ),
        pytest.param(
            svc(),
            [pod("a", "10.89.0.2", status__phase="Succeeded"), pod("b", "")],
            None,
            id="terminal pods and pods without IP",
        ),
        pytest.param(
            svc(),
            [pod("a", "10.89.0.2", metadata__labels={"app": "db"})],
            None,
            id="selector does not match",
        ),
        pytest.param(
            svc(lambda s: s["spec"]["ports"][0].update(targetPort="web")),
            [pod("a", "10.89.0.2")],
            [{"addresses": [address("a", "10.89.0.2")], "ports": HTTP}],
            id="named targetPort resolved",
        ),
        pytest.param(
            svc(
                lambda s: s["spec"]["ports"].append(
                    {"name": "admin", "port": 81, "protocol": "TCP", "targetPort": "admin"}
                )
            ),
            [pod("a", "10.89.0.2")],
            [{"addresses": [address("a", "10.89.0.2")], "ports": HTTP}],
            id="an unresolved named port leaves out that port only",
        ),
        pytest.param(
            svc(lambda s: s["spec"].update(clusterIP="None", clusterIPs=["None"], ports=[])),
            [pod("a", "10.89.0.2")],
            [{"addresses": [address("a", "10.89.0.2")]}],
            id="headless without ports",
        ),
    ],
)
def test_endpoints(service: JSON, pods: list[JSON], subsets: list[JSON] | None) -> None:
    endpoints = desired_endpoints(service, pods)
    assert endpoints is not None
    assert endpoints.get("subsets") == subsets
    assert endpoints["metadata"]["labels"]["tier"] == "x"


def test_endpoints_metadata_headless_label_and_trigger_time() -> None:
    headless = svc(lambda s: s["spec"].update(clusterIP="None", clusterIPs=["None"]))
    trigger = rfc3339_nano(datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC))
    endpoints = desired_endpoints(headless, [], trigger)
    assert endpoints is not None
    assert endpoints["metadata"] == {
        "name": "web",
        "namespace": "default",
        "labels": {"tier": "x", "service.kubernetes.io/headless": ""},
        "annotations": {
            "endpoints.kubernetes.io/last-change-trigger-time": "2025-01-02T03:04:05.12Z"
        },
    }
    assert desired_endpoints(svc(lambda s: s["spec"].pop("selector")), []) is None
    assert desired_endpoints(svc(lambda s: s["spec"].update(type="ExternalName")), []) is None


def conditions(ready: bool, serving: bool, terminating: bool) -> JSON:
    return {"ready": ready, "serving": serving, "terminating": terminating}


@pytest.mark.parametrize(
    ("service", "the_pod", "expected"),
    [
        pytest.param(svc(), pod("a", "10.89.0.2"), conditions(True, True, False), id="ready"),
        pytest.param(
            svc(), pod("a", "10.89.0.2", ready=False), conditions(False, False, False), id="unready"
        ),
        pytest.param(
            svc(),
            pod("a", "10.89.0.2", metadata__deletionTimestamp="2025-01-01T00:00:00Z"),
            conditions(False, True, True),
            id="terminating but still serving",
        ),
        pytest.param(
            svc(lambda s: s["spec"].update(publishNotReadyAddresses=True)),
            pod("a", "10.89.0.2", ready=False),
            conditions(True, False, False),
            id="publishNotReadyAddresses makes it ready",
        ),
    ],
)
def test_slice_conditions(service: JSON, the_pod: JSON, expected: JSON) -> None:
    changes = desired_slices(service, [the_pod], [])
    (made,) = changes.create
    (endpoint,) = made["endpoints"]
    assert endpoint["conditions"] == expected
    assert endpoint["addresses"] == ["10.89.0.2"]
    assert endpoint["targetRef"] == address("a", "10.89.0.2")["targetRef"]
    assert made["ports"] == HTTP


def test_a_new_slice_carries_the_controllers_metadata() -> None:
    (made,) = desired_slices(svc(), [pod("a", "10.89.0.2")], [], "2025-01-02T03:04:05Z").create
    assert made["addressType"] == "IPv4"
    assert made["metadata"] == {
        "generateName": "web-",
        "namespace": "default",
        "labels": {
            "tier": "x",
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        },
        "ownerReferences": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "name": "web",
                "uid": "svc-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2025-01-02T03:04:05Z"},
    }


def stored(item: JSON, name: str) -> JSON:
    item = copy.deepcopy(item)
    item["metadata"]["name"] = name
    item["metadata"].pop("generateName")
    item["metadata"]["resourceVersion"] = "5"
    return item


def test_reconcile_reuses_updates_and_deletes() -> None:
    pods = [pod("a", "10.89.0.2")]
    (first,) = desired_slices(svc(), pods, []).create
    existing = [stored(first, "web-abcde")]
    assert not desired_slices(svc(), pods, existing), "nothing changed: nothing to do"
    pods[0]["status"]["conditions"][0]["status"] = "False"
    changes = desired_slices(svc(), pods, existing)
    (updated,) = changes.update
    assert updated["metadata"]["name"] == "web-abcde"
    assert updated["metadata"]["resourceVersion"] == "5"
    assert updated["endpoints"][0]["conditions"]["ready"] is False
    assert not changes.create and not changes.delete
    placeholder = desired_slices(svc(), [], existing)
    assert placeholder.create[0]["endpoints"] is None and placeholder.create[0]["ports"] is None
    assert placeholder.delete == ["web-abcde"]
    gone = desired_slices(svc(lambda s: s["spec"].pop("selector")), [], existing)
    assert gone.delete == ["web-abcde"] and not gone.create


def test_slices_hold_at_most_100_endpoints() -> None:
    pods = [pod(f"p{i:03}", f"10.89.{i // 200}.{i % 200 + 1}") for i in range(250)]
    made = desired_slices(svc(), pods, []).create
    assert [len(s["endpoints"]) for s in made] == [100, 100, 50]


def test_find_port() -> None:
    the_pod = pod("a", "10.89.0.2")
    assert find_port(the_pod, {"targetPort": 8080}) == 8080
    assert find_port(the_pod, {"targetPort": "web", "protocol": "TCP"}) == 3000
    assert find_port(the_pod, {"targetPort": "web", "protocol": "UDP"}) is None
