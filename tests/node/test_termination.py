"""`TerminationOrdering` (`kuberuntime_termination_order.go`) in virtual time: sidecars wait for
every main container, then for the later sidecars, at most their grace period."""

from __future__ import annotations

import anyio
import pytest

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.clock import FakeClock
from minikubelet.node.termination import TerminationOrdering


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pod() -> Pod:
    return Pod(
        metadata=ObjectMeta(name="web", namespace="default", uid="u1"),
        spec=PodSpec(
            initContainers=[
                Container(name="s1", restartPolicy="Always"),
                Container(name="init", image="busybox"),
                Container(name="s2", restartPolicy="Always"),
            ],
            containers=[Container(name="a"), Container(name="b")],
        ),
    )


async def turns(clock: FakeClock, ordering: TerminationOrdering, grace: float) -> dict[str, float]:
    """Each container's wait for its turn, as virtual seconds, when the mains end at 3 s and 5 s
    and each sidecar ends 1 s after its turn comes."""
    waited: dict[str, float] = {}

    async def kill(name: str, runs_for: float) -> None:
        waited[name] = await ordering.wait_for_turn(name, grace)
        await clock.sleep(runs_for)
        ordering.container_terminated(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(kill, "a", 3.0)
        tg.start_soon(kill, "b", 5.0)
        tg.start_soon(kill, "s1", 1.0)
        tg.start_soon(kill, "s2", 1.0)
        for _ in range(240):  # in steps, as a node's timers step it
            await clock.advance(0.25)
    return waited


@pytest.mark.anyio
async def test_sidecars_stop_after_the_mains_in_reverse_order() -> None:
    clock = FakeClock()
    ordering = TerminationOrdering(pod(), ["a", "b", "s1", "s2"], clock)
    waited = await turns(clock, ordering, grace=30)
    # mains do not wait; s2 (the later sidecar) waits for b (5 s); s1 for s2 (5 + 1 s; the
    # fake clock may move one step on while s2's wait unwinds)
    assert (waited["a"], waited["b"], waited["s2"]) == (0.0, 0.0, 5.0)
    assert 6.0 <= waited["s1"] <= 6.25


@pytest.mark.anyio
async def test_the_wait_ends_with_the_grace_period() -> None:
    clock = FakeClock()
    ordering = TerminationOrdering(pod(), ["a", "b", "s1", "s2"], clock)
    waited = await turns(clock, ordering, grace=4)
    assert waited == {"a": 0.0, "b": 0.0, "s2": 4.0, "s1": 4.0}


@pytest.mark.anyio
async def test_containers_not_running_are_not_waited_for() -> None:
    clock = FakeClock()
    ordering = TerminationOrdering(pod(), ["s1"], clock)
    assert await ordering.wait_for_turn("s1", 30) == 0.0
    assert await ordering.wait_for_turn("s1", 0) == 0.0  # no grace: no wait (waitForTurn)
