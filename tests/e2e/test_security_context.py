"""Security contexts, host namespaces, a shared PID namespace, dnsConfig and stdin/tty on the
real engine, with the examples manifests/examples/{security-context,privileged,run-as-non-root,
host-namespaces,share-process-namespace,dns-config,interactive}.yaml."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import docker
import pytest

from minikubelet.node.admission import apparmor_enabled
from tests.e2e.conftest import Agent
from tests.e2e.pods import (
    container_processes,
    engine_containers,
    find_event,
    pod,
    sh,
    status_of,
    terminated,
    wait_running,
    waiting_reason,
)
from tests.e2e.test_examples import apply_example, log_text

pytestmark = pytest.mark.e2e

NET_ADMIN, SYS_ADMIN, NET_BIND_SERVICE = 1 << 12, 1 << 21, 1 << 10


def _lines(agent: Agent, name: str, container: str, done: Callable[[str], bool]) -> list[str]:
    text = agent.wait_for(
        lambda: (t := log_text(agent, name, container)) and done(t) and t, 60, f"{container} log"
    )
    return str(text).splitlines()


def _field(lines: list[str], key: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(key + ":"))


def test_user_groups_fs_group_read_only_root_capabilities_seccomp(agent: Agent) -> None:
    apply_example(agent, "security-context.yaml")
    app = _lines(agent, "secure", "app", lambda t: "CapBnd" in t)
    assert app[0] == "uid=1000 gid=3000 groups=3000,2000,4000"
    assert app[1].split() == ["/data", "2000", "drwxrwsrwx"]  # fsGroup, setgid
    assert app[2].split()[:2] == ["/data/made", "2000"]  # made by uid 1000, the group kept
    assert app[3].split() == ["/podinfo/name", "2000", "-r--r-----"]  # 0400 | the group's r
    assert app[4] == "read secure"  # uid 1000 reads a root-owned file through fsGroup
    assert app[5] == "touch: cannot touch '/rootfs-write': Read-only file system"
    assert _field(app, "NoNewPrivs") == "1"
    assert _field(app, "Seccomp") == "2"
    assert int(_field(app, "CapBnd"), 16) == NET_BIND_SERVICE

    admin = _lines(agent, "secure", "admin", lambda t: "CapEff" in t)
    assert admin[0] == "0"  # the container's runAsUser over the pod's
    assert _field(admin, "Seccomp") == "0"  # its own Unconfined over the pod's RuntimeDefault
    effective = int(_field(admin, "CapEff"), 16)
    assert effective & NET_ADMIN and not effective & SYS_ADMIN


def _all_capabilities_here() -> bool:
    """Whether this node's engine can grant every capability (not when it runs in a container
    with fewer: this process's bounding set stands in for the engine's)."""
    with open("/proc/self/status") as status:
        bounding = next(line for line in status if line.startswith("CapBnd:"))
    with open("/proc/sys/kernel/cap_last_cap") as cap_last_cap:
        last = int(cap_last_cap.read())
    return int(bounding.split()[1], 16) == (1 << (last + 1)) - 1


def test_privileged(agent: Agent) -> None:
    apply_example(agent, "privileged.yaml")
    if not _all_capabilities_here():
        agent.wait_for(lambda: terminated(agent.pod("privileged"), "app"), 60, "the refusal")
        found = terminated(agent.pod("privileged"), "app") or {}
        assert (found["reason"], found["exitCode"]) == ("ContainerCannotRun", 128)
        assert "unable to apply caps" in found["message"]
        assert find_event(agent, "privileged", "Failed", "Error: ")
        return
    lines = _lines(agent, "privileged", "app", lambda t: "CapBnd" in t)
    effective = int(_field(lines, "CapEff"), 16)
    assert effective == int(_field(lines, "CapBnd"), 16) and effective & SYS_ADMIN


def test_run_as_non_root_refuses_a_root_image(agent: Agent) -> None:
    apply_example(agent, "run-as-non-root.yaml")
    agent.wait_for(
        lambda: waiting_reason(agent.pod("non-root"), "root-image") == "CreateContainerConfigError",
        60,
        "CreateContainerConfigError",
    )
    uid = agent.pod("non-root")["metadata"]["uid"]
    message = (
        "container has runAsNonRoot and image will run as root "
        f'(pod: "non-root_default({uid})", container: root-image)'
    )
    waiting = status_of(agent.pod("non-root"), "root-image")["state"]["waiting"]
    assert waiting["message"] == message
    assert find_event(agent, "non-root", "Failed", f"Error: {message}")
    assert _lines(agent, "non-root", "numeric", lambda t: t.endswith("\n"))[0] == "1000"


def test_what_the_engine_cannot_do_is_refused(agent: Agent) -> None:
    """A Localhost seccomp profile (no profile directory here): CreateContainerConfigError; an
    unknown capability: the engine's CreateContainerError, both with a Failed event."""
    localhost = {"type": "Localhost", "localhostProfile": "audit.json"}
    agent.apply(
        pod("local-seccomp", sh("app", "sleep 600", securityContext={"seccompProfile": localhost}))
    )
    agent.apply(
        pod(
            "bad-cap",
            sh("app", "sleep 600", securityContext={"capabilities": {"add": ["NO_SUCH"]}}),
        )
    )
    agent.wait_for(
        lambda: waiting_reason(agent.pod("local-seccomp"), "app") == "CreateContainerConfigError",
        60,
        "the Localhost refusal",
    )
    assert find_event(agent, "local-seccomp", "Failed", 'Localhost ("audit.json") is not supported')
    agent.wait_for(
        lambda: waiting_reason(agent.pod("bad-cap"), "app") == "CreateContainerError",
        60,
        "the engine's refusal",
    )
    message = status_of(agent.pod("bad-cap"), "app")["state"]["waiting"]["message"]
    assert "NO_SUCH" in message
    assert find_event(agent, "bad-cap", "Failed", "NO_SUCH")


