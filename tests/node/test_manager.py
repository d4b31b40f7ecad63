"""The Node and its pod workers against the in-memory runtime and a real store, in virtual time.

The same code the agent runs (store watch → worker → decide → executor → status), with
`FakeRuntime` for Docker and `FakeClock` for time: no Docker, no network, no real waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import to_dict
from minikubelet.api.create import prepare_create
from minikubelet.clock import FakeClock
from minikubelet.errors import NotFound
from minikubelet.node.manager import Node, NodeConfig
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import InstanceState
from minikubelet.store import Store

IMAGE = "busybox:1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Threads:
    """The worker threads the node starts (volume cleanup, probe history flushes) run in real
    time: counted around `anyio.to_thread.run_sync`, so `settle` waits for them to end."""

    busy: int = 0
    _idle: anyio.Event | None = field(default=None, repr=False)

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = anyio.to_thread.run_sync

        async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.busy += 1
            try:
                return await real(func, *args, **kwargs)
            finally:
                self.busy -= 1
                if self.busy == 0 and self._idle is not None:
                    self._idle.set()

        monkeypatch.setattr(anyio.to_thread, "run_sync", counted)

    async def idle(self) -> None:
        while self.busy:
            self._idle = anyio.Event()
            await self._idle.wait()


@dataclass
class Harness:
    node: Node
    store: Store
    runtime: FakeRuntime
    clock: FakeClock
    threads: Threads

    def apply(self, name: str, **spec: Any) -> dict[str, Any]:
        containers = spec.pop("containers", [{"name": "app", "image": IMAGE}])
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 5, "containers": containers, **spec},
        }
        pod = to_dict(prepare_create(body, "default", self.clock.utcnow()))
        return self.store.create("Pod", pod)

    def pod(self, name: str) -> dict[str, Any]:
        return self.store.get("Pod", "default", name)

    def status(self, name: str, container: str = "app") -> dict[str, Any]:
        found = self.pod(name).get("status", {}).get("containerStatuses") or []
        return next((s for s in found if s["name"] == container), {})

    def running(self, name: str = "app") -> list[str]:
        return [
            c.info.id
            for c in self.runtime.containers.values()
            if c.info.name == name and c.info.state is InstanceState.RUNNING
        ]

    def replaced(self, old: str) -> Callable[[], bool]:
        """A check: the app runs again, in another container than `old`."""
        return lambda: bool(self.running()) and self.running() != [old]

    def events(self, reason: str) -> list[dict[str, Any]]:
        items = self.store.list("Event", "default")[0]
        return [e for e in items if e["reason"] == reason]

    def reasons(self, kind: str = "Pod") -> list[str]:
        """The reasons of the events on pods (or on the node), oldest first."""
        items = self.store.list("Event", "default")[0]
        found = [e for e in items if e["involvedObject"]["kind"] == kind]
        return [
            e["reason"] for e in sorted(found, key=lambda e: e["metadata"]["creationTimestamp"])
        ]

    async def settle(self) -> None:
        """Let every task run until all wait on the clock, the store or the fake engine, and
        no worker thread is running (its end wakes a task, which may start another)."""
        await anyio.wait_all_tasks_blocked()
        while self.threads.busy:
            await self.threads.idle()
            await anyio.wait_all_tasks_blocked()

    async def until(
        self, check: Callable[[], Any], *, step: float = 0.5, within: float = 60.0
    ) -> None:
        """Advance virtual time in steps until `check()` holds; fail past `within` seconds."""
        waited = 0.0
        await self.settle()
        while not check():
            if waited >= within:
                pytest.fail(f"not true after {within}s of virtual time: {check}")
            await self.clock.advance(step)
            await self.settle()
            waited += step


@pytest.fixture
async def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    threads = Threads()
    threads.patch(monkeypatch)
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    runtime.set_image(IMAGE)
    store = Store.open(tmp_path / "state.db", clock)
    node = Node(store, runtime, clock, NodeConfig(name="node1", pods_dir=tmp_path / "pods"))
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(node.run)
            yield Harness(node, store, runtime, clock, threads)
            tg.cancel_scope.cancel()
    finally:
        store.close()


@pytest.mark.anyio
async def test_create_runs_the_pod(harness: Harness) -> None:
    harness.apply("web")
    await harness.until(lambda: harness.pod("web").get("status", {}).get("phase") == "Running")
    status = harness.status("web")
    assert status["state"]["running"]["startedAt"]
    assert status["ready"] is True and status["restartCount"] == 0
    pod = harness.pod("web")
    assert pod["spec"]["nodeName"] == "node1"
    assert pod["status"]["podIP"].startswith("10.89.0.")
    assert harness.reasons() == ["Scheduled", "Pulled", "Created", "Started"]


@pytest.mark.anyio
async def test_the_node_records_its_start_its_conditions_and_a_cordon(harness: Harness) -> None:
    """The kubelet's node events, in `default` with the node's name as uid: its start, each
    condition of the new node, the allocatable enforced, Ready; a cordon at the next beat."""
    await harness.settle()
    assert harness.reasons("Node") == [
        "Starting",
        "NodeHasSufficientMemory",
        "NodeHasNoDiskPressure",
        "NodeHasSufficientPID",
        "NodeAllocatableEnforced",
        "NodeReady",
    ]
    (ready,) = harness.events("NodeReady")
    assert ready["message"] == "Node node1 status is now: NodeReady"
    assert ready["involvedObject"] == {"kind": "Node", "name": "node1", "uid": "node1"}
    assert ready["source"] == {"component": "kubelet", "host": "node1"}
    node = harness.store.get("Node", "", "node1")
    node["spec"]["unschedulable"] = True
    harness.store.update("Node", node, expected_rv=None)
    await harness.until(lambda: harness.events("NodeNotSchedulable"), step=1, within=11)
    lease = harness.store.get("Lease", "kube-node-lease", "node1")
    assert lease["spec"]["holderIdentity"] == "node1"


@pytest.mark.anyio
async def test_exit_restarts_with_back_off(harness: Harness) -> None:
    harness.apply("crash")
    await harness.until(lambda: harness.running())
    starts: list[float] = [harness.clock.monotonic()]
    for _ in range(3):  # three crashes: restart at once, then after 10 s, then after 20 s
        (current,) = harness.running()
        crashed = harness.clock.monotonic()
        harness.runtime.exit_container(current, 1)
        await harness.until(harness.replaced(current))
        starts.append(harness.clock.monotonic() - crashed)
    assert starts[1] == 0
    assert 10 <= starts[2] <= 10.5
    assert 20 <= starts[3] <= 20.5
    assert harness.status("crash")["restartCount"] == 3
    backoff = harness.events("BackOff")
    assert backoff and backoff[0]["type"] == "Warning"
    assert backoff[0]["message"].startswith("Back-off restarting failed container app in pod ")
    # one BackOff per sync held back, i.e. per crash in back-off: the worker's own status
    # writes, its GC's removals and the relist of a state it already synced do not wake it,
    # and no resync (every 60-90 s, as the kubelet's) falls inside the waits
    assert sum(e["count"] for e in backoff) == 2


@pytest.mark.anyio
async def test_crash_loop_back_off_status(harness: Harness) -> None:
    harness.apply("crash")
    await harness.until(lambda: harness.running())
    for _ in range(2):
        (current,) = harness.running()
        harness.runtime.exit_container(current, 1)
        await harness.until(harness.replaced(current))
    waiting = harness.status("crash")["state"].get("waiting") or {}
    if not waiting:  # the first crash restarts at once: crash the new instance too
        (current,) = harness.running()
        harness.runtime.exit_container(current, 1)
        await harness.settle()
        waiting = harness.status("crash")["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off ")
    assert harness.status("crash")["lastState"]["terminated"]["exitCode"] == 1
    assert harness.pod("crash")["status"]["phase"] == "Running"


@pytest.mark.anyio
async def test_delete_kills_and_removes(harness: Harness) -> None:
    created = harness.apply("doomed")
    uid = created["metadata"]["uid"]
    await harness.until(lambda: harness.running())
    (app,) = harness.running()
    harness.runtime.ignore_sigterm(app)  # like webapl: SIGKILL after the grace period
    body = harness.pod("doomed")
    body["metadata"]["deletionTimestamp"] = body["metadata"]["creationTimestamp"]
    body["metadata"]["deletionGracePeriodSeconds"] = 3
    harness.store.update("Pod", body, expected_rv=None)
    await harness.settle()
    assert harness.running() == [app]  # still within its grace period
    assert harness.pod("doomed")["metadata"]["deletionTimestamp"]
    await harness.until(lambda: not harness.runtime.containers, step=0.5, within=10)
    with pytest.raises(NotFound):
        harness.pod("doomed")
    stops = [args for method, args in harness.runtime.calls if method == "stop_container"]
    assert (app, 3) in stops
    assert [e["message"] for e in harness.events("Killing")] == ["Stopping container app"]
    assert not (harness.node.config.pods_dir / uid).exists()
    assert uid not in harness.node.workers


@pytest.mark.anyio
async def test_a_deleted_pods_newest_instance_is_removed_last(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest instance carries the restartCount: removed last, so an agent killed between
    two removals comes back to the same count, never a lower one (the fault suite saw 4->3)."""
    harness.apply("crash")
    await harness.until(lambda: harness.running())
    for _ in range(2):
        (current,) = harness.running()
        harness.runtime.exit_container(current, 1)
        await harness.until(harness.replaced(current), within=30)
    assert harness.status("crash")["restartCount"] == 2
    newest = harness.running()[0]
    listed = harness.runtime.list_containers

    async def as_docker_lists(pod_uid: str | None = None) -> list[Any]:
        return list(reversed(await listed(pod_uid)))  # newest first, as `docker ps`

    monkeypatch.setattr(harness.runtime, "list_containers", as_docker_lists)
    harness.store.delete("Pod", "default", "crash")
    await harness.until(lambda: not harness.runtime.containers, within=10)
    removed = [args[0] for method, args in harness.runtime.calls if method == "remove_container"]
    assert len(removed) >= 2 and removed[-1] == newest


