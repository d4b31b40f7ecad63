"""Bench: the prober's schedule error and CPU per probe at 50, 100 and 200 probed containers.

Issue 4's goals: p99 schedule error under 20 ms at 200 containers, and the agent's CPU per
probe within 2x of a bare asyncio loop doing the same HTTP GETs with httpx.

The honest setup: real containers (`minikubelet/debian-base:bookworm` running
`python3 -m http.server 8080`), one pod each with an httpGet readiness probe every 1 s. The
agent runs in this process, built as `minikubelet/agent.py` builds it (Store, DockerRuntime,
Node, which builds its prober and probe history writer), without the API server (pods go
straight into the store through the API server's create pipeline), and with one more observer
on the node's prober that keeps the `Attempt`s of the measurement window.

- **Schedule error**: `Attempt.started - Attempt.scheduled` (monotonic; the tick the worker's
  ticker was due at, and when the probe began), p50/p99/max over every probe of the window.
- **CPU per probe**: this process's user+system CPU (getrusage, all threads) over the window,
  divided by the probes that ran in it. It is the whole agent's CPU: pod workers, runtime
  events and housekeeping count too, as they would on a user's machine.
- **The machine** during each window (/proc/stat, all CPUs): how busy it was and how much the
  hypervisor stole, so a tail that the machine made reads as such.
- **Bare loop**: after the agent is stopped (its containers keep running), a child process runs
  one asyncio task per pod IP: a random start in the first period, then a GET every 1 s on
  ticks anchored to its start (missed ticks dropped, as the prober's ticker does), one
  `httpx.AsyncClient` with no keep-alive (the kubelet opens a connection per probe), the
  same schedule error and CPU figures.

Sizes grow in place (50 pods, then 50 more, then 100 more); each size waits (bounded) until
every pod is Ready, then measures a window of `--window` seconds (default 30). Every container
and the network this bench's agent instance made are removed at the end. All traffic is local.

- **With the view open** (`--view`, issue 21): the agent also serves its live dashboard
  (`server/dashboard/`, on a loopback port with its token, as `daemon run` does), and a child
  process follows it as open browser pages would: the pods' Table stream and the history
  streams of `--view-pods` pods (default 10), every event read. The child counts what it read,
  so the figures show the view was following.

    python bench/probes.py [--sizes 50,100,200] [--window 30] [--view] [--json] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli import machine, remove_network  # bench/cli.py, beside this file

IMAGE = "minikubelet/debian-base:bookworm"
PERIOD = 1.0
READY_TIMEOUT = 300.0  # per size, from the pods' creation to all Ready
CHILD_TIMEOUT = 120.0  # the bare loop's child, per size, beyond its window
GOAL_P99 = 0.020
GOAL_CPU_RATIO = 2.0


class BenchError(Exception):
    """The bench cannot go on; the message says why."""


def pod_body(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench-probes"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "web",
                    "image": IMAGE,
                    "command": ["python3", "-m", "http.server", "8080"],
                    "readinessProbe": {
                        "httpGet": {"path": "/", "port": 8080},
                        "periodSeconds": int(PERIOD),
                    },
                }
            ],
        },
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_ticks() -> tuple[int, int, int]:
    """All CPUs' (busy, steal, total) clock ticks since boot, from /proc/stat: what else ran on
    the machine during a window, and what the hypervisor took from it (steal)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, steal, total = fields[3] + fields[4], fields[7], sum(fields)
    return total - idle - steal, steal, total


