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


async def test_a_client_that_overwrites_the_kubelets_conditions_again_is_repaired(
    harness: Harness,
) -> None:
    """A merge patch replaces the whole list: the node writes its own conditions back, also
    when the same patch comes twice (the second changes nothing the node saw last)."""
    harness.apply("gated", readinessGates=[{"conditionType": GATE}])
    await harness.until(lambda: "ContainersReady" in conditions(harness, "gated"))
    for _ in range(2):
        set_gate(harness, "gated", "True")
        await harness.until(lambda: len(conditions(harness, "gated")) == 6, within=5)
    assert conditions(harness, "gated")["Ready"]["status"] == "True"


async def test_a_condition_the_client_removed_stays_removed(harness: Harness) -> None:
    harness.apply("gated", readinessGates=[{"conditionType": GATE}])
    await harness.until(lambda: "ContainersReady" in conditions(harness, "gated"))
    set_gate(harness, "gated", "True")
    await harness.until(lambda: conditions(harness, "gated")["Ready"]["status"] == "True")
    # the client removes it while a sync that read the pod before is under way
    original = harness.node.observe

    async def observe_then_remove(uid: str) -> Any:
        observed = await original(uid)
        body = harness.pod("gated")
        body["status"]["conditions"] = [
            c for c in body["status"]["conditions"] if c["type"] != GATE
        ]
        harness.store.update_status("Pod", "default", "gated", body["status"])
        harness.node.observe = original  # type: ignore[method-assign]
        return observed

    harness.node.observe = observe_then_remove  # type: ignore[method-assign]
    (app,) = harness.running()
    harness.runtime.exit_container(app, 1)  # something for that sync to write
    await harness.until(lambda: harness.node.observe is original, within=30)
    await harness.clock.advance(30)
    await harness.settle()
    found = conditions(harness, "gated")
    assert GATE not in found
    assert found["Ready"]["status"] == "False"
