"""Traffic through Services on the engine (issue 18): a ClusterIP and a NodePort on 127.0.0.1
refuse connections without a ready endpoint, spread new connections over the ready pods, are
reachable from the host and from a pod, and leave nothing on the host after a SIGKILL of the
agent (a restarted agent makes them again) or a stop."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from typing import Any

import docker
import pytest
from dnslib import DNSRecord

from minikubelet.services.kernel import table_name
from minikubelet.services.tun import device_name
from tests.e2e.conftest import Agent
from tests.e2e.engines import ulimits
from tests.e2e.pods import WEBAPL, logs

pytestmark = pytest.mark.e2e

SVC = "/api/v1/namespaces/default/services"


def webapl(name: str) -> dict[str, Any]:
    env = [
        {"name": "WEBAPL_READY_AFTER", "value": "0"},
        {"name": "WEBAPL_LIVENESS_FAIL_AFTER", "value": "100000"},
    ]
    probe = {"httpGet": {"path": "/ready", "port": 3000}, "periodSeconds": 1}
    container = {"name": "web", "image": "webapl:0.1", "env": env, "readinessProbe": probe}
    return {
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
    }


def refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except ConnectionRefusedError:
        return True
    return False


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


def answer(url: str) -> str | None:
    try:
        return get(url)
    except OSError:
        return None


def run_on(network: str, command: list[str], **options: Any) -> str:
    """Run `command` in a container of its own on `network` and return what it printed.

    Through the SDK (create, start, wait, logs) and not `docker run`: the docker CLI's attach
    fails on Podman 4.3's API (`unable to upgrade to tcp, received 409`) and leaves the
    container behind. With the limits the node passes too (rootful Podman's defaults fail
    here: `error setting rlimit type 7`)."""
    client = docker.from_env()
    try:
        out: bytes = client.containers.run(
            WEBAPL, command, network=network, remove=True, stderr=True, ulimits=ulimits(),
            **options,
        )  # fmt: skip
    except docker.errors.ContainerError as failed:
        return f"exit {failed.exit_status}: {failed.stderr!r}"
    finally:
        client.close()
    return out.decode(errors="replace")


def table(agent: Agent) -> str | None:
    """The agent's nftables table as `nft` lists it; None when there is none."""
    listed = subprocess.run(
        ["nft", "list", "table", "ip", table_name(agent.instance)], capture_output=True, text=True
    )
    return listed.stdout if listed.returncode == 0 else None


def device_exists(agent: Agent) -> bool:
    shown = subprocess.run(["ip", "link", "show", device_name(agent.instance)], capture_output=True)
    return shown.returncode == 0


