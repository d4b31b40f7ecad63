"""The kubelet-managed /etc/hosts (`managedHostsFileContent`, `hostsEntriesFromHostAliases`,
`GeneratePodHostNameAndDomain`)."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.models import ObjectMeta, Pod, PodSpec
from minikubelet.node.etc_hosts import host_network_hosts, managed_hosts, pod_hostname_and_domain

LOCAL = (
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def pod(name: str = "web", **spec: Any) -> Pod:
    aliases = spec.pop("hostAliases", None)
    made = Pod(metadata=ObjectMeta(name=name, namespace="shop"), spec=PodSpec(**spec))
    if aliases is not None:
        made.spec.extra["hostAliases"] = aliases
    return made


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(pod(), LOCAL + "10.89.0.5\tweb\n", id="the pod's name"),
        pytest.param(
            pod(hostname="db-0", subdomain="db"),
            LOCAL + "10.89.0.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n",
            id="hostname and subdomain",
        ),
        pytest.param(
            pod(
                hostAliases=[
                    {"ip": "1.2.3.4", "hostnames": ["foo.local", "bar.local"]},
                    {"ip": "5.6.7.8", "hostnames": ["baz"]},
                ]
            ),  # fmt: skip
            LOCAL + "10.89.0.5\tweb\n\n# Entries added by HostAliases.\n"
            "1.2.3.4\tfoo.local\tbar.local\n5.6.7.8\tbaz\n",
            id="hostAliases in spec order",
        ),
    ],
)
def test_managed_hosts(given: Pod, expected: str) -> None:
    assert managed_hosts(given, ["10.89.0.5"], "cluster.local") == expected


def test_a_long_pod_name_is_cut_to_a_dns_label() -> None:
    name = "a" * 62 + "-b"
    assert pod_hostname_and_domain(pod(name), "cluster.local") == ("a" * 62, "")


def test_host_network_is_the_nodes_file_with_aliases() -> None:
    node = "127.0.0.1\tlocalhost\n10.0.0.1\tvm\n"
    assert host_network_hosts(pod(hostNetwork=True), node) == (
        "# Kubernetes-managed hosts file (host network).\n" + node
    )
    aliased = pod(hostNetwork=True, hostAliases=[{"ip": "1.2.3.4", "hostnames": ["a", "b"]}])
    assert host_network_hosts(aliased, node) == (
        "# Kubernetes-managed hosts file (host network).\n"
        + node
        + "\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n"
    )
