"""`activeDeadlineSeconds` through the whole node, in virtual time (`active_deadline.go`):
counted from startTime, the pod is killed and fails with DeadlineExceeded."""

from __future__ import annotations

import pytest

from minikubelet.printers.pods import pod_row
from tests.node.test_manager import Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, used here by name

pytestmark = pytest.mark.anyio


async def test_the_pod_fails_at_its_deadline(harness: Harness) -> None:
    harness.apply("job", activeDeadlineSeconds=10)
    await harness.until(lambda: harness.running())
    started = harness.clock.monotonic()
    await harness.until(lambda: harness.events("DeadlineExceeded"), step=0.25, within=15)
    assert 10 <= harness.clock.monotonic() - started <= 10.5
    (event,) = harness.events("DeadlineExceeded")
    assert (event["type"], event["message"]) == (
        "Normal",
        "Pod was active on the node longer than the specified deadline",
    )
    await harness.until(lambda: harness.pod("job")["status"]["phase"] == "Failed", within=10)
    status = harness.pod("job")["status"]
    assert (status["reason"], status["message"]) == (
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )
    assert [e["message"] for e in harness.events("Killing")] == ["Stopping container app"]
    # printPod: the killed container's `Error` overrides the pod's reason in STATUS
    assert pod_row(harness.pod("job"), harness.clock.utcnow())[2] == "Error"
    await harness.clock.advance(120)  # resyncs: nothing restarts
    await harness.settle()
    assert not harness.running()
    assert harness.pod("job")["status"]["reason"] == "DeadlineExceeded"
