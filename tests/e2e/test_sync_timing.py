"""The pod worker's timing on the real engine, as a 1.32 node shows it (issue 15).

- status before work (`kubelet.go` `SyncPod`): a pull that hangs already reads ContainerCreating;
- a failed sync retried after 10-15 s (`pod_workers.go` `completeWork`): the ImagePullBackOff
  cadence over two minutes, a missing image tagged on the node runs within 15 s;
- termination (`SyncTerminatingPod`): no liveness probe after a delete, readiness reaching the
  status during the grace period, a second delete with a shorter grace period ending it sooner.

The rules themselves are tested in virtual time in tests/node/test_pod_worker_rules.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import docker
import docker.errors
import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import (
    BASE,
    delete,
    engine_containers,
    find_event,
    pod,
    pod_when,
    sh,
    status_of,
    wait_running,
    waiting_reason,
)
from tests.e2e.registry import Silent

pytestmark = pytest.mark.e2e

UNREACHABLE = "127.0.0.1:5999/nothing:1"  # nothing listens there: each pull fails at once


def event_count(agent: Agent, name: str, reason: str, contains: str = "") -> int:
    return sum(
        int(e.get("count") or 1)
        for e in agent.events(name)
        if e.get("reason") == reason and contains in str(e.get("message", ""))
    )


def test_a_hanging_pull_already_reads_container_creating(agent: Agent, silent: Silent) -> None:
    image = f"{silent.host}/hangs:1"
    agent.apply(pod("hanging", {"name": "app", "image": image}))
    pulling = agent.wait_for(
        lambda: find_event(agent, "hanging", "Pulling"), 20, why="the Pulling event"
    )
    assert pulling["message"] == f'Pulling image "{image}"'
    current = pod_when(
        agent,
        "hanging",
        lambda p: waiting_reason(p, "app") == "ContainerCreating",
        5,
        "ContainerCreating while the pull hangs",
    )
    status = current["status"]
    assert status["phase"] == "Pending" and status["startTime"]
    assert {c["type"] for c in status["conditions"]} == {
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    }
    assert agent.wait_for(silent.connections, 10, why="the engine connected to the registry")
    assert find_event(agent, "hanging", "Failed") is None  # the pull still hangs


def test_image_pull_back_off_cadence_over_two_minutes(agent: Agent) -> None:
    """A sync every 10-15 s: a real pull (ErrImagePull) once the back-off (10 s, 20 s, 40 s…)
    has passed since the last one, else `Back-off pulling image` and ImagePullBackOff."""
    agent.apply(pod("cadence", {"name": "app", "image": UNREACHABLE}))
    agent.wait_for(
        lambda: find_event(agent, "cadence", "Failed", "Failed to pull image"),
        20,
        why="the first failed pull",
    )
    reasons: list[str | None] = []  # the pod's waiting reason at each poll (0.2 s)

    def sampled(condition: Callable[[], bool]) -> Callable[[], bool]:
        def check() -> bool:
            reasons.append(waiting_reason(agent.pod("cadence"), "app"))
            return condition()

        return check

    def pulls() -> int:
        return event_count(agent, "cadence", "Failed", "Failed to pull image")

    def backoffs() -> int:
        return event_count(agent, "cadence", "BackOff", f'Back-off pulling image "{UNREACHABLE}"')

    # real pulls at about 0, 10-15, 30-45 and 70-100 s; the fifth at least 150 s after the first
    agent.wait_for(sampled(lambda: pulls() >= 4), 110, why="the fourth real pull")
    after_fourth = backoffs()
    agent.wait_for(sampled(lambda: backoffs() >= after_fourth + 2), 35, why="two more retries")
    assert pulls() == 4
    assert event_count(agent, "cadence", "Failed", "Error: ErrImagePull") == 4
    assert backoffs() >= 5  # the retries between the real pulls: 1, then 2 or 3, then 2
    assert event_count(agent, "cadence", "Failed", "Error: ImagePullBackOff") == backoffs()
    assert reasons.count("ImagePullBackOff") > len(reasons) / 2
    # ErrImagePull after each real attempt, until the next sync 10-15 s later
    runs = [r for i, r in enumerate(reasons) if i == 0 or reasons[i - 1] != r]
    assert runs.count("ErrImagePull") >= 3, runs
    current = agent.pod("cadence")
    assert current["status"]["phase"] == "Pending"
    assert status_of(current, "app")["restartCount"] == 0


def test_a_missing_image_tagged_on_the_node_runs_within_fifteen_seconds(agent: Agent) -> None:
    """ErrImageNeverPull is a failed sync, retried 10-15 s later: no waiting for a resync."""
    tag = f"minikubelet/tagged-later-{uuid.uuid4().hex[:8]}:1"
    app = sh("app", "sleep 3600", image=tag, imagePullPolicy="Never")
    uid = agent.apply(pod("tagged", app))["metadata"]["uid"]
    pod_when(
        agent,
        "tagged",
        lambda p: waiting_reason(p, "app") == "ErrImageNeverPull",
        20,
        "ErrImageNeverPull",
    )
    client = docker.from_env()
    try:
        client.images.get(BASE).tag(tag)
        tagged = time.monotonic()
        found = agent.wait_for(
            lambda: find_event(agent, "tagged", "Pulled"), 20, why="the retry finding the image"
        )
        took = time.monotonic() - tagged
        assert took <= 16, took  # the next retry, 15 s at most, and the poll
        assert found["message"] == f'Container image "{tag}" already present on machine'
        wait_running(agent, "tagged", "app", 30)
        assert event_count(agent, "tagged", "ErrImageNeverPull") >= 2  # repeated each retry
    finally:
        try:
            delete(agent, "tagged", gracePeriodSeconds=0)
            agent.wait_for(lambda: not engine_containers(agent, uid), 20, why="its removal")
        finally:
            try:
                client.images.remove(tag)  # the tag only: the base image stays
            except docker.errors.APIError:
                pass
            client.close()


def _engine_exec(agent: Agent, uid: str, argv: list[str]) -> None:
    (app,) = [c for c in engine_containers(agent, uid, all_=False) if "app" in (c.name or "")]
    result = app.exec_run(argv)
    assert result.exit_code == 0, result.output


def test_a_deleted_pod_stops_liveness_reads_unready_and_a_shorter_delete_ends_it(
    agent: Agent,
) -> None:
    """Deleted with a 30 s grace period (the app ignores SIGTERM, as webapl does): the liveness
    probe stops before the kill, the readiness probe goes on and its failure reads 0/1 within
    a probe period; a second delete with `--grace-period=1` ends the stop in about 2 s."""

    def probe(path: str) -> dict[str, Any]:
        return {"exec": {"command": ["cat", path]}, "periodSeconds": 1, "failureThreshold": 1}

    script = "touch /tmp/alive /tmp/ready; trap '' TERM; while true; do sleep 1; done"
    app = sh("app", script, livenessProbe=probe("/tmp/alive"), readinessProbe=probe("/tmp/ready"))
    created = agent.apply(pod("leaving", app, terminationGracePeriodSeconds=30))
    uid = created["metadata"]["uid"]
    pod_when(agent, "leaving", lambda p: status_of(p, "app").get("ready") is True, 30, "Ready")
    delete(agent, "leaving", gracePeriodSeconds=30)
    agent.wait_for(lambda: find_event(agent, "leaving", "Killing"), 10, why="Killing")
    _engine_exec(agent, uid, ["rm", "/tmp/alive", "/tmp/ready"])
    removed = time.monotonic()
    pod_when(
        agent,
        "leaving",
        lambda p: status_of(p, "app").get("ready") is False,
        5,
        "0/1 during the grace period",
    )
    assert time.monotonic() - removed <= 3  # a probe period, the probe and the status poll
    ready = {c["type"]: c["status"] for c in agent.pod("leaving")["status"]["conditions"]}
    assert ready["Ready"] == "False"
    # three failed readiness probes: liveness, at the same period, would have failed by now
    agent.wait_for(
        lambda: event_count(agent, "leaving", "Unhealthy", "Readiness probe failed") >= 3,
        10,
        why="readiness failing on",
    )
    assert find_event(agent, "leaving", "Unhealthy", "Liveness") is None
    assert not agent.gone("leaving")  # its 30 s grace period runs on
    delete(agent, "leaving", gracePeriodSeconds=1)
    shortened = time.monotonic()
    agent.wait_for(lambda: agent.gone("leaving"), 15, why="the shortened stop")
    assert time.monotonic() - shortened <= 8
    assert event_count(agent, "leaving", "Killing", "Stopping container app") == 2
