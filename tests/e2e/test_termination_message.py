"""Termination messages on the real engine, with manifests/examples/termination-message.yaml:
the file the node mounts at /dev/termination-log, and the log's tail under
FallbackToLogsOnError, in `state.terminated.message` and `describe`."""

from __future__ import annotations

import re

import pytest

from minikubelet.clock import RealClock
from minikubelet.printers.describe import describe_pod
from tests.e2e.conftest import Agent
from tests.e2e.pods import status_of, wait_phase
from tests.e2e.test_examples import apply_example

pytestmark = pytest.mark.e2e


def test_termination_messages(agent: Agent) -> None:
    apply_example(agent, "termination-message.yaml")
    pod = wait_phase(agent, "last-words", "Failed", 60)
    writer = status_of(pod, "writer")["state"]["terminated"]
    assert (writer["exitCode"], writer["message"]) == (1, "config file /etc/app.conf not found\n")
    crasher = status_of(pod, "crasher")["state"]["terminated"]
    assert crasher["exitCode"] == 2
    assert crasher["message"] == "starting\npanic: out of cheese\n"
    text = describe_pod(pod, agent.events("last-words"), RealClock().utcnow(), tz=None)
    assert re.search(r"\n +Message: +config file /etc/app.conf not found\n", text), text
