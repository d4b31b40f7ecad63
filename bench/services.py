"""Bench: requests per second and latency through a Service against the pod IPs directly.

Issue 18's goal: through the ClusterIP and through the NodePort, at least half the direct rate,
p99 within 2 ms of the direct p99; 3 ready pods, one run.

Setup: a real agent (`minikubelet daemon run` in a temporary state dir), three webapl pods
(ready at once), one NodePort Service in front of them. The load: `--clients` concurrent
asyncio clients for `--seconds` per target, each request a new TCP connection (`GET /`,
HTTP/1.0), as new connections are what a Service balances. Targets, in turn: the three pod IPs
round-robin (direct), the ClusterIP, 127.0.0.1:NODEPORT. Everything the agent made on the
engine is removed at the end; the proxy's device goes with the agent.

    python bench/services.py [--clients 8] [--seconds 10] [--json]
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


async def _load(targets: list[tuple[str, int]], clients: int, seconds: float) -> dict[str, Any]:
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
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"requests": len(latencies), "errors": errors, "rate": len(latencies) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
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
        results = {name: asyncio.run(_load(t, args.clients, args.seconds))
                   for name, t in targets.items()}  # fmt: skip
    finally:
        api.close()
        agent.terminate()
        agent.wait(30)
        instance = (home / "instance-id").read_text().strip()
        ids = subprocess.run(["docker", "ps", "-aq", "--filter",
                              f"label=minikubelet.instance={instance}"],
                             capture_output=True, text=True).stdout.split()  # fmt: skip
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "network", "rm", f"minikubelet-{instance}"], capture_output=True)
    direct = results["direct (pod IPs)"]
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
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
