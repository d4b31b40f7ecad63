"""Bench: a cold `minikubelet apply -f` (no agent running yet) to the app container's start,
for one or more source trees side by side, with CPU time beside wall time.

Issue 20's goal: under 1.5 s. Each round is `bench/apply.py`'s cold start: a fresh
MINIKUBELET_HOME, `minikubelet apply -f pod.yaml` (the CLI starts the agent), the figure taken
from the app's own `started <ns>` line, then `daemon stop` and everything the agent made
removed. A tree is a directory holding a `minikubelet/` package (say `git archive <rev>
minikubelet | tar -x -C DIR`, bytecode compiled) put first on PYTHONPATH, which the CLI and the
agent it starts inherit; `NAME=` (empty) is this checkout. Trees take turns, the order rotated
every round, after one warm-up round that is not counted.

Besides the wall time to the app's start and to the CLI's return, each round reads the CPU
time (user + system) of the CLI (this process's children) and of the agent up to the moment the
app's line was found (/proc/<pid>/stat): on a machine shared with other work, CPU time moves
much less than wall time.

    python bench/cold.py [--rounds 9] NAME=DIR [NAME=DIR ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import docker
from apply import ColdStart  # bench/apply.py, beside this file
from cli import BenchError, minikubelet_cli, wait_for  # bench/cli.py

START_TIMEOUT = 60.0
FIELDS = ("start", "cli", "cli_cpu", "agent_cpu")


def agent_cpu(home: Path) -> float:
    """The CPU seconds (user + system) the agent of `home` has used so far."""
    pid = int((home / "agent.pid").read_text())
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_round(client: docker.DockerClient, tree: str, pod: str) -> dict[str, float]:
    tool = ColdStart(client, minikubelet_cli())
    saved = os.environ.get("PYTHONPATH")
    if tree:
        os.environ["PYTHONPATH"] = tree
    else:
        os.environ.pop("PYTHONPATH", None)
    try:
        cpu0, t0 = children_cpu(), time.time_ns()
        tool.launch(pod)
        t1, cpu1 = time.time_ns(), children_cpu()
        started = wait_for("the app's line", lambda: tool.started_ns(pod), START_TIMEOUT)
        agent = agent_cpu(tool.home)
    finally:
        if tool.env:  # the round's own MINIKUBELET_HOME was made: stop its agent, clean up
            tool.remove(pod)
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    return {
        "start": (started - t0) / 1e9,
        "cli": (t1 - t0) / 1e9,
        "cli_cpu": cpu1 - cpu0,
        "agent_cpu": agent,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("-v", "--verbose", action="store_true", help="each round on stderr")
    parser.add_argument("trees", nargs="+", metavar="NAME=DIR", help="DIR empty: this checkout")
    args = parser.parse_args()
    trees = dict(t.partition("=")[::2] for t in args.trees)
    client = docker.from_env()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    loads = [os.getloadavg()[0]]
    try:
        for index in range(args.rounds + 1):
            names = list(trees)
            names = names[index % len(names) :] + names[: index % len(names)]
            for name in names:
                sample = one_round(client, trees[name], f"cold-{index}")
                if index:  # the first round warms up
                    samples[name].append(sample)
                if args.verbose:
                    print(f"  round {index} {name}: {sample}", file=sys.stderr)
            loads.append(os.getloadavg()[0])
    except BenchError as err:
        print(f"bench/cold.py: {err}", file=sys.stderr)
        return 1
    print(
        f"cold apply -> app started, medians of {args.rounds} interleaved rounds "
        f"(load average {min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} cores):"
    )
    for name, rows in samples.items():
        med = {key: statistics.median(row[key] for row in rows) for key in FIELDS}
        starts = [row["start"] for row in rows]
        print(
            f"  {name:<10} start {med['start']:.3f} s (min {min(starts):.3f}, max "
            f"{max(starts):.3f}); CLI returned {med['cli']:.3f} s; CPU: CLI "
            f"{med['cli_cpu']:.3f} s, agent to the app's start {med['agent_cpu']:.3f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
