"""Bench: the scheduler's cost per attempt and per poke of a pending pod, beside N bound pods.

A real store (SQLite, as the agent keeps it) holds N bound pods from the seed's manifest with a
required anti-affinity each; the scheduler's work is timed as the node does it
(`node/manager.py: Node.schedule`): an attempt lists the bound pods and runs the filters; a
poke of a pending pod whose queue says nothing changed reads nothing. The median of rounds,
in milliseconds. No engine is needed.

    python bench/scheduler.py [--pods 110] [--rounds 200]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from minikubelet.api.codec import to_dict
from minikubelet.api.create import prepare_create
from minikubelet.clock import FakeClock
from minikubelet.node.scheduler import Attempt, filter_node, slim
from minikubelet.store import Store

ROOT = Path(__file__).resolve().parent.parent
TERM = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
NODE = {
    "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
    "spec": {},
    "status": {"allocatable": {"cpu": "2", "memory": "23Gi", "pods": "110"}},
}


def _pod(base: dict[str, object], name: str, clock: FakeClock) -> dict[str, object]:
    body = copy.deepcopy(base)
    meta = body["metadata"]
    assert isinstance(meta, dict)
    meta["name"] = name
    meta["labels"] = {"app": "web"}
    spec = body["spec"]
    assert isinstance(spec, dict)
    spec["affinity"] = {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [TERM]}
    }
    return to_dict(prepare_create(body, "default", clock.utcnow()))


def _median_ms(run: object, rounds: int) -> float:
    assert callable(run)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=110)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    base = yaml.safe_load((ROOT / "manifests" / "webapl-pod.yaml").read_text())
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as home, Store.open(Path(home) / "s.db", clock) as store:
        for i in range(args.pods):
            pod = _pod(base, f"web-{i}", clock)
            pod["spec"]["nodeName"] = "n1"  # type: ignore[index]
            store.create("Pod", pod)
        pending = _pod(base, "pending", clock)

        def attempt() -> None:
            others = store.list("Pod", None)[0]
            assert filter_node(pending, NODE, others) is not None

        others = store.list("Pod", None)[0]
        unfit = filter_node(pending, NODE, others)
        assert unfit is not None
        seen = {str(o["metadata"]["uid"]): slim(o) for o in others}
        last = Attempt(0.0, 1, unfit, pending, NODE, seen, marker=(1, "1"))

        def poke() -> None:
            assert last.waiting(60.0, (1, "1"))

        def hints() -> None:
            assert not last.due(pending, NODE, store.list("Pod", None)[0], 60.0)

        print(f"scheduler beside {args.pods} bound pods, median of {args.rounds} rounds:")
        for label, run in (
            ("an attempt (list the pods, run the filters)", attempt),
            ("a poke after a change (list, run the hints)", hints),
            ("a poke with nothing changed", poke),
        ):
            print(f"  {label:46} {_median_ms(run, args.rounds):8.3f} ms")


if __name__ == "__main__":
    main()
