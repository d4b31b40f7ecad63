"""Readiness gates through the whole node, in virtual time: Ready waits for the gate's
condition, which a client sets on `pods/status`; the kubelet keeps it and syncs at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node.test_manager import Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, used here by name

pytestmark = pytest.mark.anyio

GATE = "example.com/feature-1"


def conditions(harness: Harness, name: str) -> dict[str, dict[str, Any]]:
    found = harness.pod(name).get("status", {}).get("conditions") or []
    return {c["type"]: c for c in found}


def set_gate(harness: Harness, name: str, status: str) -> None:
    """What `kubectl patch --subresource=status` stores: the client's list of conditions."""
    body = harness.pod(name)
    body["status"]["conditions"] = [{"type": GATE, "status": status}]
    harness.store.update_status("Pod", "default", name, body["status"])


async def test_ready_follows_the_gates_condition(harness: Harness) -> None:
    harness.apply("gated", readinessGates=[{"conditionType": GATE}])
    await harness.until(
        lambda: conditions(harness, "gated").get("ContainersReady", {}).get("status") == "True"
    )
    ready = conditions(harness, "gated")["Ready"]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "ReadinessGatesNotReady",
        f'corresponding condition of pod readiness gate "{GATE}" does not exist.',
    )
    set_gate(harness, "gated", "True")
    await harness.settle()  # a pod event, not a resync: no virtual time passes
    found = conditions(harness, "gated")
    assert found["Ready"]["status"] == "True"
    assert found[GATE]["status"] == "True"  # kept, first, as the kubelet keeps it
    assert next(iter(found)) == GATE
    set_gate(harness, "gated", "False")
    await harness.settle()
    ready = conditions(harness, "gated")["Ready"]
    assert (ready["status"], ready["message"]) == (
        "False",
        f'the status of pod readiness gate "{GATE}" is not "True", but False',
    )
    await harness.clock.advance(120)  # the kubelet's own writes keep the client's condition
    await harness.settle()
    assert conditions(harness, "gated")[GATE]["status"] == "False"
