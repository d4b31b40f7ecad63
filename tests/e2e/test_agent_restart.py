"""An agent killed with SIGKILL mid-apply and started again loses nothing and duplicates nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import engine_containers, pod, sh, status_of

pytestmark = pytest.mark.e2e

NAMES = [f"p{i}" for i in range(4)]


def _all_running(agent: Agent) -> bool:
    for name in NAMES:
        state = status_of(agent.pod(name), "app").get("state") or {}
        if not state.get("running"):
            return False
    return True


def test_agent_killed_mid_apply_and_restarted(agent: Agent) -> None:
    uids = {}
    for name in NAMES[:2]:
        uids[name] = agent.apply(pod(name, sh("app", "sleep 600")))["metadata"]["uid"]
    # one pod with a restart behind it, to check that restart counts survive
    uids["crashy"] = agent.apply(pod("crashy", sh("app", "sleep 2; exit 1")))["metadata"]["uid"]
    counted = agent.wait_for(
        lambda: status_of(agent.pod("crashy"), "app").get("restartCount", 0),
        20,
        why="crashy restarted once",
    )
    for name in NAMES[2:]:
        uids[name] = agent.apply(pod(name, sh("app", "sleep 600")))["metadata"]["uid"]
    agent.kill()  # while the last pods are being started
    agent.start()
    agent.wait_for(lambda: _all_running(agent), 40, why="every pod running after the restart")
    crashy = status_of(agent.pod("crashy"), "app")
    assert crashy["restartCount"] >= counted
    for name in NAMES:
        assert status_of(agent.pod(name), "app")["restartCount"] == 0
    for name, uid in uids.items():
        running = [c for c in engine_containers(agent, uid, all_=False)]
        kinds = Counter(c.labels["io.kubernetes.container.name"] for c in running)
        if name != "crashy":
            assert kinds == {"POD": 1, "app": 1}, (name, kinds)
        else:
            assert kinds["POD"] == 1 and kinds["app"] <= 1, kinds
        sandboxes = [
            c
            for c in engine_containers(agent, uid)
            if c.labels.get("io.kubernetes.docker.type") == "podsandbox"
        ]
        assert len(sandboxes) == 1, (name, [s.name for s in sandboxes])
