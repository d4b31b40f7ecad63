"""Why a container was killed, restarted, or the pod's Ready changed: named cases."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.raw import JSON
from minikubelet.node.causes import kill_cause, ready_cause, restart_cause

FAIL = "HTTP probe failed with statuscode: 500"


def attempt(probe: str, result: str, count: str, message: str = FAIL) -> JSON:
    return {"probe": probe, "result": result, "count": count, "message": message}


LIVENESS_RUN = [attempt("liveness", "failure", f"failure {n} of 3") for n in (1, 2, 3)]
READY_RUN = [attempt("readiness", "success", "success 1 of 1", "")]


def crossed(runs: dict[tuple[str, str], list[JSON]]) -> Any:
    return lambda container, probe: runs.get((container, probe), [])


def test_a_liveness_kill_is_blamed_on_the_run_that_crossed() -> None:
    cause = kill_cause(
        "web",
        "Container web failed liveness probe, will be restarted",
        crossed({("web", "liveness"): LIVENESS_RUN}),
    )
    assert cause == {
        "summary": f"liveness probe: failure 3 of 3: {FAIL}",
        "probe": "liveness",
        "container": "web",
        "attempts": LIVENESS_RUN,
    }


def test_other_kills_have_no_probe_cause() -> None:
    assert kill_cause("web", "Stopping container web", crossed({})) is None
    startup = kill_cause(
        "web", "Container web failed startup probe, will be restarted", crossed({})
    )
    assert startup == {
        "summary": "Container web failed startup probe, will be restarted",
        "probe": "startup",
        "container": "web",
    }


def _status(**state: Any) -> JSON:
    return {"name": "web", "restartCount": 1, "ready": False, **state}


@pytest.mark.parametrize(
    ("kill", "logs", "summary"),
    [
        pytest.param(
            {"summary": "liveness probe: failure 3 of 3"},
            ["bye"],
            "killed: liveness probe: failure 3 of 3; then Error (exit code 137)",
            id="killed",
        ),
        pytest.param(None, None, "exited: Error (exit code 137)", id="crashed"),
    ],
)
def test_restart_cause(kill: JSON | None, logs: list[str] | None, summary: str) -> None:
    status = _status(lastState={"terminated": {"exitCode": 137, "reason": "Error"}})
    cause = restart_cause(status, kill, logs)
    assert cause["summary"] == summary
    assert (cause["exitCode"], cause["reason"], cause.get("logs")) == (137, "Error", logs)


def _pod(*items: JSON, deleting: bool = False) -> JSON:
    meta: JSON = {"name": "p"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    condition = {"type": "Ready", "reason": "ContainersNotReady", "message": "not yet"}
    return {
        "metadata": meta,
        "status": {"containerStatuses": list(items), "conditions": [condition]},
    }


RUNNING: JSON = {"state": {"running": {}}}


@pytest.mark.parametrize(
    ("pod", "status", "runs", "summary"),
    [
        pytest.param(
            _pod(_status(ready=True, **RUNNING)),
            "True",
            {("web", "readiness"): READY_RUN},
            "readiness probe: success 1 of 1",
            id="ready: the readiness run that passed",
        ),
        pytest.param(
            _pod(_status(ready=True, **RUNNING)),
            "True",
            {},
            "every container is running and started (no readiness probe failed)",
            id="ready without a readiness probe",
        ),
        pytest.param(
            _pod(_status(state={"terminated": {"exitCode": 1, "reason": "Error"}})),
            "False",
            {},
            "web is not running: Error (exit code 1)",
            id="not ready: exited",
        ),
        pytest.param(
            _pod(_status(state={"waiting": {"reason": "CrashLoopBackOff"}})),
            "False",
            {},
            "web is not running: CrashLoopBackOff",
            id="not ready: waiting",
        ),
        pytest.param(
            _pod(_status(**RUNNING)),
            "False",
            {("web", "liveness"): LIVENESS_RUN},
            f"liveness probe: failure 3 of 3: {FAIL}",
            id="not ready: being killed for liveness",
        ),
        pytest.param(
            _pod(_status(**RUNNING)),
            "False",
            {},
            "ContainersNotReady: not yet",
            id="not ready: the condition's own words",
        ),
        pytest.param(
            _pod(_status(**RUNNING), deleting=True),
            "False",
            {},
            "the pod is being deleted",
            id="deleting",
        ),
    ],
)
def test_ready_cause(pod: JSON, status: str, runs: dict[Any, Any], summary: str) -> None:
    assert ready_cause(pod, status, crossed(runs))["summary"] == summary


def test_ready_because_a_readiness_gate_opened() -> None:
    """A client set the gate's condition after the containers were ready: the gate is why,
    not the readiness run that passed before it."""
    gated = _pod(_status(ready=True, **RUNNING))
    gated["spec"] = {"readinessGates": [{"conditionType": "example.com/lb"}]}
    gated["status"]["conditions"] = [
        {"type": "example.com/lb", "status": "True", "lastTransitionTime": "2026-12-04T10:00:09Z",
         "reason": "Registered", "message": "in the pool"},
        {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-12-04T10:00:05Z"},
    ]  # fmt: skip
    runs = {("web", "readiness"): READY_RUN}
    cause = ready_cause(gated, "True", crossed(runs))
    assert cause == {"summary": "readiness gate example.com/lb is True (Registered: in the pool)"}
    gated["status"]["conditions"][1]["lastTransitionTime"] = "2026-12-04T10:00:10Z"
    assert ready_cause(gated, "True", crossed(runs))["summary"] == (
        "readiness probe: success 1 of 1"
    )
