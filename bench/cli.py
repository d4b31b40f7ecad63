"""Bench: wall time of the CLI's everyday commands at 1, 100 and 300 pods, beside kubectl.

Issue 5's goal: `minikubelet get pods` with 100 pods within 2x of `kubectl version --client`,
the floor of a client's start on this machine (kubectl needs no server for it).

Timed, each as a user runs it (a fresh process, wall time from spawn to exit):

- `kubectl version --client` (the floor);
- `minikubelet get pods`;
- `minikubelet describe pod bench-0`;
- `minikubelet apply -f changed.yaml`: the same pod with a new label value every round, so
  the answer is `pod/bench-apply configured` (a GET, then a PATCH);
- `minikubelet apply -f same.yaml`: a pod applied before and never changed, so the answer is
  `pod/bench-same unchanged` (a GET only).

The agent runs once (`daemon start`) in a temporary `MINIKUBELET_HOME` and is stopped and
cleaned up at the end. So that 300 pods need no 300 containers, every pod has a nodeSelector
no node matches: it stays Pending in the store (with its FailedScheduling event), and the
commands read and write exactly what they would for running pods, minus the status detail.
Sizes grow in place (1, then 99 more, then 200 more). At each size the commands run in an
order rotated every round; one warm-up round is not counted; the median of N rounds is
reported. All traffic is local.

    python bench/cli.py [--rounds 15] [--sizes 1,100,300] [--json] [-v]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GOAL = 2.0
CLI_TIMEOUT = 120.0
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: bench, round: "r{round}"}}
spec:
  nodeSelector: {{minikubelet.bench/never: "true"}}
  containers:
    - name: app
      image: minikubelet/debian-base:bookworm
      command: ["sleep", "3600"]
      ports: [{{name: http, containerPort: 8080}}]
      readinessProbe:
        httpGet: {{path: /, port: 8080}}
        periodSeconds: 1
"""


class BenchError(Exception):
    """The bench cannot go on; the message says why."""


def run(cmd: list[str], env: dict[str, str] | None = None, *, input: bytes | None = None) -> str:
    """Run a command to completion (bounded), `input` on its stdin; its stdout, or
    BenchError with its stderr. The benches' one way to run a command they wait on."""
    try:
        done = subprocess.run(
            cmd, env=env, input=input, capture_output=True, timeout=CLI_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(cmd)}: no answer in {CLI_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.decode()}")
    return done.stdout.decode()


def wait_for(what: str, check: Callable[[], Any], timeout: float, poll: float = 0.05) -> Any:
    """Call `check` every `poll` seconds until it returns something truthy; that value.
    Bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def remove_network(network: Any, timeout: float = 30) -> None:
    """Remove a Docker network a bench made. Docker 20.10 sometimes keeps an endpoint of a
    container removed just before (`has active endpoints`, with no container left on it):
    the removal is tried again until `timeout`; a network the engine still keeps is named on
    stderr with the way out (a dockerd restart drops the stale endpoint), so the figures
    measured so far are not lost to a traceback."""
    import docker

    def removed() -> bool:
        try:
            network.remove()
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "active endpoints" not in str(exc):
                raise
            return False
        return True

    try:
        wait_for(f"the engine to let network {network.name} go", removed, timeout, poll=0.5)
    except BenchError as exc:
        print(
            f"bench: {exc}: Docker kept a stale endpoint on it; after a restart of dockerd, "
            f"`docker network rm {network.name}`",
            file=sys.stderr,
        )


def timed(cmd: list[str], env: dict[str, str], expect: str | None = None) -> float:
    """Seconds from spawn to exit of one command; its output checked when `expect` is given."""
    started = time.perf_counter()
    out = run(cmd, env)
    elapsed = time.perf_counter() - started
    if expect is not None and expect not in out:
        raise BenchError(f"{' '.join(cmd)}: expected {expect!r} in its output, got {out[:300]!r}")
    return elapsed


def minikubelet_cli() -> str:
    beside = Path(sys.executable).parent / "minikubelet"
    found = str(beside) if beside.exists() else shutil.which("minikubelet")
    if not found:
        raise BenchError("the minikubelet CLI is not installed (make setup)")
    return found


def pods(names: list[str], round_: int = 0) -> str:
    return "---\n".join(POD.format(name=name, round=round_) for name in names)


@contextlib.contextmanager
def agent(cli: str) -> Iterator[tuple[dict[str, str], Path]]:
    """A node agent in a temporary MINIKUBELET_HOME; stopped and cleaned up afterwards."""
    home = Path(tempfile.mkdtemp(prefix="mkb-bench-cli-", dir="/tmp"))
    env = {**os.environ, "MINIKUBELET_HOME": str(home)}
    try:
        run([cli, "daemon", "start"], env)
        yield env, home
    finally:
        teardown(cli, env, home)


def teardown(cli: str, env: dict[str, str], home: Path) -> None:
    """Take a bench's node down with the node's own `reset --force`: it stops the agent, removes
    each pod's members before its sandbox one at a time, then the network, the pods' cgroup and
    the state directory. Then sweep, one container at a time, whatever a failed reset left.

    Not `docker rm -f` of all at once: the CLI removes them in parallel, and Docker 20.10 then
    left the network with endpoints no container held (`has active endpoints`, until a dockerd
    restart), in 3 of 6 runs of bench/node.py on 2026-12-04, also with the members first."""
    try:
        instance = (home / "instance-id").read_text().strip()
    except OSError:
        instance = ""
    with contextlib.suppress(BenchError, subprocess.SubprocessError):
        run([cli, "reset", "--force"], env)
    if instance:
        _sweep(instance)
    shutil.rmtree(home, ignore_errors=True)


def _sweep(instance: str) -> None:
    """What a failed reset left of `instance`: the e2e suite's own sweep (one container at a
    time, sandboxes last, then the network and the pods' cgroup), as bench/faults reuses it."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.e2e.conftest import _cleanup_engine

    _cleanup_engine(instance)


