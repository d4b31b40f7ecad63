"""Probe handlers on the real engine: exec, tcpSocket and httpGet, each passing, failing and
timing out, with the kubelet's messages. Readiness probes are used so that nothing restarts:
what the handler decided shows in `ready` and in the `Unhealthy`/`ProbeWarning` events.

gRPC is not tested here: the debian-base image has no grpc module to serve the health
protocol; `tests/prober/test_grpc.py` covers the handler against an in-process server.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import container_processes, logs, pod, pod_when, sh, status_of
from tests.e2e.probing import (
    PORT,
    condition,
    exec_,
    http_get,
    idle,
    probe,
    ready,
    server,
    tcp,
    wait_events,
    wait_message,
)

pytestmark = pytest.mark.e2e

FAILED = "Readiness probe failed: "


def test_exec_probe_passes_fails_and_times_out(agent: Agent) -> None:
    check = probe(exec_("cat", "/tmp/health"), timeoutSeconds=5)  # a loaded engine is slow
    agent.apply(
        pod(
            "execs",
            sh("ok", "touch /tmp/health; exec sleep 600", readinessProbe=check),
            idle("bad", readinessProbe=check),
            idle("slow", readinessProbe=probe(exec_("sh", "-c", "sleep 5"), timeoutSeconds=1)),
        )
    )
    bad = wait_events(agent, "execs", "bad", "Unhealthy", FAILED, count=2)
    assert bad == {FAILED + "cat: /tmp/health: No such file or directory\n"}
    slow = wait_events(agent, "execs", "slow", "Unhealthy", FAILED, count=3)
    assert slow == {FAILED + 'command "sh -c sleep 5" timed out'}
    now = pod_when(agent, "execs", lambda p: ready(p, "ok"), 20, "exec probe passing")
    assert not ready(now, "bad") and not ready(now, "slow")
    assert condition(now, "Ready")["status"] == "False"
    assert condition(now, "ContainersReady")["message"] == (
        "containers with unready status: [bad slow]"
    )
    # A timed-out exec is killed, not left running: at most the current attempt's `sleep 5`.
    # Read from the host's /proc by cgroup: Podman 4.3's compatible `top` answers nothing.
    processes = container_processes(status_of(now, "slow")["containerID"].split("://")[-1])
    sleeping = [p for p in processes if "sleep 5" in p]
    assert len(sleeping) <= 1, processes


def test_tcp_probe_by_number_and_name_refused_and_timeout(agent: Agent) -> None:
    agent.apply(
        pod(
            "tcps",
            server(readinessProbe=probe(tcp("http"))),
            idle("number", readinessProbe=probe(tcp(PORT))),
            idle("refused", readinessProbe=probe(tcp(PORT + 1))),
        )
    )
    up = pod_when(
        agent,
        "tcps",
        lambda p: ready(p, "server") and ready(p, "number"),
        30,
        "tcp probes by name and by number passing",
    )
    ip = up["status"]["podIP"]
    refused = wait_events(agent, "tcps", "refused", "Unhealthy", FAILED, count=2)
    assert refused == {f"{FAILED}dial tcp {ip}:{PORT + 1}: connect: connection refused"}
    assert not ready(agent.pod("tcps"), "refused")
    # An address on the pod bridge where nothing answers ARP: the connect hangs past the timeout.
    silent = ".".join([*ip.split(".")[:3], "250"])
    agent.apply(
        pod("tcp-silent", idle("app", readinessProbe=probe(tcp(80, host=silent), period=2)))
    )
    timeout = wait_events(agent, "tcp-silent", "app", "Unhealthy", FAILED, count=2)
    assert timeout == {f"{FAILED}dial tcp {silent}:80: i/o timeout"}


def test_http_probe_path_headers_redirects_and_timeout(agent: Agent) -> None:
    def get(path: str, tag: str, **fields: int) -> dict[str, object]:
        headers = [{"name": "x-probe", "value": tag}]
        return probe(http_get(path, httpHeaders=headers), **fields)

    agent.apply(
        pod(
            "https",
            server(readinessProbe=get("/ok", "hello")),
            idle("fail", readinessProbe=get("/fail", "fail")),
            idle("slow", readinessProbe=get("/slow", "slow", timeoutSeconds=1, period=2)),
            idle("local", readinessProbe=get("/redirect?loc=/ok", "local")),
            idle("local-fail", readinessProbe=get("/redirect?loc=/fail", "local-fail")),
            idle("away", readinessProbe=get("/redirect?loc=http://0.0.0.0/", "away")),
        )
    )
    up = pod_when(
        agent,
        "https",
        lambda p: all(ready(p, c) for c in ("server", "local", "away")),
        30,
        "http probes passing (a cross-host redirect is a success)",
    )
    ip = up["status"]["podIP"]
    served = logs(agent, "https", "server")
    assert "GET /ok x-probe=hello ua=kube-probe/1.32" in served
    # The same-host redirect was followed, with the probe's headers.
    assert "GET /redirect x-probe=local ua=kube-probe/1.32" in served
    assert "GET /ok x-probe=local ua=kube-probe/1.32" in served
    warning = wait_events(agent, "https", "away", "ProbeWarning")
    assert warning == {"Readiness probe warning: Probe terminated redirects, Response body: moved"}
    status = f"{FAILED}HTTP probe failed with statuscode: 500"
    wait_message(agent, "https", "fail", "Unhealthy", status, count=2)
    wait_message(agent, "https", "local-fail", "Unhealthy", status, count=2)
    wait_message(
        agent,
        "https",
        "slow",
        "Unhealthy",
        f'{FAILED}Get "http://{ip}:{PORT}/slow": context deadline exceeded'
        " (Client.Timeout exceeded while awaiting headers)",
        count=2,
    )
    now = agent.pod("https")
    assert not any(ready(now, c) for c in ("fail", "local-fail", "slow"))
    assert all(status_of(now, c)["restartCount"] == 0 for c in ("fail", "slow"))
