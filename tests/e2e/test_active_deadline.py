"""activeDeadlineSeconds on the real engine, with manifests/examples/active-deadline.yaml."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import find_event, wait_phase
from tests.e2e.test_examples import apply_example

pytestmark = pytest.mark.e2e

MESSAGE = "Pod was active on the node longer than the specified deadline"


def test_the_pod_fails_past_its_deadline(agent: Agent) -> None:
    apply_example(agent, "active-deadline.yaml")
    pod = wait_phase(agent, "deadline", "Failed", 60)
    assert (pod["status"]["reason"], pod["status"]["message"]) == ("DeadlineExceeded", MESSAGE)
    event = find_event(agent, "deadline", "DeadlineExceeded", MESSAGE)
    assert event is not None and event["type"] == "Normal"
    assert find_event(agent, "deadline", "Killing", "Stopping container app")
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 0 and status["state"]["terminated"]
