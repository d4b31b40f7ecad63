"""Lifecycle hooks on the real engine, with manifests/examples/lifecycle-hooks.yaml: the
container is not Running until its postStart hook returns; preStop runs before the stop and
counts against the grace period; a failing postStart kills the container with the kubelet's
events and status."""

from __future__ import annotations

import urllib.request

import pytest

from minikubelet.clock import RealClock
from tests.e2e.conftest import Agent
from tests.e2e.pods import PodWatch, delete, find_event, pod, sh, status_of
from tests.e2e.test_examples import apply_example

pytestmark = pytest.mark.e2e


def running(agent: Agent, name: str, container: str) -> bool:
    return bool((status_of(agent.pod(name), container).get("state") or {}).get("running"))


def test_post_start_then_pre_stop(agent: Agent) -> None:
    apply_example(agent, "lifecycle-hooks.yaml")
    agent.wait_for(lambda: find_event(agent, "hooks", "Started"), 60, "Started")
    assert not running(agent, "hooks", "web")  # the hook sleeps 2 s: not Running yet
    agent.wait_for(lambda: running(agent, "hooks", "web"), 30, "web Running")
    ip = agent.pod("hooks")["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as answer:
        assert answer.read() == b"written by postStart\n"
    clock = RealClock()
    began = clock.monotonic()
    delete(agent, "hooks")
    agent.wait_for(lambda: agent.gone("hooks"), 30, "hooks gone")
    took = clock.monotonic() - began
    assert 3 <= took < 15, took  # the preStop sleep, then a prompt exit on SIGTERM


def test_a_failing_post_start_kills_the_container(agent: Agent) -> None:
    manifest = pod(
        "bad-hook",
        sh("web", "trap 'exit 0' TERM; sleep 600 & wait",
           lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo no; exit 3"]}}}),
    )  # fmt: skip
    created = agent.apply(manifest)
    uid = created["metadata"]["uid"]
    watch = PodWatch(agent, "bad-hook", created["metadata"]["resourceVersion"])
    agent.wait_for(
        lambda: find_event(agent, "bad-hook", "FailedPostStartHook", "PostStartHook failed"),
        60,
        "FailedPostStartHook",
    )
    assert find_event(agent, "bad-hook", "Killing", "FailedPostStartHook")

    def hook_error() -> str | None:
        for _, seen in list(watch.seen):
            state = status_of(seen, "web").get("state") or {}
            message = str((state.get("waiting") or {}).get("message") or "")
            if message.startswith("Exec lifecycle hook"):
                return message
        return None

    # From every status the node published (a watch): this one lasts only until the next sync,
    # which here follows at once on the container's exit (README, "Where minikubelet follows").
    message = agent.wait_for(hook_error, 90, "the hook error")
    assert not find_event(agent, "bad-hook", "Failed", "lifecycle hook")  # no detail in events
    assert message == (
        'Exec lifecycle hook ([sh -c echo no; exit 3]) for Container "web" in Pod '
        f"\"bad-hook_default({uid})\" failed - error: command 'sh -c echo no; exit 3' exited "
        'with 3: , message: "no\\n"'
    )
    delete(agent, "bad-hook")
    watch.join()  # the watch ends with the pod
