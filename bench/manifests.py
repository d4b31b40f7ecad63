"""Bench: read, strictly decode, default and validate a 1,000-pod multi-document file.

The goal (issue 2) is under 1 s on the project's 2-core machine. Each round runs the whole
pipeline `minikubelet apply --dry-run=server -f` runs per object; the median of rounds is
reported, with the pods per second.

    python bench/manifests.py [--pods 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from minikubelet.api.create import prepare_create
from minikubelet.api.manifests import load_text

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: webapl-{i}
  labels: {{app: webapl, shard: "{shard}"}}
spec:
  containers:
    - name: webapl
      image: webapl:0.1
      ports: [{{name: http, containerPort: 3000}}]
      env: [{{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}]
      resources: {{limits: {{cpu: 500m, memory: 128Mi}}}}
      livenessProbe:
        httpGet: {{path: /healthz, port: 3000}}
        initialDelaySeconds: 3
        periodSeconds: 5
      readinessProbe:
        httpGet: {{path: /ready, port: http}}
        initialDelaySeconds: 15
        periodSeconds: 6
      volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, emptyDir: {{}}}}]
"""


def document(pods: int) -> str:
    return "---\n".join(POD.format(i=i, shard=i % 10) for i in range(pods))


def one_round(text: str) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    for manifest in load_text(text, "bench.yaml"):
        prepare_create(manifest.body, "default", now)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    text = document(args.pods)
    times = [one_round(text) for _ in range(args.rounds)]
    median = statistics.median(times)
    print(
        f"manifests: {args.pods} pods ({len(text) / 1024:.0f} KiB) read+decode+default+validate: "
        f"median {median:.3f} s over {args.rounds} rounds (min {min(times):.3f} s, "
        f"max {max(times):.3f} s), {args.pods / median:,.0f} pods/s"
    )


if __name__ == "__main__":
    main()
