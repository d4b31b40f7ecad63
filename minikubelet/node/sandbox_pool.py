"""Warm sandboxes: a few infra containers made and started on the pod network before any pod
asks, so a new pod's first container starts at once instead of after its sandbox's ~200 ms.

- A spare carries the instance's labels and `LABEL_SPARE`, and no pod's: labels are fixed at
  creation. A claim sets the pod's hostname (the engine's hostname file, the sandbox's UTS
  namespace), then renames the spare to the pod's dockershim sandbox name. The rename is the
  commit, atomic in the engine: from then on the runtime reads the sandbox's pod from its name
  (`runtime.types.sandbox_owner`), so adoption, the relist's orphan removal, engine events and
  `get -o wide`'s pod IP treat it as one made for the pod.
- Faults: claims run on the node's event loop one at a time (a spare leaves the ready list before
  the first await), so no spare is claimed twice or shared; a spare renamed belongs to its pod,
  one never renamed to none. An agent that starts (after a SIGKILL mid-claim or mid-refill, or a
  clean stop) removes every unclaimed spare it finds, never reusing one: one may hold a hostname
  written for a claim that never committed. Then the pool refills.
- Refills run in the background, a little after the last claim, so the engine makes the next
  spare after the claiming pod's containers, not while they start. Nor does a refill run while
  a pod makes a sandbox of its own (none was ready), nor within that delay of the pool's start:
  an agent started by a cold `apply` finds that pod at once, and its sandbox and containers go
  first (issue 20: the first fill, made beside them, competed with them for the engine).
- Pods publishing a `hostPort` get a sandbox of their own: ports are bound at creation; so do
  pods in a host namespace or sharing one PID namespace (namespaces are fixed at creation).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import anyio
from anyio.abc import TaskStatus

from minikubelet.clock import Clock
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime.types import (
    PodNamespaces,
    Runtime,
    SandboxInfo,
    SandboxSpec,
    SpareSandboxes,
)

__all__ = ["SandboxPool", "spares_of"]

log = logging.getLogger("minikubelet.node")
REFILL_DELAY = 0.5  # seconds after a claim before the engine is asked for the next spare
RETRY = 5.0  # seconds between attempts when the engine refuses a spare
STOP_LIMIT = 10.0  # seconds a clean stop spends removing the spares


def spares_of(runtime: Runtime) -> SpareSandboxes | None:
    """The runtime's warm-sandbox calls, when it has them."""
    needed = ("run_spare_sandbox", "list_spare_sandboxes", "claim_sandbox")
    return runtime if all(hasattr(runtime, n) for n in needed) else None  # type: ignore[return-value]


class SandboxPool:
    """`size` running spares kept ready; `claim` hands one to a pod."""

    def __init__(self, runtime: SpareSandboxes, size: int, clock: Clock) -> None:
        self.runtime = runtime
        self.size = size
        self.clock = clock
        self.ready: list[SandboxInfo] = []
        self.claims = 0  # claimed and committed
        self.misses = 0  # pods that found no spare (or whose claim failed)
        self._wake = anyio.Event()
        self._last_demand = float("-inf")  # the last claim, own sandbox made, or start
        self._making = 0  # pods making a sandbox of their own now

    async def claim(self, spec: SandboxSpec) -> SandboxInfo | None:
        """A ready spare made the pod's sandbox, or None (none ready, a hostPort, host or shared
        namespaces, sysctls, a failed claim): the caller then makes one as usual."""
        if spec.ports or spec.sysctls or spec.namespaces != PodNamespaces() or not self.ready:
            self.misses += 1
            self._wake.set()
            return None
        spare = self.ready.pop(0)  # before any await: no other claim can take it
        self._last_demand = self.clock.monotonic()
        self._wake.set()
        try:
            claimed = await self.runtime.claim_sandbox(spare.id, spec)
        except RuntimeFailure as exc:
            log.info("warm sandbox %s not claimed: %s", spare.id[:12], exc)
            self.misses += 1
            with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeFailure):
                await self.runtime.remove_sandbox(spare.id)
            return None
        self.claims += 1
        return claimed

    @contextlib.contextmanager
    def making(self) -> Iterator[None]:
        """Around a pod making its own sandbox: no refill competes with it for the engine, and
        none starts within REFILL_DELAY after it, when that pod's containers start."""
        self._making += 1
        try:
            yield
        finally:
            self._making -= 1
            self._last_demand = self.clock.monotonic()
            self._wake.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        self._last_demand = self.clock.monotonic()  # the pods found at start go first
        task_status.started()
        while not await self._remove_unclaimed():  # an earlier agent's first, or none is made
            await self.clock.sleep(RETRY)
        try:
            while True:
                if len(self.ready) >= self.size or self._making:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                    continue
                wait = self._last_demand + REFILL_DELAY - self.clock.monotonic()
                if wait > 0:
                    await self.clock.sleep(wait)
                    continue
                try:
                    self.ready.append(await self.runtime.run_spare_sandbox())
                except RuntimeFailure as exc:
                    log.warning("no warm sandbox made: %s", exc)
                    await self.clock.sleep(RETRY)
        finally:
            self.ready.clear()
            with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_LIMIT):
                await self._remove_unclaimed()  # a clean stop leaves no spare behind

    async def _remove_unclaimed(self) -> bool:
        try:
            for spare in await self.runtime.list_spare_sandboxes():
                await self.runtime.remove_sandbox(spare.id)
        except RuntimeFailure as exc:
            log.warning("warm sandboxes not cleaned up: %s", exc)
            return False
        return True
