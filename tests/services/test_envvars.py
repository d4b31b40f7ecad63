"""The kubelet's service variables (envvars.FromServices, getServiceEnvVarMap)."""

from __future__ import annotations

from minikubelet.api.raw import JSON
from minikubelet.services.envvars import from_services, service_env


def service(name: str, ns: str, ip: str, *ports: JSON) -> JSON:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": {"clusterIP": ip, "ports": list(ports)},
    }


def test_the_kubeadm_example() -> None:
    kubernetes = service(
        "kubernetes", "default", "10.96.0.1", {"name": "https", "port": 443, "protocol": "TCP"}
    )
    assert from_services([kubernetes]) == [
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("KUBERNETES_SERVICE_PORT", "443"),
        ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
        ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
        ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
        ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
        ("KUBERNETES_PORT_443_TCP_PORT", "443"),
        ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
    ]


def test_names_ports_and_protocols() -> None:
    web = service(
        "my-web",
        "default",
        "10.96.0.20",
        {"port": 80, "protocol": "TCP"},
        {"name": "dns-udp", "port": 53, "protocol": "UDP"},
    )
    env = dict(from_services([web]))
    assert env["MY_WEB_SERVICE_PORT"] == "80"
    assert env["MY_WEB_SERVICE_PORT_DNS_UDP"] == "53"
    assert env["MY_WEB_PORT"] == "tcp://10.96.0.20:80"
    assert env["MY_WEB_PORT_53_UDP"] == "udp://10.96.0.20:53"
    assert env["MY_WEB_PORT_53_UDP_PROTO"] == "udp"
    # the unnamed port has no named variable
    assert [k for k in env if "_SERVICE_PORT" in k] == [
        "MY_WEB_SERVICE_PORT",
        "MY_WEB_SERVICE_PORT_DNS_UDP",
    ]


def test_which_services_a_pod_sees() -> None:
    port = {"port": 80, "protocol": "TCP"}
    services = [
        service("kubernetes", "default", "10.96.0.1", {"name": "https", "port": 443}),
        service("web", "shop", "10.96.0.20", port),
        service("db", "other", "10.96.0.30", port),
        service("headless", "shop", "None", port),
        service("ext", "shop", "", port),
    ]
    env = service_env(services, "shop", enable_links=True)
    assert {k for k in env if k.endswith("_SERVICE_HOST")} == {
        "KUBERNETES_SERVICE_HOST",
        "WEB_SERVICE_HOST",
    }
    env = service_env(services, "shop", enable_links=False)
    assert {k for k in env if k.endswith("_SERVICE_HOST")} == {"KUBERNETES_SERVICE_HOST"}
