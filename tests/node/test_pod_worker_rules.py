"""The pod worker's timing rules, each after the kubelet function it follows, in virtual time.

- status before work: `kubelet.go` `SyncPod` writes `generateAPIPodStatus` through
  `statusManager.SetPodStatus` before the runtime's SyncPod creates a sandbox or pulls;
- a failed sync retried after 10-15 s: `pod_workers.go` `completeWork`
  (`wait.Jitter(backOffPeriod, workerBackOffPeriodJitterFactor)`), ImagePullBackOff included
  (`kubelet.go` `SyncPod` returns the back-off as an error, issue #123602);
- termination: `SyncTerminatingPod` (`StopLivenessAndStartup` before `killPod`), the status
  manager's `SetContainerReadiness` during a kill, `calculateEffectiveGracePeriod`.

The node runs as the agent runs it, on `FakeRuntime` and `FakeClock` (tests/node/test_manager.py).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.errors import RuntimeFailure
from minikubelet.node.worker import sync_error_retry
from minikubelet.runtime.types import ExecResult
from tests.node.test_manager import IMAGE, Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, shared with test_manager.py

pytestmark = pytest.mark.anyio
MISSING = "example.test/missing:1"


def reason(h: Harness, name: str, container: str = "app", init: bool = False) -> str | None:
    key = "initContainerStatuses" if init else "containerStatuses"
    found = h.pod(name).get("status", {}).get(key) or []
    state: dict[str, Any] = next((s["state"] for s in found if s["name"] == container), {})
    waiting: str | None = (state.get("waiting") or {}).get("reason")
    return waiting


def count(h: Harness, event_reason: str, contains: str = "") -> int:
    return sum(e["count"] for e in h.events(event_reason) if contains in e["message"])


def delete(h: Harness, name: str, grace: int) -> None:
    """What the API's DELETE does to a pod with a grace period (server/objects.py)."""
    body = h.pod(name)
    body["metadata"]["deletionTimestamp"] = h.clock.utcnow().isoformat().replace("+00:00", "Z")
    body["metadata"]["deletionGracePeriodSeconds"] = grace
    h.store.update("Pod", body, expected_rv=None)


