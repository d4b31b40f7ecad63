"""`get` rows and `describe` text for Services, Endpoints and EndpointSlices (printers.go and
describe.go, 1.32; reference A.6-A.8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.raw import JSON
from minikubelet.printers.describe_services import (
    describe_endpoint_slice,
    describe_endpoints,
    describe_service,
    slice_endpoints,
)
from minikubelet.printers.services import endpoint_slice_row, endpoints_row, service_row

NOW = datetime(2025, 1, 2, 3, 5, 0, tzinfo=UTC)
META = {"name": "web", "namespace": "default", "creationTimestamp": "2025-01-02T03:04:20Z"}


def service(**spec: Any) -> JSON:
    return {"metadata": META, "spec": spec, "status": {"loadBalancer": {}}}


@pytest.mark.parametrize(
    ("svc", "cells"),
    [
        pytest.param(
            service(
                type="ClusterIP",
                clusterIPs=["10.96.0.1"],
                ports=[{"port": 443, "protocol": "TCP"}],
            ),
            ["web", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "40s", "<none>"],
            id="ClusterIP",
        ),
        pytest.param(
            service(
                type="NodePort",
                clusterIPs=["10.101.22.8"],
                selector={"b": "2", "a": "1"},
                ports=[
                    {"port": 80, "protocol": "TCP", "nodePort": 31234},
                    {"port": 443, "protocol": "TCP", "nodePort": 30443},
                ],
            ),
            [
                "web",
                "NodePort",
                "10.101.22.8",
                "<none>",
                "80:31234/TCP,443:30443/TCP",
                "40s",
                "a=1,b=2",
            ],
            id="NodePort",
        ),
        pytest.param(
            service(
                type="ClusterIP", clusterIPs=["None"], ports=[{"port": 5432, "protocol": "TCP"}]
            ),
            ["web", "ClusterIP", "None", "<none>", "5432/TCP", "40s", "<none>"],
            id="headless",
        ),
        pytest.param(
            service(type="ExternalName", externalName="example.com"),
            ["web", "ExternalName", "<none>", "example.com", "<none>", "40s", "<none>"],
            id="ExternalName",
        ),
        pytest.param(
            service(type="LoadBalancer", clusterIPs=["10.96.0.9"], ports=[]),
            ["web", "LoadBalancer", "10.96.0.9", "<pending>", "<none>", "40s", "<none>"],
            id="LoadBalancer without ingress",
        ),
    ],
)
def test_service_rows(svc: JSON, cells: list[str]) -> None:
    assert service_row(svc, NOW) == cells


def ready(*ips: str) -> list[JSON]:
    return [{"ip": ip} for ip in ips]


@pytest.mark.parametrize(
    ("subsets", "cell"),
    [
        pytest.param(None, "<none>", id="no subsets"),
        pytest.param(
            [{"notReadyAddresses": ready("10.0.0.1"), "ports": [{"port": 80}]}],
            "",
            id="all unready: an empty cell",
        ),
        pytest.param(
            [
                {
                    "addresses": ready("1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"),
                    "ports": [{"port": 8}],
                }
            ],
            "1.1.1.1:8,1.1.1.2:8,1.1.1.3:8 + 1 more...",
            id="four ready",
        ),
        pytest.param(
            [{"addresses": ready("1.1.1.1", "1.1.1.2"), "ports": [{"port": 8}, {"port": 9}]}],
            "1.1.1.1:8,1.1.1.2:8,1.1.1.1:9 + 1 more...",
            id="two ports by two pods",
        ),
        pytest.param([{"addresses": ready("1.1.1.1")}], "1.1.1.1", id="headless without ports"),
    ],
)
def test_endpoints_cell(subsets: list[JSON] | None, cell: str) -> None:
    endpoints: JSON = {"metadata": META}
    if subsets is not None:
        endpoints["subsets"] = subsets
    assert endpoints_row(endpoints, NOW) == ["web", cell, "40s"]


def endpoint(ip: str, is_ready: bool | None = True) -> JSON:
    found: JSON = {"addresses": [ip], "conditions": {}}
    if is_ready is not None:
        found["conditions"]["ready"] = is_ready
    return found


@pytest.mark.parametrize(
    ("item", "ports", "endpoints"),
    [
        pytest.param({"ports": None, "endpoints": None}, "<unset>", "<unset>", id="placeholder"),
        pytest.param(
            {
                "ports": [{"name": "http", "port": 8080}],
                "endpoints": [endpoint("10.0.0.5"), endpoint("10.0.0.6", False)],
            },
            "8080",
            "10.0.0.5,10.0.0.6",
            id="every address, ready or not",
        ),
        pytest.param(
            {
                "ports": [{"port": 1}, {"port": 2}, {"name": "x"}, {}],
                "endpoints": [endpoint(f"10.0.0.{i}") for i in range(5)],
            },
            "1,2,x + 1 more...",
            "10.0.0.0,10.0.0.1,10.0.0.2 + 2 more...",
            id="more than three",
        ),
    ],
)
def test_endpoint_slice_rows(item: JSON, ports: str, endpoints: str) -> None:
    item = {"metadata": {**META, "name": "web-8xk2p"}, "addressType": "IPv4", **item}
    assert endpoint_slice_row(item, NOW) == ["web-8xk2p", "IPv4", ports, endpoints, "40s"]


def test_describe_endpoints_from_slices_keeps_kubectls_quirk() -> None:
    ports = [{"name": "", "port": 80}]
    slices = [{"ports": ports, "endpoints": [endpoint(f"10.0.0.{i}") for i in range(4)]}]
    assert slice_endpoints(slices, "") == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 1 more..."
    slices = [{"ports": ports, "endpoints": [endpoint("10.0.0.1", False), endpoint("10.0.0.2")]}]
    assert slice_endpoints(slices, "") == "10.0.0.2:80"
    assert slice_endpoints(slices, "http") == ""
    assert slice_endpoints([], "") == "<none>"


def test_describe_service() -> None:
    svc = service(
        selector={"app": "web"},
        type="NodePort",
        ipFamilyPolicy="SingleStack",
        ipFamilies=["IPv4"],
        clusterIP="10.101.22.8",
        clusterIPs=["10.101.22.8"],
        ports=[
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31234}
        ],
        sessionAffinity="None",
        externalTrafficPolicy="Cluster",
        internalTrafficPolicy="Cluster",
    )
    svc["metadata"] = {**META, "labels": {"app": "web"}}
    slices = [
        {
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [endpoint("10.244.0.5"), endpoint("10.244.0.6")],
        }
    ]
    assert describe_service(svc, slices, [], NOW) == (
        "Name:                     web\n"
        "Namespace:                default\n"
        "Labels:                   app=web\n"
        "Annotations:              <none>\n"
        "Selector:                 app=web\n"
        "Type:                     NodePort\n"
        "IP Family Policy:         SingleStack\n"
        "IP Families:              IPv4\n"
        "IP:                       10.101.22.8\n"
        "IPs:                      10.101.22.8\n"
        "Port:                     http  80/TCP\n"
        "TargetPort:               8080/TCP\n"
        "NodePort:                 http  31234/TCP\n"
        "Endpoints:                10.244.0.5:8080,10.244.0.6:8080\n"
        "Session Affinity:         None\n"
        "External Traffic Policy:  Cluster\n"
        "Internal Traffic Policy:  Cluster\n"
        "Events:                   <none>\n"
    )


def test_describe_endpoints() -> None:
    endpoints = {
        "metadata": META,
        "subsets": [
            {
                "addresses": ready("10.244.0.5"),
                "notReadyAddresses": ready("10.244.0.6"),
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        ],
    }
    assert describe_endpoints(endpoints, [], NOW) == (
        "Name:         web\n"
        "Namespace:    default\n"
        "Labels:       <none>\n"
        "Annotations:  <none>\n"
        "Subsets:\n"
        "  Addresses:          10.244.0.5\n"
        "  NotReadyAddresses:  10.244.0.6\n"
        "  Ports:\n"
        "    Name  Port  Protocol\n"
        "    ----  ----  --------\n"
        "    http  8080  TCP\n"
        "\n"
        "Events:  <none>\n"
    )


def test_describe_endpoint_slice() -> None:
    item = {
        "metadata": {**META, "name": "web-8xk2p"},
        "addressType": "IPv4",
        "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {
                "addresses": ["10.244.0.5"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "targetRef": {"kind": "Pod", "name": "web"},
                "nodeName": "vm",
            }
        ],
    }
    text = describe_endpoint_slice(item, None, NOW)
    assert "AddressType:  IPv4\n" in text
    assert "  <unset>  8080  TCP\n" in text
    assert "  - Addresses:  10.244.0.5\n" in text
    assert "      Ready:    true\n" in text
    assert "    TargetRef:  Pod/web\n" in text