def test_host_namespaces(agent: Agent) -> None:
    apply_example(agent, "host-namespaces.yaml")
    lines = _lines(agent, "host-ns", "app", lambda t: "# Kubernetes-managed" in t)
    seen = dict(line.split(" ", 1) for line in lines[:5])
    for ns in ("net", "pid", "ipc", "uts"):
        assert seen[ns] == os.readlink(f"/proc/self/ns/{ns}"), ns
    assert seen["hostname"] == socket.gethostname()
    assert lines[5] == "# Kubernetes-managed hosts file (host network)."
    status = agent.pod("host-ns")["status"]
    assert status["podIP"] == status["hostIP"] and status["podIPs"] == [{"ip": status["hostIP"]}]


def test_safe_sysctls_are_set_in_the_pod_alone(agent: Agent) -> None:
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as node_value:
        before = node_value.read()
    apply_example(agent, "sysctls.yaml")
    lines = _lines(agent, "tuned", "app", lambda t: "listening on" in t)
    assert lines == ["0", "40000\t40100", "listening on 80 as uid 1000"]
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as node_value:
        assert node_value.read() == before


def test_a_sysctl_outside_the_safe_set_is_rejected(agent: Agent) -> None:
    apply_example(agent, "sysctl-forbidden.yaml")
    message = 'forbidden sysctl: "net.core.somaxconn" not allowlisted'
    event = agent.wait_for(
        lambda: find_event(agent, "somaxconn", "SysctlForbidden"), 30, "the rejection"
    )
    assert (event["type"], event["message"]) == ("Warning", message)
    status = agent.pod("somaxconn")["status"]
    assert (status["phase"], status["reason"], status["message"]) == (
        "Failed",
        "SysctlForbidden",
        f"Pod was rejected: {message}",
    )
    assert not engine_containers(agent, agent.pod("somaxconn")["metadata"]["uid"])


def test_an_apparmor_profile_runs_only_where_the_host_enforces_apparmor(agent: Agent) -> None:
    apply_example(agent, "apparmor.yaml")
    if apparmor_enabled():
        wait_running(agent, "armored", "app")
        return
    event = agent.wait_for(lambda: find_event(agent, "armored", "AppArmor"), 30, "the rejection")
    message = "Cannot enforce AppArmor: AppArmor is not enabled on the host"
    assert (event["type"], event["message"]) == ("Warning", message)
    status = agent.pod("armored")["status"]
    assert (status["phase"], status["message"]) == ("Failed", f"Pod was rejected: {message}")
    assert not engine_containers(agent, agent.pod("armored")["metadata"]["uid"])


def test_share_process_namespace_shows_pause_as_pid_1(agent: Agent) -> None:
    apply_example(agent, "share-process-namespace.yaml")
    lines = _lines(agent, "shared-pid", "viewer", lambda t: "sleep 3600" in t)
    processes = dict(line.split(" ", 1) for line in lines if " " in line)
    assert processes["1"].split()[0] in ("/catatonit", "/pause", "/pause.sh")
    assert any(cmd.strip() == "sleep 3600" for cmd in processes.values())


def test_dns_config(agent: Agent) -> None:
    apply_example(agent, "dns-config.yaml")
    lines = _lines(agent, "dns", "app", lambda t: "options" in t)
    assert lines == ["nameserver 192.0.2.53", "search example.internal", "options ndots:2 edns0"]


def test_a_shell_with_stdin_and_a_tty_keeps_running(agent: Agent) -> None:
    apply_example(agent, "interactive.yaml")
    wait_running(agent, "interactive", "shell")
    status = status_of(agent.pod("interactive"), "shell")
    engine = docker.from_env()
    try:
        config = engine.api.inspect_container(status["containerID"].split("://")[-1])["Config"]
    finally:
        engine.close()
    assert (config["OpenStdin"], config["StdinOnce"], config["Tty"]) == (True, False, True)
    # without stdin `sh` would have read EOF and exited: its process is still there
    container_id = status["containerID"].split("://")[-1]
    assert "sh" in container_processes(container_id)
    assert status_of(agent.pod("interactive"), "shell")["restartCount"] == 0


def test_host_network_dns_policies(agent: Agent) -> None:
    """hostNetwork with ClusterFirst reads the node's resolv.conf (as Default);
    ClusterFirstWithHostNet gets the cluster's DNS and search path."""
    script = "cat /etc/resolv.conf; echo END; sleep 600 & wait"
    for name, policy in [("plain", "ClusterFirst"), ("cluster", "ClusterFirstWithHostNet")]:
        agent.apply(pod(name, sh("app", script), hostNetwork=True, dnsPolicy=policy))
    dns = agent.api.request("GET", "/api/v1/namespaces/kube-system/services/kube-dns")
    cluster = _lines(agent, "cluster", "app", lambda t: "END" in t)
    assert cluster[0] == f"nameserver {dns['spec']['clusterIP']}"
    assert cluster[1].startswith("search default.svc.cluster.local svc.cluster.local")
    assert cluster[2] == "options ndots:5"
    plain = _lines(agent, "plain", "app", lambda t: "END" in t)
    assert f"nameserver {dns['spec']['clusterIP']}" not in plain
    assert not any("svc.cluster.local" in line for line in plain)
