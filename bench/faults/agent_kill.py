"""The agent SIGKILLed at random moments during a churn: many seeded trials, with figures.

    python bench/faults/agent_kill.py [--trials 50] [--seed 1] [--json]

The trial is `tests/faults/test_agent_kill.py`'s: a thread creates, updates (image change) and
deletes pods while a crash-looping pod restarts; the agent is SIGKILLed at a random moment,
started again, and checked (no pod lost, no container duplicated, no orphan left, restart and
event counts never decreasing, every pod converging to its spec within 60 s). One agent, in a
temporary MINIKUBELET_HOME, serves every trial; at the end it is stopped and everything its
instance made on the engine is removed. Prints trials, failures, ops, pods, and the time from
the restart to convergence (p50/p99/max).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from minikubelet.cli.client import ApiClient  # noqa: E402
from minikubelet.paths import StatePaths  # noqa: E402
from tests.e2e.conftest import Agent, _cleanup_engine, _spawn, _wait_healthy  # noqa: E402
from tests.faults.test_agent_kill import (  # noqa: E402
    Ledger,
    TrialResult,
    clean_up_between_trials,
    trial,
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(trials: int, seed: int) -> tuple[list[TrialResult], Ledger, float]:
    rng = random.Random(seed)
    ledger = Ledger()
    results: list[TrialResult] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mk-kill-") as tmp:
        paths = StatePaths(Path(tmp) / "home")
        paths.ensure()
        api = ApiClient(paths)
        agent = Agent(paths, _spawn(paths), api)
        try:
            _wait_healthy(agent)
            for number in range(1, trials + 1):
                result = trial(agent, ledger, rng)
                results.append(result)
                took = "-" if result.converge_seconds is None else f"{result.converge_seconds:.1f}s"
                verdict = "ok" if not result.problems else "; ".join(result.problems)
                print(
                    f"trial {number:3d}: ops {result.ops:2d}, killed at {result.kill_after:.2f}s, "
                    f"converged in {took}: {verdict}",
                    file=sys.stderr,
                    flush=True,
                )
                clean_up_between_trials(agent, ledger)
        finally:
            agent.stop()
            api.close()
            if paths.instance.exists():
                _cleanup_engine(agent.instance)
    return results, ledger, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results, ledger, wall = run(args.trials, args.seed)
    times = [r.converge_seconds for r in results if r.converge_seconds is not None]
    failures = [r for r in results if r.problems]
    problems = [p for r in results for p in r.problems]
    figures = {
        "trials": len(results),
        "seed": args.seed,
        "failures": len(failures),
        "ops": sum(r.ops for r in results),
        "pods_created": ledger.created,
        "lost": sum(p.startswith(("lost", "replaced", "update lost")) for p in problems),
        "duplicated": sum(p.startswith("duplicated") for p in problems),
        "not_converged": sum(p.startswith("not converged") for p in problems),
        "counters_decreased": sum(("went" in p or "event" in p) for p in problems),
        "converge_p50_s": round(statistics.median(times), 2) if times else None,
        "converge_p99_s": round(_percentile(times, 0.99), 2) if times else None,
        "converge_max_s": round(max(times), 2) if times else None,
        "wall_s": round(wall, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:20s} {value}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
