"""Lifecycle hooks through the whole node, in virtual time on the in-memory runtime
(`startContainer` step 4, `killContainer`/`executePreStopHook`, `handlers.go` `Run`)."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.runtime.types import ExecResult
from tests.node.test_manager import IMAGE, Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, used here by name

pytestmark = pytest.mark.anyio


def app(**lifecycle: Any) -> list[dict[str, Any]]:
    return [{"name": "app", "image": IMAGE, "lifecycle": lifecycle}]


def messages(h: Harness, reason: str) -> list[str]:
    return [e["message"] for e in h.events(reason)]


def delete(h: Harness, name: str, grace: int) -> None:
    body = h.pod(name)
    body["metadata"]["deletionTimestamp"] = body["metadata"]["creationTimestamp"]
    body["metadata"]["deletionGracePeriodSeconds"] = grace
    h.store.update("Pod", body, expected_rv=None)


async def test_post_start_holds_the_running_state_until_it_returns(harness: Harness) -> None:
    harness.apply("web", containers=app(postStart={"sleep": {"seconds": 5}}))
    await harness.until(lambda: harness.running())
    started = harness.clock.monotonic()
    await harness.until(lambda: (harness.status("web").get("state") or {}).get("running"))
    assert harness.clock.monotonic() - started >= 5  # Started at once, Running after the hook
    assert messages(harness, "Started") == ["Started container app"]


async def test_a_failed_post_start_kills_the_container(harness: Harness) -> None:
    harness.runtime.set_exec(
        ["setup"], ExecResult(exit_code=1, output=b"no config\n", stderr=b"no config\n")
    )
    created = harness.apply("web", containers=app(postStart={"exec": {"command": ["setup"]}}))
    uid = created["metadata"]["uid"]
    await harness.until(lambda: harness.events("FailedPostStartHook"))
    await harness.settle()
    assert messages(harness, "FailedPostStartHook")[0] == "PostStartHook failed"
    assert "FailedPostStartHook" in messages(harness, "Killing")
    assert not [m for m in messages(harness, "Failed") if "lifecycle" in m]  # no detail leaks
    waiting = harness.status("web")["state"].get("waiting") or {}
    if waiting.get("reason") != "PostStartHookError":  # the first restart is at once
        await harness.until(
            lambda: (
                (harness.status("web")["state"].get("waiting") or {}).get("reason")
                in ("PostStartHookError", "CrashLoopBackOff")
            )
        )
    status = harness.status("web")
    assert status["lastState"]["terminated"]["exitCode"] == 143  # SIGTERM after the hook
    hook_error = (
        'Exec lifecycle hook ([setup]) for Container "app" in Pod '
        f"\"web_default({uid})\" failed - error: command 'setup' exited with 1: no config\n"
        ', message: "no config\\n"'
    )
    waiting = status["state"].get("waiting") or {}
    assert waiting.get("reason") in ("PostStartHookError", "CrashLoopBackOff")
    if waiting["reason"] == "PostStartHookError":
        assert waiting["message"] == hook_error


async def test_pre_stop_runs_before_the_stop_and_counts_against_the_grace(
    harness: Harness,
) -> None:
    harness.apply(
        "web",
        terminationGracePeriodSeconds=30,
        containers=app(preStop={"sleep": {"seconds": 3}}),
    )
    await harness.until(lambda: harness.running())
    (container,) = harness.running()
    delete(harness, "web", 30)
    await harness.settle()
    deleted = harness.clock.monotonic()
    await harness.until(
        lambda: any(m == "stop_container" for m, _ in harness.runtime.calls), step=0.5
    )
    assert harness.clock.monotonic() - deleted >= 3
    stops = [args for m, args in harness.runtime.calls if m == "stop_container"]
    assert stops == [(container, 27)]  # 30 s less the hook's 3
    assert messages(harness, "Killing") == ["Stopping container app"]


async def test_a_failed_pre_stop_is_reported_and_the_stop_goes_on(harness: Harness) -> None:
    harness.runtime.set_exec(["drain"], ExecResult(exit_code=2))
    harness.apply("web", containers=app(preStop={"exec": {"command": ["drain"]}}))
    await harness.until(lambda: harness.running())
    delete(harness, "web", 5)
    await harness.until(lambda: not harness.runtime.containers, within=15)
    assert messages(harness, "FailedPreStopHook") == ["PreStopHook failed"]
