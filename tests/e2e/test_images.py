"""Image pull policies on the real engine, with the kubelet's reasons and events.

Nothing is pulled from the internet: a failing pull asks a loopback registry where nothing
listens."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import find_event, pod, pod_when, sh, status_of, waiting_reason

pytestmark = pytest.mark.e2e

MISSING = "minikubelet/not-here:1"
UNREACHABLE = "127.0.0.1:5999/nothing:1"


def test_never_pull_of_a_missing_image(agent: Agent) -> None:
    agent.apply(pod("neverpull", sh("app", "true", image=MISSING, imagePullPolicy="Never")))
    waiting = pod_when(
        agent,
        "neverpull",
        lambda p: waiting_reason(p, "app") == "ErrImageNeverPull",
        20,
        "ErrImageNeverPull",
    )
    message = f'Container image "{MISSING}" is not present with pull policy of Never'
    assert status_of(waiting, "app")["state"]["waiting"]["message"] == message
    assert waiting["status"]["phase"] == "Pending"
    event = find_event(agent, "neverpull", "ErrImageNeverPull")
    assert event is not None and (event["type"], event["message"]) == ("Warning", message)
    assert event["involvedObject"]["fieldPath"] == "spec.containers{app}"
    failed = find_event(agent, "neverpull", "Failed")
    assert failed is not None and failed["message"] == "Error: ErrImageNeverPull"


def test_failing_pull_then_back_off(agent: Agent) -> None:
    agent.apply(pod("badpull", sh("app", "true", image=UNREACHABLE)))
    seen: set[str] = set()

    def both() -> bool:
        reason = waiting_reason(agent.pod("badpull"), "app")
        if reason:
            seen.add(reason)
        return {"ErrImagePull", "ImagePullBackOff"} <= seen

    agent.wait_for(both, 30, why="ErrImagePull then ImagePullBackOff")
    current = agent.pod("badpull")
    assert current["status"]["phase"] == "Pending"
    assert status_of(current, "app")["restartCount"] == 0
    pulling = find_event(agent, "badpull", "Pulling")
    assert pulling is not None and pulling["message"] == f'Pulling image "{UNREACHABLE}"'
    failed = find_event(agent, "badpull", "Failed", f'Failed to pull image "{UNREACHABLE}": ')
    assert failed is not None and failed["type"] == "Warning"
    assert len(failed["message"]) > len(f'Failed to pull image "{UNREACHABLE}": ')
    error = find_event(agent, "badpull", "Failed", "Error: ErrImagePull")
    assert error is not None and error["message"] == "Error: ErrImagePull"
    backoff = agent.wait_for(
        lambda: find_event(agent, "badpull", "BackOff"), 20, why="pull BackOff event"
    )
    assert (backoff["type"], backoff["message"]) == (
        "Normal",
        f'Back-off pulling image "{UNREACHABLE}"',
    )