@pytest.mark.anyio
async def test_force_delete_stops_the_containers(harness: Harness) -> None:
    harness.apply("gone")
    await harness.until(lambda: harness.running())
    harness.store.delete("Pod", "default", "gone")
    await harness.until(lambda: not harness.runtime.containers, within=10)


@pytest.mark.anyio
async def test_unschedulable_pod_waits_for_a_label(harness: Harness) -> None:
    harness.apply("picky", nodeSelector={"disk": "ssd"})
    await harness.until(lambda: harness.events("FailedScheduling"))
    (event,) = harness.events("FailedScheduling")
    assert event["type"] == "Warning"
    assert event["message"].startswith(
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
    )
    assert event["source"]["component"] == "default-scheduler"
    pod = harness.pod("picky")
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["conditions"][0]["reason"] == "Unschedulable"
    assert not harness.runtime.containers
    node = harness.store.get("Node", "", "node1")
    node["metadata"]["labels"]["disk"] = "ssd"
    harness.store.update("Node", node, expected_rv=None)
    await harness.until(lambda: harness.running(), step=1.0, within=15)
    assert harness.pod("picky")["spec"]["nodeName"] == "node1"


def _count(harness: Harness, reason: str) -> int:
    return sum(int(e.get("count") or 1) for e in harness.events(reason))


