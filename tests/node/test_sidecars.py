"""Sidecars (init containers with `restartPolicy: Always`) through the whole node, in virtual
time on the in-memory runtime: start order and the startup-probe gate
(`computeInitContainerActions`), restarts with back-off beside the app, READY `2/2`, the stop
order (`kuberuntime_termination_order.go`) and a completed pod's end (`computePodActions`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from minikubelet.printers.pods import pod_row
from minikubelet.runtime.types import ExecResult, InstanceState
from tests.node.test_manager import IMAGE, Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, used here by name

pytestmark = pytest.mark.anyio


def sidecar(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": IMAGE, "restartPolicy": "Always", **fields}


def init_status(h: Harness, pod: str, name: str) -> dict[str, Any]:
    found = h.pod(pod).get("status", {}).get("initContainerStatuses") or []
    return next((s for s in found if s["name"] == name), {})


def condition(h: Harness, pod: str, kind: str) -> dict[str, Any]:
    found = h.pod(pod).get("status", {}).get("conditions") or []
    return next((c for c in found if c["type"] == kind), {})


def replaced(h: Harness, name: str, old: str) -> Callable[[], bool]:
    return lambda: bool(h.running(name)) and h.running(name) != [old]


def started_order(h: Harness) -> list[str]:
    return [e["message"].removeprefix("Started container ") for e in h.events("Started")]


async def test_a_sidecar_runs_beside_the_app_and_counts_in_ready(harness: Harness) -> None:
    harness.apply("web", initContainers=[sidecar("proxy")])
    await harness.until(lambda: harness.status("web").get("ready") is True)
    assert started_order(harness) == ["proxy", "app"]
    proxy = init_status(harness, "web", "proxy")
    assert proxy["state"]["running"] and proxy["started"] is True and proxy["ready"] is True
    assert condition(harness, "web", "Initialized")["status"] == "True"
    assert condition(harness, "web", "Ready")["status"] == "True"
    pod = harness.pod("web")
    assert pod["status"]["phase"] == "Running"
    assert pod_row(pod, harness.clock.utcnow())[1:4] == ["2/2", "Running", "0"]


async def test_the_next_container_waits_for_the_sidecar_startup_probe(harness: Harness) -> None:
    harness.runtime.set_exec(["ready?"], ExecResult(exit_code=1))
    probe = {"exec": {"command": ["ready?"]}, "periodSeconds": 1, "failureThreshold": 60}
    harness.apply("web", initContainers=[sidecar("proxy", startupProbe=probe)])
    await harness.until(lambda: harness.running("proxy"))
    for _ in range(10):  # 5 s of failing startup probes: the app is not created
        await harness.clock.advance(0.5)
        await harness.settle()
    assert not harness.running("app") and started_order(harness) == ["proxy"]
    pod = harness.pod("web")
    assert pod_row(pod, harness.clock.utcnow())[1:3] == ["0/2", "Init:0/1"]
    assert condition(harness, "web", "Initialized")["message"] == (
        "containers with incomplete status: [proxy]"
    )
    harness.runtime.set_exec(["ready?"], ExecResult(exit_code=0))
    await harness.until(lambda: harness.running("app"), within=5)
    assert started_order(harness) == ["proxy", "app"]
    await harness.until(lambda: condition(harness, "web", "Ready").get("status") == "True")


async def test_a_sidecar_restarts_with_back_off_and_the_app_stays(harness: Harness) -> None:
    harness.apply("web", restartPolicy="Never", initContainers=[sidecar("proxy")])
    await harness.until(lambda: harness.running("app"))
    (app,) = harness.running("app")
    gaps = []
    for _ in range(3):  # restarted at once, then after 10 s, then after 20 s; even under Never
        (current,) = harness.running("proxy")
        crashed = harness.clock.monotonic()
        harness.runtime.exit_container(current, 1)
        await harness.until(replaced(harness, "proxy", current))
        gaps.append(harness.clock.monotonic() - crashed)
    assert gaps[0] == 0 and 10 <= gaps[1] <= 10.5 and 20 <= gaps[2] <= 20.5
    assert harness.running("app") == [app]
    assert init_status(harness, "web", "proxy")["restartCount"] == 3
    assert harness.events("BackOff")[0]["message"].startswith(
        "Back-off restarting failed container proxy in pod "
    )
    row = pod_row(harness.pod("web"), harness.clock.utcnow())
    assert row[1:3] == ["2/2", "Running"] and row[3].startswith("3 (")


async def test_deletion_stops_the_app_first_then_sidecars_in_reverse(harness: Harness) -> None:
    harness.apply(
        "web",
        terminationGracePeriodSeconds=30,
        initContainers=[sidecar("first"), sidecar("second")],
    )
    await harness.until(lambda: harness.running("app"))
    (app,) = harness.running("app")
    names = {cid: c.info.name for cid, c in harness.runtime.containers.items()}
    harness.runtime.ignore_sigterm(app)  # the app takes 4 s to go after its SIGTERM
    body = harness.pod("web")
    body["metadata"]["deletionTimestamp"] = body["metadata"]["creationTimestamp"]
    body["metadata"]["deletionGracePeriodSeconds"] = 30
    harness.store.update("Pod", body, expected_rv=None)
    await harness.settle()
    deleted = harness.clock.monotonic()
    stops = [args[0] for method, args in harness.runtime.calls if method == "stop_container"]
    assert stops == [app]  # the sidecars wait for the app
    await harness.clock.advance(4)
    harness.runtime.exit_container(app, 0)
    await harness.until(lambda: not harness.runtime.containers, within=10)
    order = [
        (names[args[0]], args[1])
        for method, args in harness.runtime.calls
        if method == "stop_container" and args[0] in names
    ]
    assert [name for name, _ in order] == ["app", "second", "first"]
    # the app gets the whole grace; "second" what is left after its 4 s wait for its turn
    assert order[0][1] == 30 and order[1][1] == 26
    assert harness.clock.monotonic() - deleted < 10
    messages = sorted(e["message"] for e in harness.events("Killing"))
    assert messages == [
        "Stopping container app",
        "Stopping container first",
        "Stopping container second",
    ]


async def test_a_completed_app_ends_the_pod_and_its_sidecar(harness: Harness) -> None:
    harness.apply("job", restartPolicy="Never", initContainers=[sidecar("proxy")])
    await harness.until(lambda: harness.running("app"))
    (app,) = harness.running("app")
    harness.runtime.exit_container(app, 0)
    await harness.until(lambda: harness.pod("job")["status"]["phase"] == "Succeeded")
    assert not harness.running("proxy")
    proxy = init_status(harness, "job", "proxy")
    assert proxy["state"]["terminated"]["exitCode"] == 143  # killed, still Succeeded
    await harness.clock.advance(120)  # resyncs: the sidecar is not started again
    await harness.settle()
    assert not harness.running("proxy")
    assert init_status(harness, "job", "proxy")["restartCount"] == 0
    states = {c.info.state for c in harness.runtime.containers.values()}
    assert InstanceState.RUNNING not in states  # the sandbox stopped too