def sync_times(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The virtual times at which a sync asks for the app's image (`EnsureImageExists`)."""
    times: list[float] = []
    images = h.node.executor.images
    real = images.ensure

    async def ensure(*args: Any, **kwargs: Any) -> tuple[str, str] | None:
        times.append(h.clock.monotonic())
        return await real(*args, **kwargs)

    monkeypatch.setattr(images, "ensure", ensure)
    return times


def retry_gaps(times: list[float]) -> list[float]:
    """The gaps between syncs, but for a sync right after another: the sandbox's start wakes
    the pod at once (PLEG), as on a node."""
    return [b - a for a, b in zip(times, times[1:], strict=False) if b - a > 1]


def test_the_sync_error_back_off_is_ten_to_fifteen_seconds() -> None:
    assert sync_error_retry(0.0) == 10.0
    assert sync_error_retry(0.999) == pytest.approx(14.995)


# -- status before work ---------------------------------------------------------------------


async def test_a_hanging_pull_already_reads_container_creating(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SyncPod: the status is written before the runtime's SyncPod pulls."""
    released = anyio.Event()
    real = harness.runtime.pull_image

    async def hanging(image: str, auth: Any = None) -> Any:
        await released.wait()
        return await real(image, auth)

    monkeypatch.setattr(harness.runtime, "pull_image", hanging)
    harness.runtime.pullable.add("slow:1")
    harness.apply("slow", containers=[{"name": "app", "image": "slow:1"}])
    await harness.until(lambda: harness.events("Pulling"))
    status = harness.pod("slow")["status"]
    assert status["phase"] == "Pending" and status["startTime"]
    assert reason(harness, "slow") == "ContainerCreating"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {  # written before this sync made the sandbox
        "PodReadyToStartContainers": "False",
        "Initialized": "True",
        "Ready": "False",
        "ContainersReady": "False",
        "PodScheduled": "True",
    }
    assert harness.events("Pulling")[0]["message"] == 'Pulling image "slow:1"'
    released.set()
    await harness.until(lambda: harness.running())


async def test_a_sandbox_being_created_reads_pod_initializing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SyncPod writes the status before the sandbox exists: with an init container the pod
    reads Init:0/1 (every container PodInitializing), PodReadyToStartContainers False."""
    released = anyio.Event()
    real = harness.runtime.run_sandbox

    async def slow_sandbox(spec: Any) -> Any:
        await released.wait()
        return await real(spec)

    monkeypatch.setattr(harness.runtime, "run_sandbox", slow_sandbox)
    init = [{"name": "init", "image": IMAGE}]
    harness.apply("early", initContainers=init)
    await harness.until(lambda: harness.pod("early").get("status", {}).get("startTime"))
    status = harness.pod("early")["status"]
    assert reason(harness, "early", "init", init=True) == "PodInitializing"
    assert reason(harness, "early") == "PodInitializing"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["PodReadyToStartContainers"] == "False"
    assert conditions["Initialized"] == "False"
    released.set()
    await harness.until(lambda: harness.running("init") or harness.running())


# -- a failed sync is retried after 10-15 s (completeWork) ---------------------------------


async def test_err_image_never_pull_is_retried_and_recovers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = sync_times(harness, monkeypatch)
    harness.apply(
        "never", containers=[{"name": "app", "image": MISSING, "imagePullPolicy": "Never"}]
    )
    await harness.until(lambda: len(retry_gaps(times)) >= 3, step=0.25, within=60)
    gaps = retry_gaps(times)
    assert len(gaps) >= 2 and all(10 <= gap <= 15 for gap in gaps), gaps
    assert count(harness, "ErrImageNeverPull") == len(times)  # the events repeat each retry
    assert count(harness, "Failed", "Error: ErrImageNeverPull") == len(times)
    harness.runtime.set_image(MISSING)  # `docker tag` on the node
    tagged = harness.clock.monotonic()
    await harness.until(lambda: harness.running(), step=0.25, within=15)
    assert harness.clock.monotonic() - tagged <= 15


async def test_a_missing_host_path_fails_the_mount_until_it_appears(
    harness: Harness, tmp_path: Path
) -> None:
    """The hostPath SetUp fails in the volume manager, not in the container's config: Pending
    and ContainerCreating, FailedMount at the mount back-off (0.5 s doubling), no sandbox and
    no container; the pod starts at the first retry after the path appears. No `Unable to
    attach or mount volumes` event: 1.32 skips it for the 2 min 3 s wait's timeout."""
    missing = tmp_path / "later"
    volume = {"name": "data", "hostPath": {"path": str(missing), "type": "Directory"}}
    app = {"name": "app", "image": IMAGE, "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
    harness.apply("hostpath", containers=[app], volumes=[volume])
    message = f'MountVolume.SetUp failed for volume "data" : hostPath {missing} doesn\'t exist'
    await harness.until(lambda: reason(harness, "hostpath") == "ContainerCreating")
    start = harness.clock.monotonic()
    # failures at 0, 0.5, 1.5, 3.5, 7.5 s: five in the first 8 s, one event counted five times
    await harness.until(lambda: count(harness, "FailedMount", message) >= 5, step=0.25)
    assert 7.5 <= harness.clock.monotonic() - start <= 8.0
    assert [e["message"] for e in harness.events("FailedMount")] == [message]
    assert harness.pod("hostpath")["status"]["phase"] == "Pending"
    assert reason(harness, "hostpath") == "ContainerCreating"
    assert not harness.runtime.containers and not harness.events("Failed")
    missing.mkdir()
    made = harness.clock.monotonic()
    await harness.until(lambda: harness.running(), step=0.25, within=20)
    assert harness.clock.monotonic() - made <= 8.0  # the next retry, 8 s after the last
    assert count(harness, "FailedMount") == 5
    assert not [e for e in harness.events("FailedMount") if "Unable to attach" in e["message"]]


async def test_a_host_path_is_checked_once_per_pod(harness: Harness, tmp_path: Path) -> None:
    """hostPath does not `RequiresRemount`: once set up, a restart does not check it again
    (the engine's bind makes a missing source directory, as the CRI does)."""
    there = tmp_path / "there"
    there.mkdir()
    volume = {"name": "data", "hostPath": {"path": str(there), "type": "Directory"}}
    app = {"name": "app", "image": IMAGE, "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
    harness.apply("once", containers=[app], volumes=[volume])
    await harness.until(lambda: harness.running())
    first = harness.running()[0]
    there.rmdir()
    harness.runtime.exit_container(first, 1)
    await harness.until(harness.replaced(first), within=30)
    assert not harness.events("FailedMount")


async def test_create_container_error_is_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = sync_times(harness, monkeypatch)
    for _ in range(4):
        harness.runtime.fail_next("create_container", RuntimeFailure("no space left on device"))
    harness.apply("nospace")
    await harness.until(lambda: reason(harness, "nospace") == "CreateContainerError")
    await harness.until(lambda: harness.running(), step=0.25, within=60)
    gaps = retry_gaps(times)
    assert len(gaps) >= 2 and all(10 <= gap <= 15 for gap in gaps), gaps
    assert count(harness, "Failed", "Error: no space left on device") == 4


@pytest.mark.parametrize("jitter", [None, 0.0, 0.999], ids=["random", "10s", "15s"])
async def test_image_pull_back_off_cadence(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, jitter: float | None
) -> None:
    """Two minutes of a pull that fails: a sync every 10-15 s; a real pull (ErrImagePull)
    only once the image back-off (10 s, doubling) has passed since the last one, otherwise
    `Back-off pulling image` and ImagePullBackOff, which the pod reads most of the time.
    Also at the jitter's two ends (`random.random` as the worker draws it)."""
    if jitter is not None:
        monkeypatch.setattr(random, "random", lambda: jitter)  # the module the worker draws from
    times = sync_times(harness, monkeypatch)
    pulls: list[float] = []
    real = harness.runtime.pull_image

    async def pull(image: str, auth: Any = None) -> Any:
        pulls.append(harness.clock.monotonic())
        return await real(image, auth)

    monkeypatch.setattr(harness.runtime, "pull_image", pull)
    harness.apply("badpull", containers=[{"name": "app", "image": MISSING}])
    reasons: list[str | None] = []
    await harness.until(lambda: times)
    start = times[0]
    while harness.clock.monotonic() - start < 120:
        await harness.clock.advance(0.5)
        await harness.settle()
        reasons.append(reason(harness, "badpull"))
    gaps = retry_gaps(times)
    assert len(gaps) >= 8 and all(10 <= gap <= 15 for gap in gaps), gaps
    # real pulls at once, then at the first retry 10, 20, 40 s after the one before
    assert len(pulls) == 4, pulls
    assert 10 <= pulls[1] - pulls[0] <= 15
    assert 20 <= pulls[2] - pulls[1] <= 30
    assert 40 <= pulls[3] - pulls[2] <= 55
    backoffs = count(harness, "BackOff", "Back-off pulling image")
    assert backoffs == len(times) - len(pulls) >= 4  # every other retry
    assert count(harness, "Failed", "Error: ImagePullBackOff") == backoffs
    assert count(harness, "Failed", "Error: ErrImagePull") == len(pulls)
    assert reasons.count("ImagePullBackOff") > len(reasons) / 2
    assert reasons.count("ErrImagePull") >= 10  # 10-15 s after each real attempt


# -- termination ---------------------------------------------------------------------------


def _probe(check: list[str]) -> dict[str, Any]:
    return {"exec": {"command": check}, "periodSeconds": 1, "failureThreshold": 1}


async def test_no_liveness_probe_runs_once_the_pod_is_deleted(harness: Harness) -> None:
    """SyncTerminatingPod calls StopLivenessAndStartup before killPod: a liveness probe that
    would fail during the grace period neither runs nor says so."""
    live = ["test", "-f", "/alive"]
    app = {"name": "app", "image": IMAGE, "livenessProbe": _probe(live)}
    harness.apply("doomed", containers=[app], terminationGracePeriodSeconds=20)
    await harness.until(lambda: harness.running())
    await harness.clock.advance(3)
    (app_id,) = harness.running()
    harness.runtime.ignore_sigterm(app_id)
    delete(harness, "doomed", 20)
    await harness.settle()
    harness.runtime.set_exec(live, ExecResult(exit_code=1, output=b"gone"))
    execs = len([c for c in harness.runtime.calls if c[0] == "exec"])
    await harness.until(lambda: not harness.running(), step=0.5, within=25)
    assert len([c for c in harness.runtime.calls if c[0] == "exec"]) == execs
    assert not [e for e in harness.events("Unhealthy") if "Liveness" in e["message"]]


async def test_readiness_reaches_the_status_during_a_deletion(harness: Harness) -> None:
    """Readiness keeps probing while the pod is killed; its failure is written at once
    (SetContainerReadiness), not when the 30 s grace period ends."""
    ready = ["test", "-f", "/ready"]
    app = {"name": "app", "image": IMAGE, "readinessProbe": _probe(ready)}
    harness.apply("leaving", containers=[app], terminationGracePeriodSeconds=30)
    await harness.until(lambda: harness.status("leaving").get("ready"))
    (app_id,) = harness.running()
    harness.runtime.ignore_sigterm(app_id)
    delete(harness, "leaving", 30)
    await harness.clock.advance(2)
    await harness.settle()
    assert harness.status("leaving")["ready"] is True  # still serving
    harness.runtime.set_exec(ready, ExecResult(exit_code=1))
    failed = harness.clock.monotonic()
    await harness.until(lambda: not harness.status("leaving")["ready"], step=0.25, within=2)
    assert harness.clock.monotonic() - failed <= 1.25  # within a probe period
    assert harness.running() == [app_id]  # the grace period still runs
    conditions = {c["type"]: c["status"] for c in harness.pod("leaving")["status"]["conditions"]}
    assert conditions["Ready"] == "False"


async def test_readiness_reaches_the_status_during_a_liveness_restart(harness: Harness) -> None:
    live, ready = ["test", "-f", "/alive"], ["test", "-f", "/ready"]
    app = {
        "name": "app",
        "image": IMAGE,
        "livenessProbe": _probe(live),
        "readinessProbe": _probe(ready),
    }
    harness.apply("sick", containers=[app], terminationGracePeriodSeconds=30)
    await harness.until(lambda: harness.status("sick").get("ready"))
    (app_id,) = harness.running()
    harness.runtime.ignore_sigterm(app_id)
    harness.runtime.set_exec(live, ExecResult(exit_code=1))
    await harness.until(lambda: harness.events("Killing"), step=0.25, within=3)
    harness.runtime.set_exec(ready, ExecResult(exit_code=1))
    failed = harness.clock.monotonic()
    await harness.until(lambda: not harness.status("sick")["ready"], step=0.25, within=2)
    assert harness.clock.monotonic() - failed <= 1.25
    assert app_id in harness.running()  # its 30 s stop is under way


async def test_a_second_delete_with_a_shorter_grace_shortens_the_stop(harness: Harness) -> None:
    """calculateEffectiveGracePeriod: a shorter grace restarts killPod with it."""
    harness.apply("slow", terminationGracePeriodSeconds=30)
    await harness.until(lambda: harness.running())
    (app_id,) = harness.running()
    harness.runtime.ignore_sigterm(app_id)
    delete(harness, "slow", 30)
    await harness.clock.advance(3)
    await harness.settle()
    assert harness.running() == [app_id]
    shortened = harness.clock.monotonic()
    delete(harness, "slow", 1)  # `kubectl delete --grace-period=1`: the node stops with 2 s
    await harness.until(
        lambda: app_id not in harness.running(),
        step=0.25,
        within=10,
    )
    assert 2 <= harness.clock.monotonic() - shortened <= 2.5
    stops = [args for method, args in harness.runtime.calls if method == "stop_container"]
    assert (app_id, 30) in stops and (app_id, 2.0) in stops
    assert count(harness, "Killing", "Stopping container app") == 2
