"""The agent on the real engine: the smallest complete pod lifecycle."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Agent

pytestmark = pytest.mark.e2e


def test_pod_runs_and_is_deleted(agent: Agent) -> None:
    agent.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "hello"},
            "spec": {
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "app",
                        "image": "webapl:0.1",
                        "env": [{"name": "WEBAPL_READY_AFTER", "value": "0"}],
                    }
                ],
            },
        }
    )
    running = agent.wait_for(
        lambda: (p := agent.pod("hello"))["status"].get("phase") == "Running" and p,
        why="pod hello Running",
    )
    assert running["spec"]["nodeName"] == "e2e-node"
    assert running["status"]["podIP"].startswith("10.")
    agent.api.request("DELETE", "/api/v1/namespaces/default/pods/hello")
    agent.wait_for(lambda: agent.gone("hello"), why="pod hello gone")