@pytest.mark.anyio
async def test_an_unschedulable_pod_is_tried_again_as_the_queue_would(harness: Harness) -> None:
    """One FailedScheduling per attempt, and an attempt only when a change may help or
    after 5 minutes unschedulable, not at every housekeeping poke: a pod blocked by the
    running pod's anti-affinity is tried again at the 5-minute flush, as in 1.32, whose
    InterPodAffinity has no queueing hint for the deletion of that pod."""
    web = {"app": "web"}
    term = {"labelSelector": {"matchLabels": web}, "topologyKey": "kubernetes.io/hostname"}
    required = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    harness.apply("a", affinity={"podAntiAffinity": required})
    await harness.until(lambda: harness.running())
    a = harness.pod("a")
    a["metadata"]["labels"] = web
    harness.store.update("Pod", a, expected_rv=None)
    harness.apply("b")
    b = harness.pod("b")
    b["metadata"]["labels"] = web
    harness.store.update("Pod", b, expected_rv=None)
    await harness.until(lambda: harness.events("FailedScheduling"))
    (event,) = harness.events("FailedScheduling")
    assert event["message"] == (
        "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    await harness.clock.advance(120)
    await harness.settle()
    assert _count(harness, "FailedScheduling") == 1
    harness.store.delete("Pod", "default", "a")
    await harness.clock.advance(60)
    await harness.settle()
    assert not harness.pod("b")["spec"].get("nodeName")  # no hint for it: still waiting
    await harness.until(lambda: harness.pod("b")["spec"].get("nodeName"), step=2, within=130)
    assert _count(harness, "FailedScheduling") == 1
    assert harness.events("Scheduled")


@pytest.mark.anyio
async def test_gated_pods_and_another_schedulers_pods_are_not_scheduled(
    harness: Harness,
) -> None:
    """A pod with scheduling gates is not even queued (PreEnqueue), one for another scheduler
    is not this scheduler's: both stay Pending with no event; a gate removed, it runs."""
    harness.apply("gated", schedulingGates=[{"name": "example.com/wait"}])
    harness.apply("theirs", schedulerName="my-scheduler")
    await harness.clock.advance(30)
    await harness.settle()
    assert not harness.events("FailedScheduling") and not harness.events("Scheduled")
    assert not harness.pod("gated")["spec"].get("nodeName")
    assert not harness.pod("theirs")["spec"].get("nodeName")
    gated = harness.pod("gated")
    del gated["spec"]["schedulingGates"]
    harness.store.update("Pod", gated, expected_rv=None)
    await harness.until(lambda: harness.pod("gated")["spec"].get("nodeName"), step=1, within=5)
    assert not harness.pod("theirs")["spec"].get("nodeName")


@pytest.mark.anyio
async def test_a_new_sandbox_keeps_the_restart_count(harness: Harness) -> None:
    """The engine restarted (every container stopped, sandbox included): the kubelet makes a
    new sandbox and restarts the containers, RESTARTS up and the last state the dead
    instance's, because its GC keeps the newest dead container past the sandbox's end."""
    harness.apply("web")
    await harness.until(lambda: harness.running())
    (first,) = harness.running()
    (sandbox,) = await harness.runtime.list_sandboxes()
    harness.runtime.exit_container(sandbox.id, 0)
    harness.runtime.exit_container(first, 137)
    await harness.until(harness.replaced(first))
    status = harness.status("web")
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 137
    sandboxes = await harness.runtime.list_sandboxes()
    assert len(sandboxes) == 2  # the old one holds the dead instance, stopped
    # a second replacement: the first sandbox, left with no container GC keeps, goes
    (second,) = harness.running()
    current = [s for s in sandboxes if s.running]
    harness.runtime.exit_container(current[0].id, 0)
    harness.runtime.exit_container(second, 137)
    await harness.until(harness.replaced(second))
    assert harness.status("web")["restartCount"] == 2
    assert sandbox.id not in {s.id for s in await harness.runtime.list_sandboxes()}


@pytest.mark.anyio
async def test_stopping_the_node_finishes_the_deletions_under_way(harness: Harness) -> None:
    """`daemon stop` right after deletions: the pods deleted (gracefully or by force) are
    stopped and removed before the agent exits, within their grace; running pods stay."""
    for name in ("kept", "graceful", "forced"):
        harness.apply(name)
    await harness.until(lambda: len(harness.running()) == 3)
    graceful = harness.pod("graceful")
    harness.runtime.ignore_sigterm(
        next(c for c in harness.runtime.containers.values()
             if c.info.pod_uid == graceful["metadata"]["uid"] and c.info.name == "app").info.id
    )  # fmt: skip
    graceful["metadata"]["deletionTimestamp"] = graceful["metadata"]["creationTimestamp"]
    graceful["metadata"]["deletionGracePeriodSeconds"] = 4
    harness.store.update("Pod", graceful, expected_rv=None)
    harness.store.delete("Pod", "default", "forced")
    assert len(harness.node.deletions_under_way()) == 2
    started = harness.clock.monotonic()
    finished: list[bool] = []

    async def stop() -> None:
        finished.append(await harness.node.finish_deletions(45.0))

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop)
        await harness.until(lambda: bool(finished), step=0.2, within=30)
    assert finished == [True]
    assert 4 <= harness.clock.monotonic() - started < 6  # the graceful one's SIGKILL at 4 s
    assert harness.node.deletions_under_way() == []
    assert len(harness.running()) == 1  # `kept` runs on, as across any agent restart
    assert harness.pod("kept")["status"]["phase"] == "Running"


