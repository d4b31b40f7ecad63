"""Every manifest in manifests/examples applies cleanly and behaves as its comment says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minikubelet.api.manifests import load_paths
from minikubelet.errors import BadRequest
from tests.e2e.conftest import Agent
from tests.e2e.pods import find_event, logs, status_of, terminated

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"


def apply_example(agent: Agent, file: str) -> dict[str, Any]:
    (manifest,) = load_paths([str(EXAMPLES / file)])
    return agent.apply(manifest.body)


def log_text(agent: Agent, name: str, container: str) -> str:
    """The container's log, or "" while it has none yet."""
    try:
        return logs(agent, name, container)
    except BadRequest:
        return ""


def ready(agent: Agent, name: str, container: str) -> bool:
    return bool(status_of(agent.pod(name), container).get("ready"))


def test_every_example_is_here_and_valid() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == [
        "active-deadline.yaml",
        "apparmor.yaml",
        "configmap-secret.yaml",
        "crash-loop.yaml",
        "dns-config.yaml",
        "exec-tcp-probes.yaml",
        "host-aliases.yaml",
        "host-namespaces.yaml",
        "init-containers.yaml",
        "interactive.yaml",
        "lifecycle-hooks.yaml",
        "node-selector.yaml",
        "oom.yaml",
        "pod-anti-affinity.yaml",
        "privileged.yaml",
        "run-as-non-root.yaml",
        "security-context.yaml",
        "share-process-namespace.yaml",
        "sidecar-containers.yaml",
        "sidecar-localhost.yaml",
        "startup-probe.yaml",
        "sysctl-forbidden.yaml",
        "sysctls.yaml",
        "termination-message.yaml",
    ]


def test_exec_and_tcp_probes(agent: Agent) -> None:
    apply_example(agent, "exec-tcp-probes.yaml")
    agent.wait_for(lambda: ready(agent, "exec-tcp", "app"), 40, "exec-tcp ready")
    assert find_event(agent, "exec-tcp", "Unhealthy", "Readiness probe failed: cat: /tmp/ready")
    assert status_of(agent.pod("exec-tcp"), "app")["restartCount"] == 0


def test_startup_probe_guards_a_slow_start(agent: Agent) -> None:
    apply_example(agent, "startup-probe.yaml")
    agent.wait_for(lambda: ready(agent, "slow-start", "app"), 40, "slow-start ready")
    status = status_of(agent.pod("slow-start"), "app")
    assert status["started"] is True and status["restartCount"] == 0
    assert find_event(agent, "slow-start", "Unhealthy", "Startup probe failed:")


def test_init_containers_in_order(agent: Agent) -> None:
    apply_example(agent, "init-containers.yaml")
    agent.wait_for(
        lambda: "prepared by init 2" in log_text(agent, "init-demo", "app"), 60, "the app's log"
    )
    assert logs(agent, "init-demo", "app").splitlines()[:2] == [
        "fetched by init 1",
        "prepared by init 2",
    ]


def test_two_containers_share_localhost_and_an_empty_dir(agent: Agent) -> None:
    apply_example(agent, "sidecar-localhost.yaml")
    agent.wait_for(
        lambda: "hello from client" in log_text(agent, "sidecar-demo", "client"), 60, "client log"
    )
    agent.wait_for(lambda: ready(agent, "sidecar-demo", "web"), 30, "web ready")


def test_node_selector_waits_for_the_label(agent: Agent) -> None:
    apply_example(agent, "node-selector.yaml")
    agent.wait_for(
        lambda: find_event(agent, "wants-ssd", "FailedScheduling"), 30, "FailedScheduling"
    )
    assert agent.pod("wants-ssd")["status"]["phase"] == "Pending"
    agent.api.request(
        "PATCH", "/api/v1/nodes/e2e-node", body={"metadata": {"labels": {"disk": "ssd"}}}
    )
    agent.wait_for(lambda: ready(agent, "wants-ssd", "app"), 60, "wants-ssd running")


def test_the_second_replica_waits_for_the_first_to_go(agent: Agent) -> None:
    first, second = load_paths([str(EXAMPLES / "pod-anti-affinity.yaml")])
    agent.apply(first.body)
    agent.wait_for(lambda: agent.pod("web-1")["spec"].get("nodeName"), 30, "web-1 bound")
    agent.apply(second.body)
    agent.wait_for(lambda: find_event(agent, "web-2", "FailedScheduling"), 30, "FailedScheduling")
    event = find_event(agent, "web-2", "FailedScheduling")
    assert event is not None and event["message"] == (
        "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    agent.wait_for(lambda: ready(agent, "web-1", "app"), 60, "web-1 running")
    assert agent.pod("web-2")["status"]["phase"] == "Pending"
    agent.api.request("DELETE", "/api/v1/namespaces/default/pods/web-1")
    agent.wait_for(lambda: ready(agent, "web-2", "app"), 60, "web-2 running")


def test_memory_limit_is_oom_killed(agent: Agent) -> None:
    apply_example(agent, "oom.yaml")

    def oom() -> bool:
        pod = agent.pod("memory-hog")
        found = terminated(pod, "app") or terminated(pod, "app", last=True) or {}
        return found.get("reason") == "OOMKilled"

    agent.wait_for(oom, 60, "OOMKilled")
    pod = agent.pod("memory-hog")
    found = terminated(pod, "app") or terminated(pod, "app", last=True) or {}
    assert found["exitCode"] == 137
    assert pod["status"]["qosClass"] == "Guaranteed"


def test_crash_loop_backs_off(agent: Agent) -> None:
    apply_example(agent, "crash-loop.yaml")
    agent.wait_for(
        lambda: find_event(
            agent, "crash-loop", "BackOff", "Back-off restarting failed container app"
        ),
        60,
        "the BackOff event",
    )
    assert status_of(agent.pod("crash-loop"), "app")["restartCount"] >= 1
