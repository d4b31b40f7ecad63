"""`probes POD [-c NAME] [--tail N] [-w] [-o json|wide]`: every probe attempt of a pod, a line each.

Columns TIME (since the container instance started), CONTAINER (`name#N` after N restarts),
PROBE, RESULT (`(changed)` when the attempt crossed a threshold and changed the worker's
result), COUNT (the threshold count after it: `failure 2 of 3`, `ignored: errored`), LATENCY,
MESSAGE (the kubelet's), and with `-o wide` DETAIL (what the handler saw: exit code and output,
HTTP status, headers' size and body, the error or serving status), laid out as kubectl lays out
its tables. The history comes from the
agent's `/minikubelet/v1/.../probes` path; `-w` follows it as `get -w` follows pods.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

from minikubelet.api.kinds import POD
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "fetch", "history_path", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD")
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("--tail", type=int, default=-1)
    parser.add_argument("-w", "--watch", action="store_true")
    parser.add_argument("-o", "--output", default="", choices=["", "json", "wide"])


def pod_name(target: str) -> str:
    kind, sep, name = target.rpartition("/")
    if sep:
        resolve(kind, only=("Pod",))
    return name


def history_path(namespace: str, name: str) -> str:
    return f"/minikubelet/v1/namespaces/{namespace}/pods/{name}/probes"


def fetch(client: agent.ApiClient, namespace: str, name: str, container: str) -> tuple[JSON, JSON]:
    """The pod and its history; a missing pod in kubectl's words."""
    pod: JSON = client.request("GET", POD.path(namespace, name))
    history: JSON = client.request(
        "GET", history_path(namespace, name), container=container or None
    )
    return pod, history


def watch(
    client: agent.ApiClient, namespace: str, name: str, container: str, since: str
) -> Iterator[JSON]:
    """The history entries written after `since`, as they come (an iterator of dicts)."""
    for line in client.stream_lines(
        history_path(namespace, name),
        watch="true",
        resourceVersion=since,
        container=container or None,
    ):
        if line.strip():
            yield json.loads(line)["object"]


def run(args: argparse.Namespace) -> int:
    from minikubelet.printers.tabwriter import TabWriter
    from minikubelet.printers.timeline import (
        container_starts,
        pod_start,
        probe_line,
        probe_lines,
    )

    namespace, name = args.namespace or "default", pod_name(args.pod)
    if args.tail < -1:
        raise ManifestError("--tail must be greater than or equal to -1")
    client = agent.connect()
    try:
        pod, history = fetch(client, namespace, name, args.container)
        entries: list[JSON] = history["items"]
        writer = TabWriter(6, 3, remember_widths=args.watch)  # -w: rows keep the widths
        if args.output == "json":
            print(json.dumps(history, indent=4))
        else:
            wide = args.output == "wide"
            sys.stdout.write(writer.format(probe_lines(entries, pod, args.tail, wide=wide)))
        sys.stdout.flush()
        if not args.watch:
            return 0
        starts, fallback = container_starts(entries), pod_start(pod, entries)
        since = str(history["metadata"]["resourceVersion"])
        for entry in watch(client, namespace, name, args.container, since):
            starts.update(container_starts([entry]))
            if args.output == "json":
                sys.stdout.write(json.dumps(entry) + "\n")
            elif entry.get("kind") == "Probe":
                line = probe_line(entry, starts, fallback, args.output == "wide")
                sys.stdout.write(writer.format(line + "\n"))
            sys.stdout.flush()
    finally:
        client.close()
    return 0
