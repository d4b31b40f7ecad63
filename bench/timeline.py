"""Probe history writing (issue 10): what the batching writer sustains and what it costs.

    python bench/timeline.py [--containers 200] [--seconds 10] [--period 1.0] [--rounds 3]

1. Throughput: entries pushed through `HistoryWriter.attempt` and flushed into a real store
   on disk through `ProbeLog.write` (the writer's own connection in a worker thread, WAL,
   synchronous=NORMAL), as fast as they go: entries/s and CPU µs per entry.
2. Under load: `containers` × (liveness + readiness) synthetic probe loops on one event loop,
   each ticking every `period` on an anchored schedule as the prober's workers do and recording
   one attempt per tick, with the writer flushing every 0.5 s as the agent's does; `rounds`
   runs with recording off and on, interleaved (off, on, off, on, ...). Reported per run: the
   schedule error (actual minus scheduled wake-up, p50/p99/max), the process CPU per second,
   and the longest flush (wall time of `write`, most of it in the worker thread).
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import anyio

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.clock import RealClock
from minikubelet.prober.history import HistoryWriter, Pending
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.worker import Attempt, Kind, Result
from minikubelet.store import Store


def _pods(store: Store, count: int) -> list[Pod]:
    pods = []
    for n in range(count):
        name = f"web-{n}"
        store.create(
            "Pod",
            {
                "metadata": {"name": name, "namespace": "default", "uid": f"uid-{n}"},
                "spec": {"containers": [{"name": "app", "image": "webapl:0.1"}]},
            },
        )
        pods.append(
            Pod(
                metadata=ObjectMeta(name=name, namespace="default", uid=f"uid-{n}"),
                spec=PodSpec(containers=[Container(name="app", image="webapl:0.1")]),
            )
        )
    return pods


def _attempt(kind: Kind, at: float) -> Attempt:
    outcome = ProbeOutcome.failure("HTTP probe failed with statuscode: 500")
    return Attempt(kind, "app", "docker://abc", 0, at, at, 0.002, outcome, Result.FAILURE, False)


class _Timed:
    """The store's write, timed."""

    def __init__(self, store: Store) -> None:
        self.store, self.longest, self.total = store, 0.0, 0.0

    async def __call__(self, batch: Sequence[Pending]) -> int:
        began = time.perf_counter()
        written = await self.store.probes.write(batch)
        spent = time.perf_counter() - began
        self.longest, self.total = max(self.longest, spent), self.total + spent
        return written


async def throughput(home: Path, containers: int, records: int) -> tuple[float, float]:
    with Store.open(home / "t.db", RealClock()) as store:
        pods = _pods(store, containers)
        writer = HistoryWriter(_Timed(store), RealClock(), batch=500)
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(records):
            writer.attempt(pods[n % containers], _attempt(Kind(n % 2), time.monotonic()))
            if writer.pending >= writer.batch:
                await writer.flush()
        await writer.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return records / wall, cpu / records * 1e6


async def under_load(
    home: Path, containers: int, seconds: float, period: float, record: bool, round_: int
) -> dict[str, float]:
    clock = RealClock()
    with Store.open(home / f"load-{record}-{round_}.db", clock) as store:
        pods = _pods(store, containers)
        timed = _Timed(store)
        writer = HistoryWriter(timed, clock)
        errors: list[float] = []

        async def loop(pod: Pod, kind: Kind, offset: float) -> None:
            anchor = time.monotonic() + offset
            tick = 0
            while True:
                due = anchor + tick * period
                await anyio.sleep(max(0.0, due - time.monotonic()))
                now = time.monotonic()
                errors.append(now - due)
                if record:
                    writer.attempt(pod, _attempt(kind, now))
                tick = math.floor((time.monotonic() - anchor) / period) + 1

        cpu = time.process_time()
        with anyio.move_on_after(seconds):
            async with anyio.create_task_group() as tg:
                if record:
                    tg.start_soon(writer.run)
                for n, pod in enumerate(pods):
                    for kind in (Kind.LIVENESS, Kind.READINESS):
                        tg.start_soon(loop, pod, kind, period * ((2 * n + kind) / (2 * containers)))
        cpu = time.process_time() - cpu
        errors.sort()
        return {
            "p50": statistics.median(errors) * 1000,
            "p99": errors[int(len(errors) * 0.99)] * 1000,
            "max": errors[-1] * 1000,
            "cpu": cpu / seconds * 100,
            "flush": timed.longest * 1000,
            "written": writer.stats.written,
            "dropped": writer.stats.dropped,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--period", type=float, default=1.0)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        rate, cpu_us = anyio.run(throughput, home, args.containers, args.records)
        print(f"throughput: {rate:,.0f} records/s sustained, {cpu_us:.1f} µs CPU per record")
        for round_, record in itertools.product(range(args.rounds), (False, True)):
            r = anyio.run(
                under_load, home, args.containers, args.seconds, args.period, record, round_
            )
            print(
                f"{args.containers} containers x 2 probes every {args.period:g}s, recording "
                f"{'on ' if record else 'off'}: schedule error p50 {r['p50']:.2f} ms, "
                f"p99 {r['p99']:.2f} ms, max {r['max']:.2f} ms; CPU {r['cpu']:.1f}% of a core; "
                f"longest flush {r['flush']:.2f} ms; written {r['written']:.0f}, "
                f"dropped {r['dropped']:.0f}"
            )


if __name__ == "__main__":
    main()
