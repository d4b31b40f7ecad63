"""Sidecars on the real engine, with manifests/examples/sidecar-containers.yaml: the sidecar
starts first and gates the app on its startup probe, runs beside it (READY 2/2), is restarted
on its own when it dies, and is stopped only after the app when the pod is deleted."""

from __future__ import annotations

import docker
import pytest

from minikubelet.clock import RealClock, poll
from minikubelet.printers.pods import pod_row
from tests.e2e.conftest import Agent
from tests.e2e.pods import delete, engine_containers, status_of
from tests.e2e.test_examples import apply_example, log_text

pytestmark = pytest.mark.e2e

POD = "log-shipper"


def row(agent: Agent) -> list[str]:
    """READY, STATUS, RESTARTS as `get pods` prints them."""
    return pod_row(agent.pod(POD), RealClock().utcnow())[1:4]


def event_order(agent: Agent) -> list[str]:
    """`Started` events in the order the node recorded them."""
    found = [e for e in agent.events(POD) if e.get("reason") == "Started"]
    found.sort(key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"])))
    return [e["message"] for e in found]


def test_a_sidecar_beside_its_app(agent: Agent) -> None:
    created = apply_example(agent, "sidecar-containers.yaml")
    agent.wait_for(lambda: row(agent)[:2] == ["2/2", "Running"], 60, "2/2 Running")
    assert event_order(agent) == ["Started container shipper", "Started container app"]
    pod = agent.pod(POD)
    shipper = status_of(pod, "shipper", init=True)
    assert shipper["started"] is True and shipper["ready"] is True
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["Initialized"] == conditions["Ready"] == "True"
    agent.wait_for(lambda: "request 2" in log_text(agent, POD, "shipper"), 30, "shipped lines")

    # the sidecar dies: restarted on its own, the app untouched
    app_id = status_of(pod, "app")["containerID"]
    client = docker.from_env()
    try:
        client.containers.get(shipper["containerID"].split("//")[1]).kill()
    finally:
        client.close()
    agent.wait_for(
        lambda: (
            status_of(agent.pod(POD), "shipper", init=True).get("restartCount") == 1
            and row(agent)[:2] == ["2/2", "Running"]
        ),
        60,
        "the sidecar restarted",
    )
    assert status_of(agent.pod(POD), "app")["containerID"] == app_id
    assert row(agent)[2].startswith("1 (")

    # deletion: the app (2 s to stop) first, the sidecar after it
    uid = created["metadata"]["uid"]
    delete(agent, POD)
    seen: list[tuple[str, str]] = []

    def states() -> bool:
        newest: dict[str, tuple[int, str]] = {}  # name -> (attempt, status) of its newest
        for c in engine_containers(agent, uid):
            name = c.labels.get("io.kubernetes.container.name", "")
            attempt = int(c.labels.get("annotation.io.kubernetes.container.restartCount", 0))
            if attempt >= newest.get(name, (-1, ""))[0]:
                newest[name] = (attempt, c.status)
        seen.append((newest.get("app", (0, "gone"))[1], newest.get("shipper", (0, "gone"))[1]))
        return not newest

    assert poll(states, 60, 0.1), "the pod's containers were not removed"
    assert ("exited", "running") in seen  # the app ended while the sidecar still ran
    assert ("running", "exited") not in seen
    assert agent.wait_for(lambda: agent.gone(POD), 30, "pod gone")
