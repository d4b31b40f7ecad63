"""Bench: the real `kubectl get pods` against the agent's HTTPS listener, with 100 pods, beside
`minikubelet get pods` on the agent's UNIX socket and `kubectl version --client` (the floor: a
client's start, no server).

Timed, each as a user runs it (a fresh process, wall time from spawn to exit):

- `kubectl version --client` (the floor);
- `kubectl get pods` through the kubeconfig `minikubelet kubeconfig` prints (TLS, the bearer
  token, discovery from kubectl's cache after the warm-up, then a Table list);
- `kubectl.1.32 get pods`: the same binary called directly, without the PATH's dispatcher;
- `minikubelet get pods`.

The agent runs once (`daemon start --listen 127.0.0.1:PORT`) in a temporary `MINIKUBELET_HOME`,
kubectl's discovery cache in a temporary dir beside it; both are stopped and removed at the end.
The pods do not run: every one has a nodeSelector no node matches, so it stays Pending in the
store (with its FailedScheduling event) and no container is started; the table rows are those of
Pending pods. One warm-up round is not counted (it also fills kubectl's discovery cache); then
N rounds run the commands in an order rotated every round; the median is reported. All traffic
is local (loopback).

Beside wall time, each command's CPU time (user + system, the process and its children, from
`getrusage(RUSAGE_CHILDREN)`) is reported: on a machine shared with other work, wall times
mostly measure the scheduler, CPU times much less so. Issue 20's goal is `minikubelet get pods`
at most 1.0x `kubectl get pods`; both ratios are printed, with the load average.

`--describe-apply` adds `describe pod` and `apply -f` of one unchanged pod, kubectl's and
minikubelet's, to the same rotation (issue 20's lean client: every verb as fast as kubectl).

    python bench/kubectl.py [--rounds 15] [--pods 100] [--describe-apply] [--json] [-v]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli import (  # bench/cli.py, beside this file
    BenchError,
    kubectl_version,
    machine,
    minikubelet_cli,
    pods,
    run,
    teardown,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def listening_agent(cli: str) -> Iterator[tuple[dict[str, str], Path]]:
    """An agent with an HTTPS listener on a free loopback port; `env` has MINIKUBELET_HOME,
    KUBECONFIG (the printed kubeconfig) and KUBECACHEDIR, all in one temporary dir."""
    home = Path(tempfile.mkdtemp(prefix="mkb-bench-kubectl-", dir="/tmp"))
    env = {
        **os.environ,
        "MINIKUBELET_HOME": str(home),
        "KUBECONFIG": str(home / "kubeconfig"),
        "KUBECACHEDIR": str(home / "kube-cache"),
    }
    try:
        run([cli, "daemon", "start", "--listen", f"127.0.0.1:{_free_port()}"], env)
        (home / "kubeconfig").write_text(run([cli, "kubeconfig"], env))
        yield env, home
    finally:
        teardown(cli, env, home)


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str], expect: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one command, spawn to exit; its output checked."""
    cpu, started = _cpu_of_children(), time.perf_counter()
    out = run(cmd, env)
    wall, cpu = time.perf_counter() - started, _cpu_of_children() - cpu
    if expect not in out:
        raise BenchError(f"{' '.join(cmd)}: expected {expect!r} in its output, got {out[:300]!r}")
    return wall, cpu


def _direct_kubectl() -> str:
    real = Path(shutil.which("kubectl") or "kubectl").resolve()
    beside = real.parent / "kubectl.1.32"
    return str(beside if beside.exists() else real)


