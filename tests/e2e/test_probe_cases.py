"""The Kubernetes node e2e probe cases (`test/e2e/common/node/container_probe.go`) on the real
engine, with periods and thresholds cut to 1-2 s: liveness restarts and non-restarts for exec,
tcpSocket and httpGet (redirects), startup probes, readiness that never restarts, the
monotonically increasing restart count, the probe-level grace period and `restartPolicy: Never`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import (
    WEBAPL,
    logs,
    pod,
    pod_when,
    sh,
    status_of,
    terminated,
    wait_phase,
    wait_running,
)
from tests.e2e.probing import (
    PORT,
    at,
    condition,
    container_events,
    event_count,
    exec_,
    http_get,
    idle,
    probe,
    ready,
    restarts,
    server,
    tcp,
    wait_events,
    wait_message,
)

pytestmark = pytest.mark.e2e

# Exec probes get a long timeout: on a loaded engine `docker exec` alone can take a second.
HEALTH = {**exec_("cat", "/tmp/health"), "timeoutSeconds": 5}
SLOW_OK = {"timeoutSeconds": 5}
STARTED = probe(tcp(PORT), failureThreshold=60)  # the probe server listens
FAILING_WEB = [
    {"name": "WEBAPL_LIVENESS_FAIL_AFTER", "value": "0"},
    {"name": "WEBAPL_READY_AFTER", "value": "0"},
]


def _restarted(agent: Agent, name: str, container: str, timeout: float = 30) -> dict[str, Any]:
    return pod_when(
        agent, name, lambda p: restarts(p, container) >= 1, timeout, f"{name}/{container} restart"
    )


def _killing(agent: Agent, name: str, container: str) -> set[str]:
    return {
        str(e["message"])
        for e in container_events(agent, name, container)
        if e.get("reason") == "Killing"
    }


def test_failing_liveness_restarts_exec_tcp_and_http_redirect(agent: Agent) -> None:
    liveness = {"initialDelaySeconds": 1, "failureThreshold": 1}
    agent.apply(
        pod(
            "exec-restart",
            sh(
                "busybox",
                "touch /tmp/health; sleep 3; rm -f /tmp/health; exec sleep 600",
                livenessProbe=probe(HEALTH, **liveness),
            ),
        )
    )
    agent.apply(
        pod(
            "tcp-restart",
            sh(
                "app",
                'timeout 3 python3 -c "$CODE"; exec sleep 600',
                env=[{"name": "CODE", "value": server()["command"][2]}],
                livenessProbe=probe(tcp(PORT), **liveness),
            ),
        )
    )
    agent.apply(
        pod(
            "http-restart",
            server(
                fail_after=3,
                startupProbe=STARTED,
                livenessProbe=probe(http_get("/redirect?loc=/healthz"), **liveness),
            ),
        )
    )
    cases = {"exec-restart": "busybox", "tcp-restart": "app", "http-restart": "server"}
    first_seen: dict[str, int] = {}

    def all_restarted() -> bool:
        for name, container in cases.items():
            if name not in first_seen and (count := restarts(agent.pod(name), container)):
                first_seen[name] = count
        return len(first_seen) == len(cases)

    agent.wait_for(all_restarted, 40, why="a liveness restart of each pod")
    assert first_seen == dict.fromkeys(cases, 1)
    for name, container in cases.items():
        assert _killing(agent, name, container) == {
            f"Container {container} failed liveness probe, will be restarted"
        }
    failed = "Liveness probe failed: "
    wait_message(
        agent,
        "exec-restart",
        "busybox",
        "Unhealthy",
        failed + "cat: /tmp/health: No such file or directory\n",
    )
    ip = agent.pod("tcp-restart")["status"]["podIP"]
    refused = f"{failed}dial tcp {ip}:{PORT}: connect: connection refused"
    wait_message(agent, "tcp-restart", "app", "Unhealthy", refused)
    status = failed + "HTTP probe failed with statuscode: 500"
    wait_message(agent, "http-restart", "server", "Unhealthy", status)
    # The local redirect was followed to the failing /healthz.
    previous = logs(agent, "http-restart", "server", previous="true")
    assert "GET /healthz x-probe=None ua=kube-probe/1.32" in previous


def test_passing_liveness_and_failing_readiness_never_restart(agent: Agent) -> None:
    counted = exec_("sh", "-c", "cat /tmp/health && echo probed > /proc/1/fd/1")
    # Liveness waits for the server to listen (python3 starts slowly on a loaded machine).
    patient: dict[str, Any] = {"startupProbe": STARTED}
    agent.apply(
        pod(
            "keep",
            sh(
                "counter",
                "touch /tmp/health; exec sleep 600",
                livenessProbe=probe(counted, **SLOW_OK),
            ),
            server(livenessProbe=probe(tcp("http")), **patient),
            idle("web", livenessProbe=probe(http_get("/redirect?loc=http://0.0.0.0/")), **patient),
        )
    )
    agent.apply(pod("unready", idle("app", readinessProbe=probe(exec_("false"), **SLOW_OK))))
    wait_running(agent, "keep", "counter")
    agent.wait_for(
        lambda: logs(agent, "keep", "counter").count("probed") >= 8,
        30,
        why="eight passing exec liveness probes",
    )
    keep = agent.pod("keep")
    assert all(restarts(keep, c) == 0 for c in ("counter", "server", "web")), keep["status"]
    assert all(ready(keep, c) for c in ("counter", "server", "web"))
    assert not [e for e in agent.events("keep") if e["reason"] == "Killing"]
    assert event_count(agent, "keep", "counter", "Unhealthy") == 0
    assert not [e for e in agent.events("keep") if e["message"].startswith("Liveness probe f")]
    assert wait_events(agent, "keep", "web", "ProbeWarning") == {
        "Liveness probe warning: Probe terminated redirects, Response body: moved"
    }
    # Readiness failing: never ready, never restarted; `false` prints nothing.
    failed = wait_events(agent, "unready", "app", "Unhealthy", count=4)
    assert failed == {"Readiness probe failed: "}
    unready = agent.pod("unready")
    assert unready["status"]["phase"] == "Running"
    assert restarts(unready, "app") == 0 and not ready(unready, "app")
    assert condition(unready, "Ready")["status"] == "False"
    assert not _killing(agent, "unready", "app")


def test_startup_probe_gates_liveness_kills_and_readies(agent: Agent) -> None:
    late = "sleep 3; touch /tmp/startup; exec sleep 600"
    startup = probe(exec_("cat", "/tmp/startup"), failureThreshold=60, **SLOW_OK)
    never_live = probe(HEALTH, failureThreshold=1)
    agent.apply(pod("delayed", idle("app", startupProbe=startup, livenessProbe=never_live)))
    agent.apply(pod("enabled", sh("app", late, startupProbe=startup, livenessProbe=never_live)))
    failing = probe(exec_("cat", "/tmp/startup"), failureThreshold=2, **SLOW_OK)
    agent.apply(pod("startfail", idle("app", startupProbe=failing)))

    # Startup failing its threshold: killed and restarted.
    _restarted(agent, "startfail", "app")
    assert _killing(agent, "startfail", "app") == {
        "Container app failed startup probe, will be restarted"
    }
    # A startup probe that never passes keeps liveness from running at all. Twelve probes
    # also mean the agent has run longer than the readiness period below, so its worker
    # starts with no jitter (the kubelet's rule for a freshly started kubelet).
    wait_events(agent, "delayed", "app", "Unhealthy", "Startup probe failed: ", count=12)
    delayed = agent.pod("delayed")
    assert restarts(delayed, "app") == 0 and status_of(delayed, "app")["started"] is False
    assert event_count(agent, "delayed", "app", "Unhealthy", "Liveness") == 0
    assert not _killing(agent, "delayed", "app")

    # Ready soon after startup succeeds, though readiness only ticks every 12 s: the sync
    # that startup's success causes triggers a readiness probe at once.
    slow_ready = probe(exec_("true"), period=12, **SLOW_OK)
    agent.apply(pod("readied", sh("app", late, startupProbe=startup, readinessProbe=slow_ready)))
    readied = pod_when(
        agent, "readied", lambda p: condition(p, "Ready").get("status") == "True", 20, "ready"
    )
    started_at = at(status_of(readied, "app")["state"]["running"]["startedAt"])
    became_ready = (at(condition(readied, "Ready")["lastTransitionTime"]) - started_at).seconds
    assert 3 <= became_ready <= 7, became_ready
    # Liveness runs only once startup succeeded: then it fails and restarts the container.
    enabled = _restarted(agent, "enabled", "app")
    first = min(
        at(e["firstTimestamp"])
        for e in container_events(agent, "enabled", "app")
        if e["message"].startswith("Liveness probe failed")
    )
    assert restarts(enabled, "app") >= 1
    first_start = min(
        at(e["firstTimestamp"])
        for e in container_events(agent, "enabled", "app")
        if e["reason"] == "Started"
    )
    assert (first - first_start).total_seconds() >= 3


def test_restart_count_increases_monotonically(agent: Agent) -> None:
    agent.apply(pod("flap", idle("app", livenessProbe=probe(exec_("false"), failureThreshold=1))))
    seen: list[int] = []

    def third() -> bool:
        count = restarts(agent.pod("flap"), "app")
        if not seen or seen[-1] != count:
            seen.append(count)
        return count >= 3

    agent.wait_for(third, 60, why="three liveness restarts")
    assert seen == sorted(set(seen)), seen
    assert seen[-1] == 3 and {1, 2, 3} <= set(seen), seen


def test_probe_grace_period_and_restart_policy_never(agent: Agent) -> None:
    failing = {"failureThreshold": 1, "initialDelaySeconds": 1}
    agent.apply(
        pod(
            "graceful",
            {
                "name": "webapl",
                "image": WEBAPL,
                "env": FAILING_WEB,
                "livenessProbe": probe(
                    http_get("/healthz", 3000), terminationGracePeriodSeconds=2, **failing
                ),
            },
            terminationGracePeriodSeconds=30,
        )
    )
    agent.apply(
        pod(
            "never",
            {
                "name": "webapl",
                "image": WEBAPL,
                "env": FAILING_WEB,
                "livenessProbe": probe(http_get("/healthz", 3000), **failing),
            },
            restartPolicy="Never",
            terminationGracePeriodSeconds=2,
        )
    )
    # webapl ignores SIGTERM: the kill ends by SIGKILL after the probe's 2 s, not the pod's 30.
    restarted = _restarted(agent, "graceful", "webapl", timeout=20)
    killed = terminated(restarted, "webapl", last=True)
    assert killed is not None and (killed["exitCode"], killed["reason"]) == (137, "Error")
    killing = next(
        e for e in container_events(agent, "graceful", "webapl") if e["reason"] == "Killing"
    )
    assert killing["message"] == "Container webapl failed liveness probe, will be restarted"
    took = (at(killed["finishedAt"]) - at(killing["firstTimestamp"])).total_seconds()
    assert 1 <= took <= 4, took
    # Never: the pod is killed with the pod's grace, `Stopping container`, and ends Failed.
    failed = wait_phase(agent, "never", "Failed", timeout=30)
    assert _killing(agent, "never", "webapl") == {"Stopping container webapl"}
    done = terminated(failed, "webapl")
    assert done is not None and done["exitCode"] == 137
    assert restarts(failed, "webapl") == 0
