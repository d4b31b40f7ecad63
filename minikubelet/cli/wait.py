"""`wait --for=condition=Ready|--for=delete TYPE/NAME... [--timeout=30s]`, as kubectl waits."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from minikubelet.cli import client as agent
from minikubelet.cli.logs import parse_duration
from minikubelet.cli.render import format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.clock import poll
from minikubelet.errors import ManifestError, NotFound

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="TYPE/NAME")
    parser.add_argument("--for", dest="condition", required=True)
    parser.add_argument("--timeout", default="30s")


def _condition_met(pod: dict[str, Any], condition: str, value: str) -> bool:
    for item in (pod.get("status") or {}).get("conditions") or []:
        if item.get("type", "").lower() == condition.lower():
            return str(item.get("status", "")).lower() == value.lower()
    return False


def _fetch(client: agent.ApiClient, path: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = client.request("GET", path)
    except NotFound:
        return None
    return found


def _wait_one(client: agent.ApiClient, path: str, scope: str, spec: str, timeout: float) -> bool:
    """Whether the pod at `path` (in namespace `scope`) met `spec` within `timeout`;
    NotFound raised at once."""
    if spec == "delete":
        return poll(lambda: _fetch(client, path) is None, timeout, 0.2)
    if not spec.startswith("condition="):
        raise ManifestError(f"unrecognized condition: {spec!r}")
    condition, _, value = spec.removeprefix("condition=").partition("=")
    client.get_named(path, scope)  # a missing pod is an error, not a wait
    return poll(
        lambda: _condition_met(_fetch(client, path) or {}, condition, value or "True"),
        timeout,
        0.2,
    )


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    timeout = parse_duration(args.timeout, "--timeout", "wait")
    if timeout < 0:
        timeout = 7 * 24 * 3600.0  # kubectl: a negative timeout means a week
    targets = []
    for target in args.targets:
        word, _, name = target.partition("/")
        if not name:
            raise ManifestError(f"minikubelet waits on TYPE/NAME, not {target}")
        targets.append((resolve(word), name))
    failed = False
    with agent.connect() as client:
        for kind, name in targets:
            path = kind.path(namespace, name)
            plural = f"{kind.plural}.{kind.group}" if kind.group else kind.plural
            try:
                scope = namespace if kind.namespaced else ""
                met = _wait_one(client, path, scope, args.condition, timeout)
            except NotFound as err:
                print(format_status_error(err), file=sys.stderr)
                failed = True
                continue
            if met and args.condition != "delete":
                print(f"{kind.qualified}/{name} condition met")
            elif not met:
                # kubectl wait (verified 1.32 lines): `--timeout=0` checks once and says
                # "condition not met for"; any other timeout says "timed out ... on".
                line = (
                    f"error: condition not met for {plural}/{name}"
                    if timeout == 0
                    else f"error: timed out waiting for the condition on {plural}/{name}"
                )
                print(line, file=sys.stderr)
                failed = True
    return 1 if failed else 0
