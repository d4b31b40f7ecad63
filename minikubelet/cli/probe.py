"""`probe POD [-c C] --liveness|--readiness|--startup [-o json]`: run one of a container's
probes once, now, and print what it returned, raw: the result, the kubelet's message and what
the handler saw. Nobody counts it: the probe's worker, its thresholds, the events and the pod
stay as they were, and the output says so."""

from __future__ import annotations

import argparse
import json
import sys

from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.probes import pod_name
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "render", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD")
    parser.add_argument("-c", "--container", default="")
    for kind in ("liveness", "readiness", "startup"):
        parser.add_argument(f"--{kind}", dest="kind", action="append_const", const=kind)
    parser.add_argument("-o", "--output", default="", choices=["", "json"])


def render(run: JSON) -> str:
    """The outcome in lines a person reads top-down."""
    from minikubelet.printers.causes import detail_text

    detail = run.get("detail") or {}
    target = " ".join(str(detail[k]) for k in ("handler", "target") if detail.get(k))
    lines = [
        f"{run['probe']} probe of {run['namespace']}/{run['pod']}, container {run['container']}"
        + (f" ({target})" if target else "")
        + ", run once now",
        f"result:   {run['result']}",
    ]
    if run.get("error"):
        lines.append(f"error:    {run['error']}")
    message = " ".join(str(run.get("message") or "").split())
    if message:
        lines.append(f"message:  {message[:300]}")
    seen = detail_text(detail)
    if seen:
        lines.append(f"detail:   {seen}")
    lines.append(f"latency:  {run['durationMs']:.0f}ms")
    note = str(run["note"])
    lines.append(note[:1].upper() + note[1:] + ".")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    kinds = args.kind or []
    if len(kinds) != 1:
        raise ManifestError("exactly one of --liveness, --readiness or --startup is required")
    namespace, name = args.namespace or "default", pod_name(args.pod)
    path = f"/minikubelet/v1/namespaces/{namespace}/pods/{name}/probe"
    with agent.connect() as client:
        result: JSON = client.request(
            "POST", path, body={}, probe=kinds[0], container=args.container or None
        )
    sys.stdout.write(
        json.dumps(result, indent=4) + "\n" if args.output == "json" else render(result)
    )
    return 0