def test_cluster_ip_and_node_port(agent: Agent) -> None:
    body = {
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [
            {"port": 80, "targetPort": 3000}
        ]},
    }  # fmt: skip
    svc = agent.api.request("POST", SVC, body=body)
    ip, node_port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
    assert agent.wait_for(lambda: refused(ip, 80), 10, "the cluster IP to refuse")
    assert refused("127.0.0.1", node_port)

    for name in ("web-a", "web-b"):
        agent.apply(webapl(name))

    def ready_count() -> int:
        found = agent.api.request("GET", "/api/v1/namespaces/default/endpoints/web")
        return sum(len(s.get("addresses") or []) for s in found.get("subsets") or [])

    agent.wait_for(lambda: ready_count() == 2, 60, "both pods ready in the endpoints")
    answers = [get(f"http://{ip}/") for _ in range(10)]
    assert set(answers) == {"Hello from Node.js"}
    assert get(f"http://127.0.0.1:{node_port}/") == "Hello from Node.js"
    for name in ("web-a", "web-b"):
        served = logs(agent, name).count("GET /\n")
        assert served >= 3, f"{name} served {served} of 11 connections: not spread"

    labels = ["io.kubernetes.pod.name=web-a", "io.kubernetes.container.name=web"]
    labels.append(f"minikubelet.instance={agent.instance}")
    inspected = subprocess.run(
        ["docker", "ps", "-q", *(a for label in labels for a in ("--filter", f"label={label}"))],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    env = subprocess.run(
        ["docker", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", inspected[0]],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert f"WEB_SERVICE_HOST={ip}" in env and "WEB_SERVICE_PORT=80" in env
    assert f"WEB_PORT=tcp://{ip}:80" in env, "the kubelet's service variables"
    code = (
        "import socket; print(open('/etc/resolv.conf').read()); print(socket.gethostbyname('web'))"
    )
    inside = subprocess.run(
        ["docker", "exec", inspected[0], "python3", "-c", code],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    dns_ip = agent.api.request("GET", "/api/v1/namespaces/kube-system/services/kube-dns")
    assert inside.stdout.splitlines()[:3] == [
        f"nameserver {dns_ip['spec']['clusterIP']}",
        inside.stdout.splitlines()[1],
        "options ndots:5",
    ], inside.stdout
    assert inside.stdout.splitlines()[1].startswith(
        "search default.svc.cluster.local svc.cluster.local cluster.local"
    )
    assert inside.stdout.split()[-1] == ip, f"a pod resolves its Service by its name: {inside}"

    network = f"minikubelet-{agent.instance}"
    script = f"exec 3<>/dev/tcp/{ip}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3"
    from_pod = run_on(network, ["bash", "-c", script])
    assert from_pod.startswith("HTTP/1.1 200 OK"), from_pod

    dns = agent.api.request("GET", "/api/v1/namespaces/kube-system/services/kube-dns")
    dns_ip = dns["spec"]["clusterIP"]
    reply = DNSRecord.parse(
        DNSRecord.question("web.default.svc.cluster.local").send(dns_ip, 53, timeout=5)
    )
    assert [str(rr.rdata) for rr in reply.rr] == [ip], "the host asks cluster DNS"
    lookup = (
        "import socket; print(socket.gethostbyname('web'), socket.gethostbyname('web.default'))"
    )
    searches = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    resolved = run_on(
        network, ["python3", "-c", lookup], dns=[dns_ip], dns_search=searches, dns_opt=["ndots:5"]
    )
    assert resolved.split() == [ip, ip], resolved

    assert device_exists(agent)
    assert f"{ip} . 80 : goto service-" in (table(agent) or ""), "the kernel routes it"
    agent.kill()
    assert not device_exists(agent), "a SIGKILLed agent leaves no device or address behind"
    assert table(agent) is None, "nor nftables rules"
    agent.start()
    agent.wait_for(lambda: device_exists(agent), 10, "the restarted agent's device")
    assert agent.wait_for(lambda: answer(f"http://{ip}/"), 30, "the cluster IP answering again")
    agent.stop()
    assert not device_exists(agent), "a stopped agent leaves nothing behind"
    assert table(agent) is None


def test_a_pod_reaches_itself_and_userspace_mode_relays(agent: Agent) -> None:
    """The kernel's routes take a pod back to itself through its Service (hairpin: the
    bridge port's hairpin mode and a masquerade); with `--proxy-mode userspace` the agent
    relays instead, with no table of its own."""
    agent.apply(webapl("self"))
    body = {"metadata": {"name": "self"}, "spec": {"selector": {"app": "web"}, "ports": [
        {"port": 8080, "targetPort": 3000}
    ]}}  # fmt: skip
    ip = agent.api.request("POST", SVC, body=body)["spec"]["clusterIP"]
    url = f"http://{ip}:8080/"
    assert agent.wait_for(lambda: answer(url), 60, "the Service answering")
    pod_ip = agent.pod("self")["status"]["podIP"]
    assert f"dnat to {pod_ip}:3000" in (table(agent) or "")
    labels = [f"minikubelet.instance={agent.instance}", "io.kubernetes.pod.name=self"]
    container = subprocess.run(
        ["docker", "ps", "-q", *(a for label in labels for a in ("--filter", f"label={label}")),
         "--filter", "label=io.kubernetes.container.name=web"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    request = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3"
    script = f"exec 3<>/dev/tcp/{ip}/8080 && {request}"
    inside = subprocess.run(
        ["docker", "exec", container, "timeout", "10", "bash", "-c", script],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert inside.stdout.startswith("HTTP/1.1 200 OK"), f"hairpin: {inside.stderr}"

    agent.stop()
    agent.start("--proxy-mode", "userspace")
    assert agent.wait_for(lambda: answer(url), 30, "the Service relayed by the agent")
    assert table(agent) is None, "userspace: no nftables table"


def test_node_ports_on_other_addresses_only_when_asked(agent: Agent) -> None:
    """By default a NodePort answers on 127.0.0.1 and not on the node's address; with
    `--nodeport-addresses` it answers where the CIDRs (or `primary`) say, and only there."""
    agent.apply(webapl("np-a"))
    body = {
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [
            {"port": 80, "targetPort": 3000}
        ]},
    }  # fmt: skip
    svc = agent.api.request("POST", SVC, body=body)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    host_ip = agent.wait_for(lambda: agent.pod("np-a")["status"].get("hostIP"), 60, "a host IP")
    loopback, node = f"http://127.0.0.1:{node_port}/", f"http://{host_ip}:{node_port}/"
    assert agent.wait_for(lambda: answer(loopback), 60, "the NodePort on loopback")
    assert refused(host_ip, node_port), "not on the node's address unless asked"

    agent.stop()
    agent.start("--nodeport-addresses", f"{host_ip}/32,127.0.0.0/8")
    assert agent.wait_for(lambda: answer(node), 30, "the NodePort on the node's address")
    assert answer(loopback), "and on loopback, which a CIDR holds"

    agent.stop()
    agent.start("--nodeport-addresses", "primary")
    assert agent.wait_for(lambda: answer(node), 30, "the NodePort on the node's InternalIP")
    assert refused("127.0.0.1", node_port), "primary: the node's InternalIP only"