def machine_share(before: tuple[int, int, int], after: tuple[int, int, int]) -> dict[str, float]:
    """The machine's busy and stolen share of a window, in % of all its CPUs."""
    total = max(1, after[2] - before[2])
    return {
        "machine_busy_percent": (after[0] - before[0]) / total * 100,
        "steal_percent": (after[1] - before[1]) / total * 100,
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(errors: list[float], cpu: float, failed: int, window: float) -> dict[str, Any]:
    if not errors:
        raise BenchError("no probe ran in the measurement window")
    return {
        "probes": len(errors),
        "probes_per_s": len(errors) / window,
        "failed": failed,
        "error_p50_ms": quantile(errors, 0.50) * 1000,
        "error_p99_ms": quantile(errors, 0.99) * 1000,
        "error_max_ms": max(errors) * 1000,
        "cpu_s": cpu,
        "cpu_per_probe_ms": cpu / len(errors) * 1000,
        "cpu_percent": cpu / window * 100,
    }


# -- the agent, in this process ---------------------------------------------------------------


async def agent_phase(
    home: Path, sizes: list[int], window: float, progress: bool, view: int | None
) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """Start pods size by size under an in-process agent; the figures per size and pod IPs.
    With `view`, the agent serves its dashboard and a child follows that many pods on it."""
    import anyio

    from minikubelet.api.codec import to_dict
    from minikubelet.api.create import prepare_create
    from minikubelet.api.models import Pod
    from minikubelet.clock import RealClock
    from minikubelet.node.manager import Node, NodeConfig
    from minikubelet.paths import StatePaths
    from minikubelet.prober.outcome import ProbeResult
    from minikubelet.prober.worker import Attempt
    from minikubelet.runtime.docker import DockerRuntime
    from minikubelet.store import Store

    paths = StatePaths(home)
    paths.ensure()
    instance = f"bp{os.getpid():x}"
    paths.instance.write_text(instance + "\n")
    clock = RealClock()
    runtime = DockerRuntime(instance)
    store = Store.open(paths.database, clock, durable_commits=False)  # as the agent opens it
    attempts: list[Attempt] = []
    recording = False

    def record(pod: Pod, attempt: Attempt) -> None:
        if recording:
            attempts.append(attempt)

    results: dict[int, dict[str, Any]] = {}
    ips: list[str] = []
    try:
        node = Node(store, runtime, clock, NodeConfig(name="bench-node", pods_dir=paths.pods))
        node.probes.observers.append(record)
        async with anyio.create_task_group() as tg:
            await tg.start(node.run)
            viewer = None
            if view is not None:
                viewer = await start_view(tg, node, store, clock, view)
            have = 0
            for size in sizes:
                for index in range(have, size):
                    body = pod_body(f"probe-{index:03d}")
                    store.create("Pod", to_dict(prepare_create(body, "default", clock.utcnow())))
                have = size
                started = time.monotonic()
                while True:
                    pods, _ = store.list("Pod", "default")
                    ready = sum(1 for p in pods if _ready(p))
                    if ready >= size:
                        break
                    if time.monotonic() - started > READY_TIMEOUT:
                        raise BenchError(
                            f"only {ready} of {size} pods Ready after {READY_TIMEOUT}s"
                        )
                    await anyio.sleep(1.0)
                if progress:
                    took = time.monotonic() - started
                    print(f"  agent: {size} pods Ready in {took:.0f} s", file=sys.stderr)
                await anyio.sleep(2 * PERIOD)  # let the last workers settle into their ticks
                attempts.clear()
                recording = True
                cpu0, t0, ticks0 = cpu_seconds(), clock.monotonic(), machine_ticks()
                await anyio.sleep(window)
                cpu1, t1, ticks1 = cpu_seconds(), clock.monotonic(), machine_ticks()
                recording = False
                inside = [a for a in attempts if t0 <= a.started <= t1]
                errors = [a.started - a.scheduled for a in inside]
                failed = sum(1 for a in inside if a.outcome.result is not ProbeResult.SUCCESS)
                results[size] = summary(errors, cpu1 - cpu0, failed, t1 - t0)
                results[size].update(machine_share(ticks0, ticks1))
                if viewer is not None:
                    results[size]["view"] = viewer.counts()
                if progress:
                    r = results[size]
                    print(
                        f"  agent {size}: p50 {r['error_p50_ms']:.1f} ms p99 "
                        f"{r['error_p99_ms']:.1f} ms, {r['cpu_per_probe_ms']:.2f} ms CPU/probe",
                        file=sys.stderr,
                    )
            pods, _ = store.list("Pod", "default")
            ips = [str(p["status"]["podIP"]) for p in pods if p.get("status", {}).get("podIP")]
            if viewer is not None:
                viewer.stop()
            tg.cancel_scope.cancel()  # the agent stops; its containers keep running
    finally:
        store.close()
        with anyio.CancelScope(shield=True):
            await runtime.close()
    return results, ips  # in the pods' name order, as the store lists them


def _ready(pod: Any) -> bool:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return bool(statuses) and all(item.get("ready") for item in statuses)


# -- the view: the agent's dashboard, followed by a child process -----------------------------


class Viewer:
    """The following child; `counts()` asks it (SIGUSR1) for what it has read so far."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child

    def counts(self) -> dict[str, Any]:
        import signal

        assert self.child.stdout is not None
        if self.child.poll() is not None:
            raise BenchError(f"the view's follower exited ({self.child.returncode})")
        self.child.send_signal(signal.SIGUSR1)
        line = self.child.stdout.readline()  # answered at once; bounded by VIEW_LIFETIME
        result: dict[str, Any] = json.loads(line)
        return result

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(10)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


VIEW_LIFETIME = 3600.0  # the follower ends by itself after this, whatever happens to the bench


async def start_view(tg: Any, node: Any, store: Any, clock: Any, pods: int) -> Viewer:
    from minikubelet.server.dashboard.listener import DashboardListener
    from minikubelet.server.deps import ApiDeps

    deps = ApiDeps(
        store=store, clock=clock, node_name=node.name, logs=node, streams=node, probes=node
    )
    listener = DashboardListener()
    deps.dashboard_url = listener.url
    tg.start_soon(listener.serve, deps)
    names = ",".join(f"probe-{i:03d}" for i in range(pods))
    child = subprocess.Popen(
        [sys.executable, __file__, "--view-child", listener.url, "--view-pods", names],
        stdout=subprocess.PIPE,
    )
    return Viewer(child)


async def follow_view(url: str, names: list[str]) -> None:
    """The child: the Table stream and each pod's stream, as the page's EventSources read
    them, reconnecting as a browser does; SIGUSR1 prints the counts, SIGTERM ends it."""
    import signal

    import httpx

    base, _, query = url.partition("/?")
    paths = ["/api/pods", *(f"/api/pods/default/{name}" for name in names)]
    counts = {"streams": len(paths), "events": 0, "bytes": 0, "reconnects": 0}
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGUSR1, lambda: print(json.dumps(counts), flush=True))

    async def one(client: httpx.AsyncClient, path: str) -> None:
        while True:
            try:
                async with client.stream("GET", f"{base}{path}?{query}") as answer:
                    async for line in answer.aiter_lines():
                        counts["bytes"] += len(line) + 1
                        counts["events"] += line.startswith("event:")
            except httpx.HTTPError:
                pass
            counts["reconnects"] += 1
            await asyncio.sleep(1.0)  # EventSource's retry

    timeout = httpx.Timeout(10.0, read=None)
    async with httpx.AsyncClient(timeout=timeout) as client:
        tasks = [asyncio.create_task(one(client, path)) for path in paths]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), VIEW_LIFETIME)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- the bare loop, in a child process --------------------------------------------------------


async def bare_loop(ips: list[str], window: float) -> dict[str, Any]:
    import httpx

    loop = asyncio.get_running_loop()
    errors: list[float] = []
    failed = 0
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=1.0) as client:
        begin = loop.time() + PERIOD  # every task has started its ticker by then
        end = begin + window

        async def target(ip: str) -> None:
            nonlocal failed
            await asyncio.sleep(random.uniform(0, PERIOD))
            anchor = due = loop.time()
            while due < end:
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = loop.time()
                try:
                    answer = await client.get(f"http://{ip}:8080/")
                    ok = 200 <= answer.status_code < 400
                except httpx.HTTPError:
                    ok = False
                if begin <= started <= end:
                    errors.append(started - due)
                    failed += not ok
                due = anchor + (math.floor((loop.time() - anchor) / PERIOD) + 1) * PERIOD

        cpu0, ticks0 = cpu_seconds(), machine_ticks()
        await asyncio.gather(*(target(ip) for ip in ips))
        cpu1, ticks1 = cpu_seconds(), machine_ticks()
    # CPU over the whole run (start-up second included), probes over the window: scale CPU
    result = summary(errors, (cpu1 - cpu0) * window / (window + 2 * PERIOD), failed, window)
    return {**result, **machine_share(ticks0, ticks1)}


def run_bare(ips: list[str], window: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--bare-child", ",".join(ips), "--window", str(window)],
            capture_output=True,
            timeout=window + CHILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError("the bare loop did not finish in time") from exc
    if done.returncode != 0:
        raise BenchError(f"the bare loop failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- the whole bench --------------------------------------------------------------------------


def cleanup_engine(instance: str) -> None:
    import docker

    client = docker.from_env()
    try:
        selector: dict[str, str | list[str] | bool] = {"label": f"minikubelet.instance={instance}"}
        for container in client.containers.list(all=True, filters=selector):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        for network in client.networks.list(filters=selector):
            remove_network(network)
    finally:
        client.close()


def bench(sizes: list[int], window: float, progress: bool, view: int | None) -> dict[str, Any]:
    import anyio

    home = Path(tempfile.mkdtemp(prefix="mkb-bench-probes-", dir="/tmp"))
    try:
        try:
            agent, ips = anyio.run(agent_phase, home, sizes, window, progress, view)
        except BaseExceptionGroup as group:  # the task group wraps the bench's own error
            found = group.subgroup(BenchError)
            if found is None:
                raise
            raise BenchError(str(found.exceptions[0])) from group
        bare: dict[int, dict[str, Any]] = {}
        for size in sizes:
            bare[size] = run_bare(ips[:size], window)
            if progress:
                r = bare[size]
                print(
                    f"  bare {size}: p50 {r['error_p50_ms']:.1f} ms p99 {r['error_p99_ms']:.1f} ms,"
                    f" {r['cpu_per_probe_ms']:.2f} ms CPU/probe",
                    file=sys.stderr,
                )
    finally:
        with contextlib.suppress(OSError):
            cleanup_engine((home / "instance-id").read_text().strip())
        shutil.rmtree(home, ignore_errors=True)
    rows = []
    for size in sizes:
        ratio = agent[size]["cpu_per_probe_ms"] / bare[size]["cpu_per_probe_ms"]
        rows.append(
            {"containers": size, "agent": agent[size], "bare": bare[size], "cpu_ratio": ratio}
        )
    return {
        "bench": "probes",
        "window_s": window,
        "period_s": PERIOD,
        "view_pods": view,
        "image": IMAGE,
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine(),
        "goals": {"p99_error_ms_at_200": GOAL_P99 * 1000, "cpu_ratio": GOAL_CPU_RATIO},
        "results": rows,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| containers | who | probes/s | failed | error p50 | error p99 | error max "
        "| CPU/probe | CPU % of a core | machine busy / stolen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["results"]:
        for who in ("agent", "bare"):
            r = row[who]
            name = "agent (prober)" if who == "agent" else "bare asyncio+httpx"
            lines.append(
                f"| {row['containers']} | {name} | {r['probes_per_s']:.0f} | {r['failed']} "
                f"| {r['error_p50_ms']:.1f} ms | {r['error_p99_ms']:.1f} ms "
                f"| {r['error_max_ms']:.1f} ms | {r['cpu_per_probe_ms']:.2f} ms "
                f"| {r['cpu_percent']:.0f} % "
                f"| {r['machine_busy_percent']:.0f} / {r['steal_percent']:.1f} % |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,100,200", help="probed containers, ascending")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per size")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    parser.add_argument(
        "--view", action="store_true", help="the dashboard open and following (issue 21)"
    )
    parser.add_argument("--view-pods", default="10", help="pods the view follows")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    parser.add_argument("--view-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.window <= 600:
        parser.error("--window must be between 1 and 600 seconds")
    if args.bare_child is not None:
        print(json.dumps(asyncio.run(bare_loop(args.bare_child.split(","), args.window))))
        return 0
    if args.view_child is not None:
        asyncio.run(follow_view(args.view_child, args.view_pods.split(",")))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    view = int(args.view_pods) if args.view else None
    try:
        result = bench(sizes, args.window, args.verbose, view)
    except BenchError as err:
        print(f"bench/probes.py: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"probes every {PERIOD:.0f} s, {args.window:.0f} s per size "
        f"({result['date']}, {result['machine']}):"
    )
    print(table(result))
    for row in result["results"]:
        if "view" in row["agent"]:
            v = row["agent"]["view"]
            print(
                f"view at {row['containers']}: {v['streams']} streams followed, "
                f"{v['events']} events and {v['bytes']} bytes read so far, "
                f"{v['reconnects']} reconnects"
            )
    last = result["results"][-1]
    p99 = last["agent"]["error_p99_ms"]
    print(
        f"goals at {last['containers']}: p99 {p99:.1f} ms (< {GOAL_P99 * 1000:.0f} ms: "
        f"{'met' if p99 < GOAL_P99 * 1000 else 'NOT met'}); CPU ratio {last['cpu_ratio']:.2f} "
        f"(<= {GOAL_CPU_RATIO}: {'met' if last['cpu_ratio'] <= GOAL_CPU_RATIO else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