def bench(
    count: int, rounds: int, warmup: int, progress: bool, describe_apply: bool = False
) -> dict[str, Any]:
    if shutil.which("kubectl") is None:
        raise BenchError("kubectl is not installed")
    cli = minikubelet_cli()
    samples: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    load = [os.getloadavg()[0]]
    with listening_agent(cli) as (env, home):
        names = [f"bench-{i}" for i in range(count)]
        (home / "bulk.yaml").write_text(pods(names))
        run([cli, "apply", "-f", str(home / "bulk.yaml")], env)
        last = f"bench-{count - 1} "
        (home / "one.yaml").write_text(pods(names[:1]))
        one = str(home / "one.yaml")
        commands: dict[str, tuple[list[str], str]] = {
            "kubectl version --client": (["kubectl", "version", "--client"], "Client"),
            "kubectl get pods": (["kubectl", "get", "pods"], last),
            "kubectl.1.32 get pods (direct)": ([_direct_kubectl(), "get", "pods"], last),
            "minikubelet get pods": ([cli, "get", "pods"], last),
        }
        if describe_apply:
            commands.update(
                {
                    "kubectl describe pod": (["kubectl", "describe", "pod", "bench-0"], "Name:"),
                    "minikubelet describe pod": ([cli, "describe", "pod", "bench-0"], "Name:"),
                    "kubectl apply -f (unchanged)": (["kubectl", "apply", "-f", one], "unchanged"),
                    "minikubelet apply -f (unchanged)": ([cli, "apply", "-f", one], "unchanged"),
                }
            )
        rows = run(["kubectl", "get", "pods", "--no-headers"], env).splitlines()
        if len(rows) != count or any("Pending" not in row for row in rows):
            raise BenchError(f"expected {count} Pending pods, kubectl lists {len(rows)}")
        samples = {name: [] for name in commands}
        cpu = {name: [] for name in commands}
        order = list(commands)
        for index in range(warmup + rounds):
            rotated = order[index % len(order) :] + order[: index % len(order)]
            for name in rotated:
                cmd, expect = commands[name]
                took, spent = timed(cmd, env, expect)
                if index >= warmup:
                    samples[name].append(took)
                    cpu[name].append(spent)
            if progress:
                kind = "warm-up" if index < warmup else f"round {index - warmup + 1}"
                print(f"  {kind} done", file=sys.stderr)
    load.append(os.getloadavg()[0])
    floor = statistics.median(samples["kubectl version --client"])
    kubectl_wall = statistics.median(samples["kubectl get pods"])
    kubectl_cpu = statistics.median(cpu["kubectl get pods"])
    results = [
        {
            "command": name,
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "ratio_to_floor": statistics.median(values) / floor,
            "ratio_to_kubectl_get": statistics.median(values) / kubectl_wall,
            "cpu_median_s": statistics.median(cpu[name]),
            "cpu_ratio_to_kubectl_get": statistics.median(cpu[name]) / kubectl_cpu,
            "samples_s": values,
            "cpu_samples_s": cpu[name],
        }
        for name, values in samples.items()
    ]
    return {
        "bench": "kubectl",
        "pods": count,
        "rounds": rounds,
        "definition": "wall time, process spawn to exit, against a running agent",
        "pods_note": "every pod Pending (a nodeSelector no node matches): no container runs",
        "date": datetime.now(UTC).date().isoformat(),
        "load_average_1m": load,
        "machine": machine(),
        "kubectl": kubectl_version(),
        "results": results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first, not counted")
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    parser.add_argument(
        "--describe-apply",
        action="store_true",
        help="also `describe pod` and `apply -f` of one unchanged pod, kubectl's and ours",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.pods < 1:
        parser.error("--rounds and --pods must be at least 1")
    try:
        result = bench(args.pods, args.rounds, args.warmup, args.verbose, args.describe_apply)
    except BenchError as err:
        print(f"bench/kubectl.py: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['pods']} pods (Pending, no container), median of {result['rounds']} rounds"
        f" ({result['date']}, {result['machine']}; kubectl {result['kubectl']}; load average"
        f" {result['load_average_1m'][0]:.1f} at the start, {result['load_average_1m'][1]:.1f}"
        " at the end):"
    )
    for r in result["results"]:
        ratio = (
            "" if r["command"].startswith("kubectl version") else f" ({r['ratio_to_floor']:.1f}x)"
        )
        print(
            f"  {r['command']:<32} {r['median_s'] * 1000:6.0f} ms{ratio}"
            f"  [min {r['min_s'] * 1000:.0f}, max {r['max_s'] * 1000:.0f}]"
            f"  CPU {r['cpu_median_s'] * 1000:4.0f} ms"
        )
    by = {r["command"]: r for r in result["results"]}
    for verb in ("get pods", "describe pod", "apply -f (unchanged)"):
        mine, theirs = by.get(f"minikubelet {verb}"), by.get(f"kubectl {verb}")
        if mine is None or theirs is None:
            continue
        print(
            f"  minikubelet {verb} / kubectl {verb}: wall"
            f" {mine['median_s'] / theirs['median_s']:.2f}x, CPU"
            f" {mine['cpu_median_s'] / theirs['cpu_median_s']:.2f}x (goal: at most 1.0x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
