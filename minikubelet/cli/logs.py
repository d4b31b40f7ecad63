"""`logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]`: a container's output, as kubectl prints it.

kubectl picks the container on the client (`-c`, the `kubectl.kubernetes.io/default-container`
annotation, else the first one, with a note on stderr) and always names it in the request, so
the server's "choose one of" error never shows. The body is written to stdout as bytes as it
arrives, flushed line by line so `-f` reads live.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from minikubelet.api.gofmt import parse_go_duration
from minikubelet.api.kinds import POD
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.containers import containers_for
from minikubelet.cli.render import format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError, NotFound, StatusError

__all__ = ["add_arguments", "parse_duration", "run"]

USAGE = "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", metavar="(POD | TYPE/NAME) [CONTAINER]")
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("-f", "--follow", action="store_true")
    parser.add_argument("-p", "--previous", action="store_true")
    parser.add_argument("--tail", type=int, default=-1)
    parser.add_argument("--timestamps", action="store_true")
    parser.add_argument("--since", default="0s")
    parser.add_argument("--since-time", default="")
    parser.add_argument("--limit-bytes", type=int, default=0)
    parser.add_argument("--all-containers", action="store_true")
    parser.add_argument("--prefix", action="store_true")
    parser.add_argument("--ignore-errors", action="store_true")


def parse_duration(text: str, flag: str = "--since", command: str = "logs") -> float:
    """Go's `time.ParseDuration` (what kubectl's duration flags take), in seconds; an error
    names `flag` as kubectl's flag parsing does."""
    from minikubelet.cli.flags import flag_value_error

    try:
        return parse_go_duration(text)
    except ValueError as exc:
        raise flag_value_error(flag, text, str(exc), command) from None


def _since_seconds(text: str) -> int | None:
    """`--since`, rounded to the nearest second (half away from zero), as `ToLogOptions` does."""
    seconds = parse_duration(text)
    if seconds == 0:
        return None
    whole = int(abs(seconds) + 0.5)
    return whole if seconds > 0 else -whole


def _pod_name(targets: list[str], container: str) -> tuple[str, str]:
    """(pod, container) from `[pod/]NAME [CONTAINER]`, with kubectl's argument errors."""
    if not targets or len(targets) > 2:
        raise ManifestError(
            f"expected '{USAGE}'.\nPOD or TYPE/NAME is a required argument for the logs command\n"
            "See 'minikubelet logs -h' for help and examples"
        )
    kind, sep, name = targets[0].rpartition("/")
    if sep:
        resolve(kind, only=("Pod",))
    if len(targets) == 2:
        if container:
            raise ManifestError("only one of -c or an inline [CONTAINER] arg is allowed")
        container = targets[1]
    return name, container


def _validate(args: argparse.Namespace, container: str) -> int | None:
    """`LogsOptions.Validate`, in its order; the sinceSeconds to send."""
    since = _since_seconds(args.since)
    if args.since_time and since is not None:
        raise ManifestError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if args.all_containers and container:
        raise ManifestError(
            f"--all-containers=true should not be specified with container name {container}"
        )
    if args.limit_bytes < 0:
        raise ManifestError("--limit-bytes must be greater than 0")
    if since is not None and since < 0:
        raise ManifestError("--since must be greater than 0")
    if args.tail < -1:
        raise ManifestError("--tail must be greater than or equal to -1")
    return since


def _get_pod(client: agent.ApiClient, namespace: str, name: str) -> JSON:
    try:
        pod: JSON = client.get_named(POD.path(namespace, name), namespace)
    except NotFound as err:  # kubectl wraps the builder's error, lower case and all
        raise ManifestError(
            f'error from server (NotFound): {err.message} in namespace "{namespace}"'
        ) from err
    return pod


def _stream(
    client: agent.ApiClient, pod: JSON, container: str, query: dict[str, Any], prefix: bool
) -> None:
    out = sys.stdout.buffer
    meta = pod["metadata"]
    head = f"[pod/{meta['name']}/{container}] ".encode() if prefix else b""
    path = POD.path(meta["namespace"], meta["name"], "log")
    for line in client.stream_lines(path, container=container, **query):
        out.write(head + line)
        out.flush()


def run(args: argparse.Namespace) -> int:
    """Print the chosen container's log; server errors in kubectl's words, exit 1."""
    namespace = args.namespace or "default"
    name, container = _pod_name(list(args.targets), args.container)
    since = _validate(args, container)
    query: dict[str, Any] = {
        "follow": "true" if args.follow else None,
        "previous": "true" if args.previous else None,
        "timestamps": "true" if args.timestamps else None,
        "tailLines": args.tail if args.tail != -1 else None,
        "limitBytes": args.limit_bytes or None,
        "sinceSeconds": since,
        "sinceTime": args.since_time or None,
    }
    client = agent.connect()
    try:
        pod = _get_pod(client, namespace, name)
        for chosen in containers_for(pod, container, args.all_containers):
            try:
                _stream(client, pod, chosen, query, args.prefix)
            except StatusError as err:
                if not args.ignore_errors:
                    raise
                sys.stdout.write(f"error: {format_status_error(err)}\n")
    finally:
        client.close()
    return 0