def kubectl_version() -> str:
    out = run(["kubectl", "version", "--client"])
    return out.splitlines()[0].removeprefix("Client Version: ") if out else "unknown"


def bench(sizes: list[int], rounds: int, warmup: int, progress: bool) -> dict[str, Any]:
    if shutil.which("kubectl") is None:
        raise BenchError("kubectl is not installed: it is the floor this bench compares with")
    cli = minikubelet_cli()
    results: list[dict[str, Any]] = []
    with agent(cli) as (env, home):
        work = home / "manifests"
        work.mkdir()
        (work / "same.yaml").write_text(pods(["bench-same"]))
        run([cli, "apply", "-f", str(work / "same.yaml")], env)
        have = 0
        for size in sizes:
            if size > have:
                names = [f"bench-{i}" for i in range(have, size)]
                (work / "bulk.yaml").write_text(pods(names))
                run([cli, "apply", "-f", str(work / "bulk.yaml")], env)
                have = size
            # the pods the table lists: `size` bench pods plus bench-same and bench-apply
            commands: dict[str, tuple[list[str], str | None]] = {
                "kubectl version --client": (["kubectl", "version", "--client"], "Client"),
                "get pods": ([cli, "get", "pods"], "bench-0 "),
                "describe pod": ([cli, "describe", "pod", "bench-0"], "Name:"),
                "apply -f (configured)": (
                    [cli, "apply", "-f", str(work / "changed.yaml")],
                    "configured",
                ),
                "apply -f (unchanged)": (
                    [cli, "apply", "-f", str(work / "same.yaml")],
                    "unchanged",
                ),
            }
            (work / "changed.yaml").write_text(pods(["bench-apply"], round_=0))
            run([cli, "apply", "-f", str(work / "changed.yaml")], env)
            samples: dict[str, list[float]] = {name: [] for name in commands}
            order = list(commands)
            for index in range(warmup + rounds):
                (work / "changed.yaml").write_text(
                    pods(["bench-apply"], round_=size * 1000 + index + 1)
                )
                rotated = order[index % len(order) :] + order[: index % len(order)]
                for name in rotated:
                    cmd, expect = commands[name]
                    took = timed(cmd, env, expect)
                    if index >= warmup:
                        samples[name].append(took)
                if progress:
                    kind = "warm-up" if index < warmup else f"round {index - warmup + 1}"
                    print(f"  {size} pods, {kind} done", file=sys.stderr)
            floor = statistics.median(samples["kubectl version --client"])
            for name, values in samples.items():
                median = statistics.median(values)
                results.append(
                    {
                        "pods": size,
                        "command": name,
                        "median_s": median,
                        "min_s": min(values),
                        "max_s": max(values),
                        "ratio_to_floor": median / floor,
                        "samples_s": values,
                    }
                )
    return {
        "bench": "cli",
        "rounds": rounds,
        "definition": "wall time, process spawn to exit, against a running agent",
        "pods_note": "pods Pending (unschedulable nodeSelector), plus bench-same and bench-apply",
        "goal": f"get pods at 100 pods <= {GOAL} x kubectl version --client",
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine(),
        "kubectl": kubectl_version(),
        "bytecode_cached": _bytecode_cached(),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "results": results,
    }


def _bytecode_cached() -> bool:
    import minikubelet.cli.main as entry

    return (Path(entry.__file__).parent / "__pycache__" / "main.cpython-311.pyc").exists()


def machine() -> str:
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 2**20:.0f} GiB"
    return f"{os.cpu_count()} cores{mem}, {platform.platform()}, Python {platform.python_version()}"


def table(result: dict[str, Any]) -> str:
    sizes = sorted({r["pods"] for r in result["results"]})
    names = list(dict.fromkeys(r["command"] for r in result["results"]))
    by = {(r["pods"], r["command"]): r for r in result["results"]}
    head = "| command | " + " | ".join(f"{n} pods" for n in sizes) + " |"
    lines = [head, "|---|" + "---|" * len(sizes)]
    for name in names:
        cells = []
        for size in sizes:
            r = by[(size, name)]
            ratio = "" if name.startswith("kubectl") else f" ({r['ratio_to_floor']:.1f}x)"
            cells.append(f"{r['median_s'] * 1000:.0f} ms{ratio}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first, not counted")
    parser.add_argument("--sizes", default="1,100,300", help="pod counts, ascending")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.rounds < 1 or not sizes or sizes[0] < 1:
        parser.error("--rounds and every size must be at least 1")
    try:
        result = bench(sizes, args.rounds, args.warmup, args.verbose)
    except BenchError as err:
        print(f"bench/cli.py: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"CLI wall time, median of {args.rounds} rounds ({result['date']}, {result['machine']};"
        f" kubectl {result['kubectl']}); ratio to the kubectl floor in brackets:"
    )
    print(table(result))
    at = [r for r in result["results"] if r["command"] == "get pods" and r["pods"] == 100]
    if at:
        met = "met" if at[0]["ratio_to_floor"] <= GOAL else "NOT met"
        print(
            f"goal: get pods at 100 pods <= {GOAL}x the floor: "
            f"{at[0]['ratio_to_floor']:.2f}x, {met}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
