"""The control gate's order: a waiting call of a pod taken earlier goes before the calls of pods
taken later; equal ranks keep arrival order; a cancelled waiter leaves no hole and no leak."""

from __future__ import annotations

import anyio
import pytest

from minikubelet.runtime.order import RankedSlots
from minikubelet.runtime.types import CALLER_RANK

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_waiters_enter_by_rank_then_arrival() -> None:
    slots = RankedSlots(1)
    entered: list[str] = []
    release = anyio.Event()

    async def call(name: str, rank: int) -> None:
        async with slots.slot(rank):
            entered.append(name)
            if name == "holder":
                await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "holder", 0)
        await anyio.wait_all_tasks_blocked()
        for name, rank in [("pod3-sandbox", 3), ("pod1-app", 1), ("pod3-app", 3), ("node", 0)]:
            tg.start_soon(call, name, rank)
            await anyio.wait_all_tasks_blocked()
        release.set()
    assert entered == ["holder", "node", "pod1-app", "pod3-sandbox", "pod3-app"]


async def test_size_holders_at_once_and_a_cancelled_waiter_frees_nothing_it_did_not_hold() -> None:
    slots = RankedSlots(2)
    inside = 0
    most = 0
    release = anyio.Event()

    async def call() -> None:
        nonlocal inside, most
        async with slots.slot(5):
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        with anyio.CancelScope() as scope:  # a waiter gives up: the queue closes over it
            scope.cancel()
            async with slots.slot(1):
                pytest.fail("entered a full gate")
        release.set()
    assert most == 2
    async with slots.slot(0), slots.slot(0):  # both slots free again
        pass


async def test_a_waiter_cancelled_as_its_slot_comes_leaks_nothing() -> None:
    """Released and cancelled in the same turn: whether the cancel reached the waiter before
    its slot or after, the next waiter enters and the slot is free at the end."""
    slots = RankedSlots(1)
    order: list[str] = []

    async def waiter(name: str, scope_box: list[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            scope_box.append(scope)
            async with slots.slot(1):
                order.append(name)

    async with anyio.create_task_group() as tg:
        first: list[anyio.CancelScope] = []
        second: list[anyio.CancelScope] = []
        async with slots.slot(0):
            tg.start_soon(waiter, "first", first)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(waiter, "second", second)
            await anyio.wait_all_tasks_blocked()
        first[0].cancel()  # handed the slot on release, cancelled before or after it ran
    assert order[-1:] == ["second"] and set(order) <= {"first", "second"}
    async with slots.slot(0):
        pass


def test_the_rank_is_the_callers_own() -> None:
    assert CALLER_RANK.get() == 0  # the node's own calls: first
