"""`minikubelet reset` removing a node's network (runtime/_teardown.py), in virtual time: an
engine that keeps a stale endpoint for a moment gets NETWORK_RELEASE seconds, then the error
names the way out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import docker.errors
import pytest
import requests

from minikubelet.clock import FakeClock
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime._teardown import NETWORK_RELEASE
from minikubelet.runtime.docker import DockerRuntime, _translate

pytestmark = pytest.mark.anyio

STALE = "error while removing network: network minikubelet-n1 id 0c97 has active endpoints"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("engine", response=response, explanation=explanation)


class Engine:
    """The SDK calls `_remove_network` makes; each removal answers the next error queued
    (`None`: removed)."""

    def __init__(self, answers: list[docker.errors.APIError | None]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, float]] = []
        self.clock = FakeClock()

    def remove_network(self, net_id: str) -> None:
        self.calls.append((net_id, self.clock.monotonic()))
        error = self.answers.pop(0) if self.answers else None
        if error is not None:
            raise error


async def _remove(engine: Engine, within: float) -> BaseException | None:
    """Run the removal while virtual time moves on by `within`; what it raised. The SDK calls
    go to `engine` on the loop (a worker thread would let virtual time run ahead of them),
    translated as the runtime's own `_call` does."""
    runtime = DockerRuntime("n1", clock=engine.clock, direct_exec=False)

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(engine, *args)
        except docker.errors.APIError as exc:
            raise _translate(exc, RuntimeFailure) from exc

    vars(runtime)["_call"] = call
    raised: list[BaseException] = []

    async def remove() -> None:
        try:
            await runtime._remove_network("0c97", "minikubelet-n1")
        except RuntimeFailure as exc:
            raised.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(remove)
        for _ in range(int(within * 4)):
            await engine.clock.advance(0.25)
    return raised[0] if raised else None


async def test_a_stale_endpoint_for_a_moment_is_waited_out() -> None:
    engine = Engine([_api_error(403, STALE), _api_error(403, STALE), None])
    assert await _remove(engine, within=3) is None
    assert [at for _, at in engine.calls] == [0.0, 0.5, 1.0]


async def test_a_stale_endpoint_that_stays_names_the_way_out() -> None:
    engine = Engine([_api_error(403, STALE)] * 100)
    error = await _remove(engine, within=NETWORK_RELEASE + 2)
    assert str(error) == (
        f"network minikubelet-n1: {STALE}. No container of this node is left on it: the engine"
        " keeps a stale endpoint. Restart the engine (for Docker: `systemctl restart docker`),"
        " then run `minikubelet reset` again"
    )
    assert engine.calls[-1][1] == NETWORK_RELEASE  # asked until the deadline, then no more
    assert len(engine.calls) == NETWORK_RELEASE / 0.5 + 1


async def test_another_refusal_is_the_engines_at_once() -> None:
    engine = Engine([_api_error(500, "something else")])
    error = await _remove(engine, within=1)
    assert str(error) == "something else"
    assert len(engine.calls) == 1


async def test_a_network_already_gone_is_removed() -> None:
    engine = Engine([docker.errors.NotFound("gone", explanation="network 0c97 not found")])
    assert await _remove(engine, within=1) is None
    assert len(engine.calls) == 1