@pytest.mark.anyio
async def test_stopping_gives_up_at_its_limit(harness: Harness) -> None:
    harness.apply("slow", terminationGracePeriodSeconds=120)
    await harness.until(lambda: harness.running())
    (app,) = harness.running()
    harness.runtime.ignore_sigterm(app)
    body = harness.pod("slow")
    body["metadata"]["deletionTimestamp"] = body["metadata"]["creationTimestamp"]
    body["metadata"]["deletionGracePeriodSeconds"] = 120
    harness.store.update("Pod", body, expected_rv=None)
    finished: list[bool] = []

    async def stop() -> None:
        finished.append(await harness.node.finish_deletions(10.0))

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop)
        await harness.until(lambda: bool(finished), step=0.5, within=30)
    assert finished == [False]


@pytest.mark.anyio
async def test_a_readiness_change_reaches_the_status_without_the_engine(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the kubelet's status manager takes a readiness result (SetContainerReadiness): the
    status is written from what the last sync saw, not after another runtime listing."""
    from minikubelet.runtime.types import ExecResult

    check = ["test", "-f", "/ready"]
    harness.runtime.set_exec(check, ExecResult(exit_code=1))
    probe = {"exec": {"command": check}, "periodSeconds": 1, "failureThreshold": 1}
    harness.apply("web", containers=[{"name": "app", "image": IMAGE, "readinessProbe": probe}])
    await harness.until(lambda: harness.status("web").get("state", {}).get("running"))
    await harness.clock.advance(3)
    await harness.settle()
    assert harness.status("web")["ready"] is False
    gate = anyio.Event()  # the engine stops answering listings
    listing = harness.runtime.list_containers

    async def stalled(pod_uid: str | None = None) -> Any:
        await gate.wait()
        return await listing(pod_uid)

    monkeypatch.setattr(harness.runtime, "list_containers", stalled)
    harness.runtime.set_exec(check, ExecResult(exit_code=0))
    await harness.until(lambda: harness.status("web")["ready"], step=0.25, within=3)
    conditions = {c["type"]: c["status"] for c in harness.pod("web")["status"]["conditions"]}
    assert conditions["Ready"] == conditions["ContainersReady"] == "True"
    gate.set()


@pytest.mark.anyio
async def test_exec_and_port_forward_find_the_pod_from_its_last_sync(harness: Harness) -> None:
    """Every exec and forwarded connection asks which container (sandbox) runs: the worker's
    last sync answers without the engine; what it does not show running is asked of it."""
    harness.apply("web")
    await harness.until(lambda: harness.status("web").get("state", {}).get("running"))
    pod = harness.pod("web")
    before = len(harness.runtime.calls)
    assert await harness.node.running_container(pod, "app") == harness.running()[0]
    assert await harness.node.pod_sandbox(pod) is not None
    assert harness.runtime.calls[before:] == []
    assert await harness.node.running_container(pod, "other") is None
    assert [method for method, _ in harness.runtime.calls[before:]] == ["list_containers"]


@pytest.mark.anyio
async def test_the_relist_is_one_list_whatever_the_pods(harness: Harness) -> None:
    """PLEG's relist reads the engine's list only (`GetPods`): with nothing changing, each
    2 s relist is one call, none of them an inspect, at three pods as at one."""
    for name in ("a", "b", "c"):
        harness.apply(name)
    await harness.until(lambda: len(harness.running()) == 3)
    await harness.clock.advance(1.0)
    await harness.settle()
    harness.runtime.calls.clear()
    for _ in range(3):
        await harness.clock.advance(2.0)
        await harness.settle()
    assert [method for method, _ in harness.runtime.calls] == ["list_instances"] * 3


@pytest.mark.anyio
async def test_the_relist_finds_a_death_the_engine_did_not_announce(harness: Harness) -> None:
    harness.apply("web")
    await harness.until(lambda: harness.running())
    (current,) = harness.running()
    fake = harness.runtime.containers[current]
    fake.info = replace(
        fake.info, state=InstanceState.EXITED, exit_code=1, finished_at=harness.clock.utcnow()
    )  # no `die` event: only the relist can see it
    await harness.until(harness.replaced(current), within=3.0)
    assert harness.status("web")["restartCount"] == 1


@pytest.mark.anyio
async def test_the_relist_removes_what_no_pod_owns(harness: Harness) -> None:
    harness.apply("web")
    await harness.until(lambda: harness.running())
    (current,) = harness.running()
    sandbox = next(c.info.id for c in harness.runtime.containers.values() if c.info.name == "POD")
    harness.node.workers.clear()  # as after a restart that found no such pod in the store
    await harness.until(lambda: not harness.runtime.containers, within=3.0)
    removed = [args[0] for method, args in harness.runtime.calls if method.startswith("remove")]
    assert current in removed and sandbox in removed
