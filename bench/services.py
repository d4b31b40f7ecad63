"""Bench: requests per second and latency through a Service against the pod IPs directly.

Issue 18's goal: through the ClusterIP and through the NodePort, at least half the direct rate,
p99 within 2 ms of the direct p99; 3 ready pods, one run.

Setup: a real agent (`minikubelet daemon run` in a temporary state dir), three webapl pods
(ready at once), one NodePort Service in front of them. The load: `--clients` concurrent
asyncio clients, each request a new TCP connection (`GET /`, HTTP/1.0), as new connections are
what a Service balances. Targets: the three pod IPs round-robin (direct), the ClusterIP,
127.0.0.1:NODEPORT. They take turns in slices of `--slice` seconds, the order rotated every
round, until each had `--seconds`, so all three see the same load on a shared machine; rates
and percentiles are over all of a target's slices. Everything the agent made on the engine is
removed at the end; the proxy's device goes with the agent.

    python bench/services.py [--clients 8] [--seconds 10] [--slice 2] [--json]
    python bench/services.py --latency 20

`--latency N`: from a readiness probe result to the Endpoints update, N times: one pod whose
exec readiness probe (`test -f /tmp/ready`, every 1 s, thresholds 1) is flipped with
`docker exec`; the probe attempt's end (its record in the probe history: time + duration) to
the Endpoints watch event that follows, both wall-clock on this machine (goal: p99 < 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cli import minikubelet_cli, teardown  # bench/cli.py, beside this file

from minikubelet.cli.client import ApiClient
from minikubelet.clock import poll
from minikubelet.paths import StatePaths

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATE = 0.5
GOAL_P99_MS = 2.0


def _pod(name: str) -> dict[str, Any]:
    env = [{"name": "WEBAPL_READY_AFTER", "value": "0"},
           {"name": "WEBAPL_LIVENESS_FAIL_AFTER", "value": "1000000"}]  # fmt: skip
    probe = {"httpGet": {"path": "/ready", "port": 3000}, "periodSeconds": 1}
    container = {"name": "web", "image": "webapl:0.1", "env": env, "readinessProbe": probe}
    return {"metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]}}  # fmt: skip


async def _one(host: str, port: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()
    return time.perf_counter() - started


async def _slice(targets: list[tuple[str, int]], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    turn = itertools.cycle(targets)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                latencies.append(await _one(*next(turn)))
            except OSError:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - began}


def _interleaved(
    targets: dict[str, list[tuple[str, int]]], clients: int, seconds: float, piece: float
) -> dict[str, dict[str, Any]]:
    """Slices of each target in turn, the order rotated every round (module docstring)."""
    names = list(targets)
    got: dict[str, dict[str, Any]] = {n: {"latencies": [], "errors": 0, "elapsed": 0.0}
                                      for n in names}  # fmt: skip
    rounds = max(1, round(seconds / piece))
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            part = asyncio.run(_slice(targets[name], clients, seconds / rounds))
            got[name]["latencies"] += part["latencies"]
            got[name]["errors"] += part["errors"]
            got[name]["elapsed"] += part["elapsed"]
    results = {}
    for name, found in got.items():
        latencies = sorted(found["latencies"])

        def pct(p: float, latencies: list[float] = latencies) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

        results[name] = {"requests": len(latencies), "errors": found["errors"],
                         "rate": len(latencies) / found["elapsed"],
                         "p50_ms": pct(0.50), "p99_ms": pct(0.99)}  # fmt: skip
    return results


def _latency(api: ApiClient, paths: StatePaths, rounds: int) -> list[float]:
    """Seconds from each readiness flip's probe result to the Endpoints event showing it."""
    import threading
    from datetime import datetime

    probe = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1,
             "failureThreshold": 1, "successThreshold": 1}  # fmt: skip
    pod = _pod("lat-0")
    pod["metadata"]["labels"] = {"app": "lat"}
    pod["spec"]["containers"][0]["readinessProbe"] = probe
    api.request("POST", "/api/v1/namespaces/default/pods", body=pod)
    spec = {"selector": {"app": "lat"}, "ports": [{"port": 80, "targetPort": 3000}]}
    body = {"metadata": {"name": "lat"}, "spec": spec}
    api.request("POST", "/api/v1/namespaces/default/services", body=body)
    events: list[tuple[float, int]] = []

    def follow() -> None:
        watcher = ApiClient(paths)
        path = "/api/v1/namespaces/default/endpoints"
        for line in watcher.stream_lines(path, watch="true", fieldSelector="metadata.name=lat"):
            if line.strip():
                obj = json.loads(line)["object"]
                ready = sum(len(s.get("addresses") or []) for s in obj.get("subsets") or [])
                events.append((time.time(), ready))

    threading.Thread(target=follow, daemon=True).start()
    if not poll(lambda: api.request("GET", "/api/v1/namespaces/default/pods/lat-0")
                .get("status", {}).get("containerStatuses"), 60, 0.2):  # fmt: skip
        raise SystemExit("the latency pod did not start")
    instance = (paths.home / "instance-id").read_text().strip()
    labels = ["io.kubernetes.pod.name=lat-0", "io.kubernetes.container.name=web",
              f"minikubelet.instance={instance}"]  # fmt: skip
    filters = [a for label in labels for a in ("--filter", f"label={label}")]
    listed = subprocess.run(["docker", "ps", "-q", *filters], capture_output=True, text=True)
    container = listed.stdout.split()[0]
    found: list[float] = []
    before = time.time()
    for i in range(rounds):
        want, seen = (1 if i % 2 == 0 else 0), len(events)
        action = "touch" if want else "rm"
        subprocess.run(["docker", "exec", container, action, "/tmp/ready"], check=True)

        def shown(want: int = want, seen: int = seen) -> bool:
            return any(r == want for _, r in events[seen:])

        if not poll(shown, 10, 0.01):
            raise SystemExit("the endpoints did not follow the readiness flip")
        at = next(t for t, r in events[seen:] if r == want)
        result = "success" if want else "failure"

        def ends(result: str = result, before: float = before, at: float = at) -> list[float]:
            """The matching probe attempts' ends; the history is written off the agent's
            loop, so it may trail the Endpoints event by a little."""
            path = "/minikubelet/v1/namespaces/default/pods/lat-0/probes"
            found_ends = []
            for entry in api.request("GET", path)["items"]:
                if entry.get("kind") != "Probe" or entry.get("probe") != "readiness":
                    continue
                began = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
                end = began + entry.get("durationMs", 0) / 1000
                if entry.get("result") == result and before < end <= at:
                    found_ends.append(end)
            return found_ends

        if not poll(lambda: bool(ends()), 5, 0.05):
            raise SystemExit("no probe result recorded for the flip")
        found.append(at - min(ends()))
        before = at
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--slice", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--latency", type=int, default=0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-services-"))
    paths = StatePaths(home)
    paths.ensure()
    env = {**os.environ, "MINIKUBELET_HOME": str(home)}
    agent = subprocess.Popen([sys.executable, "-P", "-m", "minikubelet", "daemon", "run"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    api = ApiClient(paths)
    try:
        if not poll(api.healthy, 30, 0.1):
            raise SystemExit("the agent did not start")
        if args.latency:
            found = sorted(_latency(api, paths, args.latency))
            p99 = found[min(len(found) - 1, int(0.99 * len(found)))] * 1000
            print(f"readiness result -> Endpoints: n={len(found)} "
                  f"p50 {found[len(found) // 2] * 1000:.1f} ms, p99 {p99:.1f} ms, "
                  f"max {found[-1] * 1000:.1f} ms (goal p99 < 100 ms)")  # fmt: skip
            return 0
        for i in range(3):
            api.request("POST", "/api/v1/namespaces/default/pods", body=_pod(f"bench-{i}"))
        ports = [{"port": 80, "targetPort": 3000}]
        spec = {"type": "NodePort", "selector": {"app": "bench"}, "ports": ports}
        body = {"metadata": {"name": "bench"}, "spec": spec}
        svc = api.request("POST", "/api/v1/namespaces/default/services", body=body)

        def ready() -> list[str]:
            found = api.request("GET", "/api/v1/namespaces/default/endpoints/bench")
            ips = [a["ip"] for s in found.get("subsets") or [] for a in s.get("addresses") or []]
            return ips if len(ips) == 3 else []

        if not poll(lambda: bool(ready()), 120, 0.2):
            raise SystemExit("the pods did not become ready")
        pods = [(ip, 3000) for ip in ready()]
        targets = {
            "direct (pod IPs)": pods,
            "ClusterIP": [(svc["spec"]["clusterIP"], 80)],
            "NodePort 127.0.0.1": [("127.0.0.1", svc["spec"]["ports"][0]["nodePort"])],
        }
        load = [os.getloadavg()[0]]
        results = _interleaved(targets, args.clients, args.seconds, args.slice)
        load.append(os.getloadavg()[0])
    finally:
        api.close()
        agent.terminate()
        agent.wait(30)
        teardown(minikubelet_cli(), env, home)  # nothing left behind, the state dir included
    direct = results["direct (pod IPs)"]
    if args.json:
        print(json.dumps({"load_average": load, "targets": results}, indent=1))
        return 0
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    print(f"{stamp} UTC, load average {load[0]:.1f}-{load[1]:.1f}, {args.clients} clients, "
          f"{args.seconds:g} s per target in {args.slice:g} s slices")  # fmt: skip
    print(f"{'target':<20} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  goal")
    for name, r in results.items():
        goal = ""
        if name != "direct (pod IPs)":
            ok = (
                r["rate"] >= GOAL_RATE * direct["rate"]
                and r["p99_ms"] <= direct["p99_ms"] + GOAL_P99_MS
            )
            goal = "met" if ok else "missed"
        print(f"{name:<20} {r['rate']:>8.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
              f"{r['errors']:>6}  {goal}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
