"""Restarts on the real engine: CrashLoopBackOff's growing gaps, and containers killed or
removed behind the agent's back."""

from __future__ import annotations

import time
from datetime import datetime

import docker
import pytest

from minikubelet.errors import BadRequest
from tests.e2e.conftest import Agent
from tests.e2e.engines import sandboxes_last
from tests.e2e.pods import (
    PodWatch,
    engine_containers,
    find_event,
    logs,
    pod,
    sh,
    status_of,
    wait_running,
)

pytestmark = pytest.mark.e2e


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_crash_loop_back_off_grows(agent: Agent) -> None:
    """Runs at t0, t1 (at once), t2 (≈10 s after the 2nd exit), t3 (≈20 s after the 3rd)."""
    created = agent.apply(pod("crash", sh("app", "echo boom; exit 1")))
    uid = created["metadata"]["uid"]
    # Every version of the pod: the first run shows only while the second (0.1 s long) runs
    # and until its back-off is written, which polling can miss on a busy machine.
    watch = PodWatch(agent, "crash", created["metadata"]["resourceVersion"])
    runs: dict[str, tuple[datetime, datetime]] = {}  # containerID → (startedAt, finishedAt)
    messages: set[str] = set()

    def four_runs() -> bool:
        for _, version in list(watch.seen):
            status = status_of(version, "app")
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "CrashLoopBackOff":
                messages.add(waiting["message"])
            for key in ("state", "lastState"):
                done = (status.get(key) or {}).get("terminated")
                if done:
                    runs[done["containerID"]] = (_at(done["startedAt"]), _at(done["finishedAt"]))
        return len(runs) >= 4

    # ~32 s on a quiet machine (0 + 10 + 20 s of back-off); the deadline leaves room for load
    agent.wait_for(four_runs, 120, why="four runs of a crashing container")
    ordered = sorted(runs.values())
    gaps = [(b[0] - a[1]).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False)]
    assert gaps[0] <= 2, gaps  # the first crash restarts at once (whole-second timestamps)
    assert gaps[1] >= 9, gaps
    assert gaps[2] >= 18 and gaps[2] >= gaps[1], gaps
    assert gaps[1] <= 13 and gaps[2] <= 24, gaps
    prefix = "back-off {} restarting failed container=app pod=crash_default(" + uid + ")"
    assert prefix.format("10s") in messages
    backoff = find_event(agent, "crash", "BackOff")
    assert backoff is not None and backoff["type"] == "Warning"
    assert backoff["message"] == (
        f"Back-off restarting failed container app in pod crash_default({uid})"
    )
    assert backoff["involvedObject"]["fieldPath"] == "spec.containers{app}"
    crashing = agent.pod("crash")
    assert crashing["status"]["phase"] == "Running"

    def previous() -> str | None:
        try:  # the status may name an instance the agent's GC has just removed: ask again
            return logs(agent, "crash", "app", previous="true")
        except BadRequest:
            return None

    assert agent.wait_for(previous, 10, why="previous logs") == "boom\n"


def test_container_killed_behind_the_agents_back_is_restarted(agent: Agent) -> None:
    agent.apply(pod("victim", sh("app", "sleep 600")))
    running = wait_running(agent, "victim", "app")
    old = status_of(running, "app")["containerID"].removeprefix("docker://")
    client = docker.from_env()
    try:
        client.containers.get(old).kill()
    finally:
        client.close()
    killed = time.monotonic()
    again = agent.wait_for(
        lambda: (
            (p := agent.pod("victim"))
            and status_of(p, "app")["restartCount"] == 1
            and (status_of(p, "app").get("state") or {}).get("running")
            and p
        ),
        10,
        why="restart after docker kill",
    )
    assert time.monotonic() - killed < 5
    last = status_of(again, "app")["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "Error")


def test_containers_removed_behind_the_agents_back_are_recreated(agent: Agent) -> None:
    uid = agent.apply(pod("gone", sh("app", "sleep 600")))["metadata"]["uid"]
    wait_running(agent, "gone", "app")
    for container in sandboxes_last(engine_containers(agent, uid)):
        container.remove(force=True)
    agent.wait_for(
        lambda: (
            (status_of(agent.pod("gone"), "app").get("state") or {}).get("running")
            and len(engine_containers(agent, uid, all_=False)) == 2
        ),
        25,
        why="sandbox and container recreated",
    )
    assert agent.pod("gone")["status"]["phase"] == "Running"
