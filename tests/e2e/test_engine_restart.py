"""The engine itself restarts under a running node, as a service manager restarts it.

Each test has an engine of its own (tests/e2e/engines.py), so stopping it disturbs nothing
else on the machine. dockerd without live-restore stops its containers when it stops, and its
socket goes away mid-stream: the node goes NotReady ("container runtime is down") and keeps
running; when the engine is back the pod gets a new sandbox and its container is restarted,
RESTARTS up and the last state the dead container's, with nothing duplicated or orphaned.
Podman's service stops alone (its containers run on under conmon): the node adopts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.engines import PrivateEngine, private_engine
from tests.e2e.pods import engine_containers, pod, sh, status_of

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["docker", "podman"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PrivateEngine]:  # fmt: skip
    # a short path: UNIX socket paths stop at 107 bytes
    home = Path(tmp_path_factory.mktemp(f"eng-{request.param}", numbered=True))
    with private_engine(request.param, home) as started:
        monkeypatch.setenv("DOCKER_HOST", started.host)
        yield started


def _ready(node: dict[str, Any]) -> dict[str, Any]:
    conditions = (node.get("status") or {}).get("conditions") or []
    return next(c for c in conditions if c.get("type") == "Ready")


def test_the_node_survives_an_engine_restart(engine: PrivateEngine, agent: Agent) -> None:
    uid = agent.apply(pod("app", sh("app", "sleep 600")))["metadata"]["uid"]
    agent.wait_for(
        lambda: (status_of(agent.pod("app"), "app").get("state") or {}).get("running"),
        60,
        why="the pod running",
    )
    (node_name,) = [
        n["metadata"]["name"] for n in agent.api.request("GET", "/api/v1/nodes")["items"]
    ]
    engine.stop()
    ready = agent.wait_for(
        lambda: (
            (r := _ready(agent.api.request("GET", f"/api/v1/nodes/{node_name}")))["status"]
            == "False"
            and r
        ),
        60,
        why="the node NotReady",
    )
    assert ready["message"] == "container runtime is down"
    assert agent.process.poll() is None, "the agent died with its engine"
    engine.start()
    agent.wait_for(
        lambda: _ready(agent.api.request("GET", f"/api/v1/nodes/{node_name}"))["status"] == "True",
        60,
        why="the node Ready again",
    )
    status = agent.wait_for(
        lambda: (s := status_of(agent.pod("app"), "app")).get("ready") and s,
        90,
        why="the container running again",
    )
    running = engine_containers(agent, uid, all_=False)
    kinds = sorted(c.labels["io.kubernetes.container.name"] for c in running)
    assert kinds == ["POD", "app"], kinds  # one sandbox, one app container: nothing doubled
    if engine.kind == "docker":  # its containers stopped with it
        assert status["restartCount"] == 1
        assert "terminated" in status["lastState"]
    else:  # Podman's ran on without the service
        assert status["restartCount"] == 0
    assert agent.process.poll() is None
