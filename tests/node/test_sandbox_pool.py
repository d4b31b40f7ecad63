"""Warm sandboxes: the pool against the in-memory runtime, in virtual time; and how the Docker
runtime reads a claimed sandbox's pod from its name (labels cannot change after creation)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from minikubelet.clock import FakeClock
from minikubelet.errors import RuntimeFailure
from minikubelet.node.sandbox_pool import REFILL_DELAY, SandboxPool, spares_of
from minikubelet.runtime._docker_json import sandbox_info, to_event
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import (
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_SPARE,
    LABEL_UID,
    PodNamespaces,
    PortMapping,
    SandboxSpec,
    sandbox_name,
    sandbox_owner,
)

UID = "8724eec8-cec3-4f38-b8ed-a45cb023bf36"
SPEC = SandboxSpec(pod_uid=UID, pod_name="web", namespace="default", hostname="web")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def pool() -> AsyncIterator[tuple[SandboxPool, FakeRuntime, FakeClock]]:
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    spares = spares_of(runtime)
    assert spares is not None
    made = SandboxPool(spares, 2, clock)
    async with anyio.create_task_group() as tg:
        await tg.start(made.run)
        await settle(clock, REFILL_DELAY)
        yield made, runtime, clock
        tg.cancel_scope.cancel()


async def settle(clock: FakeClock, seconds: float = 0.0) -> None:
    await anyio.wait_all_tasks_blocked()
    if seconds:
        await clock.advance(seconds)


def spares(runtime: FakeRuntime) -> list[str]:
    return [c.name for c in runtime.containers.values() if not c.spec.pod_uid]


@pytest.mark.anyio
async def test_the_pool_fills_and_a_claim_makes_a_spare_the_pods_sandbox(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock],
) -> None:
    made, runtime, clock = pool
    assert len(made.ready) == 2 and len(spares(runtime)) == 2
    assert await runtime.list_sandboxes() == []  # spares are no pod's sandboxes
    first = made.ready[0].id
    claimed = await made.claim(SPEC)
    assert claimed is not None and claimed.id == first
    assert (claimed.pod_uid, claimed.pod_name, claimed.running) == (UID, "web", True)
    assert claimed.ip  # the spare's address is the pod IP
    assert [s.id for s in await runtime.list_sandboxes(UID)] == [first]
    assert runtime.containers[first].name == sandbox_name("web", "default", UID, 0)
    await settle(clock)
    assert len(made.ready) == 1  # the refill waits a little after a claim
    await settle(clock, REFILL_DELAY)
    assert len(made.ready) == 2 and made.claims == 1


@pytest.mark.anyio
async def test_no_spare_is_handed_out_twice(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock],
) -> None:
    made, runtime, _ = pool
    results: list[str | None] = []

    async def claim(n: int) -> None:
        spec = SandboxSpec(pod_uid=f"uid-{n}", pod_name=f"p{n}", namespace="default")
        got = await made.claim(spec)
        results.append(got.id if got else None)

    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(claim, n)
    ids = [r for r in results if r is not None]
    assert len(ids) == 2 and len(set(ids)) == 2 and results.count(None) == 1
    assert made.misses == 1


@pytest.mark.anyio
async def test_a_pod_with_a_host_port_gets_a_sandbox_of_its_own(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock],
) -> None:
    made, _, _ = pool
    ported = SandboxSpec(
        pod_uid=UID, pod_name="web", namespace="default", ports=(PortMapping(80, 8080),)
    )
    assert await made.claim(ported) is None
    assert len(made.ready) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "namespaces",
    [
        PodNamespaces(host_network=True),
        PodNamespaces(host_pid=True),
        PodNamespaces(host_ipc=True),
        PodNamespaces(share_pid=True),
    ],
)
async def test_a_pod_in_host_or_shared_namespaces_gets_a_sandbox_of_its_own(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock], namespaces: PodNamespaces
) -> None:
    made, _, _ = pool
    spec = SandboxSpec(pod_uid=UID, pod_name="web", namespace="default", namespaces=namespaces)
    assert await made.claim(spec) is None
    assert len(made.ready) == 2


@pytest.mark.anyio
async def test_a_failed_claim_removes_the_spare_and_the_pod_makes_its_own(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock],
) -> None:
    made, runtime, clock = pool
    spare = made.ready[0].id
    runtime.fail_next("claim_sandbox", RuntimeFailure("name in use"))
    assert await made.claim(SPEC) is None
    assert spare not in runtime.containers
    await settle(clock, REFILL_DELAY)
    assert len(made.ready) == 2


@pytest.mark.anyio
async def test_a_new_pool_removes_the_spares_it_finds_and_makes_its_own() -> None:
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    left = [(await runtime.run_spare_sandbox()).id for _ in range(3)]
    kept = await runtime.run_spare_sandbox()
    await runtime.claim_sandbox(kept.id, SPEC)  # claimed before the "kill": the pod's now
    spares_ = spares_of(runtime)
    assert spares_ is not None
    pool = SandboxPool(spares_, 1, clock)
    async with anyio.create_task_group() as tg:
        await tg.start(pool.run)
        await settle(clock)
        assert not any(i in runtime.containers for i in left)
        assert kept.id in runtime.containers
        assert spares(runtime) == []  # the first fill waits: the pods found at start go first
        await settle(clock, REFILL_DELAY)
        assert len(spares(runtime)) == 1
        tg.cancel_scope.cancel()
    assert spares(runtime) == []  # a clean stop leaves no spare
    assert kept.id in runtime.containers


@pytest.mark.anyio
async def test_no_refill_while_a_pod_makes_its_own_sandbox_nor_just_after(
    pool: tuple[SandboxPool, FakeRuntime, FakeClock],
) -> None:
    made, runtime, clock = pool
    for n in range(2):
        spec = SandboxSpec(pod_uid=f"uid-{n}", pod_name=f"p{n}", namespace="default")
        assert await made.claim(spec) is not None
    assert await made.claim(SPEC) is None  # none ready: this pod makes its own
    with made.making():
        await settle(clock, 10 * REFILL_DELAY)  # its sandbox takes long (a loaded engine)
        assert made.ready == [] and len(spares(runtime)) == 0
    await settle(clock, REFILL_DELAY / 2)
    assert made.ready == []  # its containers start first
    await settle(clock, REFILL_DELAY / 2)
    await settle(clock)
    assert len(made.ready) == 2


# -- what the Docker runtime reads ----------------------------------------------------------

SPARE_LABELS = {
    LABEL_INSTANCE: "i1",
    LABEL_KIND: "podsandbox",
    LABEL_CONTAINER: "POD",
    LABEL_SPARE: "true",
}


@pytest.mark.parametrize(
    ("labels", "name", "owner"),
    [
        pytest.param(SPARE_LABELS, "/minikubelet-spare-i1-abc", None, id="unclaimed spare"),
        pytest.param(
            SPARE_LABELS, f"/k8s_POD_web_default_{UID}_3", ("web", "default", UID, 3), id="claimed"
        ),
        pytest.param(
            SPARE_LABELS,
            f"/k8s_POD_web_default_{UID}_0_1a2b3c4d",
            ("web", "default", UID, 0),
            id="claimed under a suffixed name",
        ),
        pytest.param(
            {LABEL_UID: UID, "io.kubernetes.pod.name": "web"},
            "/anything",
            ("web", "", UID, 0),
            id="made for its pod: the labels say",
        ),
    ],
)
def test_a_sandboxs_pod(
    labels: dict[str, str], name: str, owner: tuple[str, str, str, int] | None
) -> None:
    assert sandbox_owner(labels, name) == owner


def test_a_claimed_spare_reads_as_the_pods_sandbox_and_its_events_name_the_pod() -> None:
    raw = {
        "Id": "abc",
        "Name": f"/k8s_POD_web_default_{UID}_0",
        "Config": {"Labels": SPARE_LABELS},
        "State": {"Running": True},
        "NetworkSettings": {"Networks": {"net": {"IPAddress": "10.89.1.2"}}},
        "Created": "2026-12-03T08:00:00Z",
    }
    info = sandbox_info(raw, "net")
    assert (info.pod_uid, info.pod_name, info.namespace, info.ip) == (
        UID,
        "web",
        "default",
        "10.89.1.2",
    )
    event = to_event(
        {
            "Action": "die",
            "Actor": {
                "ID": "abc",
                "Attributes": {**SPARE_LABELS, "name": f"k8s_POD_web_default_{UID}_0"},
            },
        }
    )
    assert event is not None and event.pod_uid == UID and event.container_name == "POD"
