"""The pod's resolv.conf for each dnsPolicy (dns.go GetPodDNS, cri-dockerd's file layout)."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.node.resolvconf import parse_resolv_conf, pod_resolv_conf

HOST = (
    "# generated\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan. example.com\n"
    "options edns0 timeout:2\n"
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {},
            "nameserver 10.96.0.10\n"
            "search shop.svc.cluster.local svc.cluster.local cluster.local lan example.com\n"
            "options ndots:5\n",
            id="ClusterFirst: cluster DNS, the search path, ndots:5; host options dropped",
        ),
        pytest.param({"dnsPolicy": "Default"}, None, id="Default: the engine's file"),
        pytest.param({"hostNetwork": True}, None, id="hostNetwork with ClusterFirst is Default"),
        pytest.param(
            {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"},
            "nameserver 10.96.0.10\n"
            "search shop.svc.cluster.local svc.cluster.local cluster.local lan example.com\n"
            "options ndots:5\n",
            id="ClusterFirstWithHostNet",
        ),
        pytest.param(
            {
                "dnsPolicy": "None",
                "dnsConfig": {
                    "nameservers": ["1.1.1.1"],
                    "searches": ["a.example"],
                    "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
                },
            },
            "nameserver 1.1.1.1\nsearch a.example\noptions ndots:2 edns0\n",
            id="None: only dnsConfig",
        ),
        pytest.param(
            {
                "dnsConfig": {
                    "nameservers": ["10.96.0.10", "8.8.8.8"],
                    "options": [{"name": "ndots", "value": "1"}],
                }
            },
            "nameserver 10.96.0.10\nnameserver 8.8.8.8\n"
            "search shop.svc.cluster.local svc.cluster.local cluster.local lan example.com\n"
            "options ndots:1\n",
            id="dnsConfig merged: duplicates dropped, options replaced by name",
        ),
    ],
)
def test_pod_resolv_conf(spec: dict[str, Any], expected: str | None) -> None:
    assert pod_resolv_conf(spec, "shop", "10.96.0.10", HOST) == expected


def test_no_cluster_dns_falls_back_to_the_engine() -> None:
    assert pod_resolv_conf({}, "shop", "", HOST) is None


def test_parse() -> None:
    assert parse_resolv_conf(HOST) == (
        ["192.168.1.1", "192.168.1.2"],
        ["lan", "example.com"],
        ["edns0", "timeout:2"],
    )
