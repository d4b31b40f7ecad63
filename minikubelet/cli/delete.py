"""`delete -f FILE | TYPE NAME... | TYPE/NAME | TYPE --all`: kubectl's lines, then wait until
the objects are gone (a pod goes when its containers have stopped)."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from minikubelet.api.kinds import Kind
from minikubelet.cli import client as agent
from minikubelet.cli.apply import check_mapping, served_kind
from minikubelet.cli.render import format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.clock import poll
from minikubelet.errors import ManifestError, NotFound, StatusError

__all__ = ["add_arguments", "run"]

FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource has "
    "been terminated. The resource may continue to run on the cluster indefinitely."
)
WAIT_TIMEOUT = 24 * 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", metavar="TYPE NAME")
    parser.add_argument("-f", "--filename", action="append", default=[], metavar="FILE")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--grace-period", type=int, default=-1)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--now", action="store_true", help="same as --grace-period=1")
    parser.add_argument("--wait", default="true", choices=("true", "false"))
    parser.add_argument("--ignore-not-found", action="store_true")


def _targets(
    args: argparse.Namespace, namespace: str, client: agent.ApiClient
) -> list[tuple[Kind, str, str, str]]:
    """(kind, namespace, name, source) of every object the command names."""
    if args.filename:
        from minikubelet.api.manifests import load_paths

        found = []
        for manifest in load_paths(args.filename):
            check_mapping(manifest, args.namespace)
            kind = served_kind(manifest)
            assert kind is not None
            meta = manifest.body.get("metadata") or {}
            ns = meta.get("namespace") or namespace
            found.append((kind, ns, manifest.name, manifest.source))
        return found
    word, _, first = (args.targets[0] if args.targets else "pods").partition("/")
    kind = resolve(word)
    if args.all:
        items = client.request("GET", kind.path(namespace))["items"]
        return [(kind, namespace, o["metadata"]["name"], "") for o in items]
    if not args.targets:
        raise ManifestError("resource(s) were provided, but no name was specified")
    names = ([first] if first else []) + list(args.targets[1:])
    if not names:
        raise ManifestError("resource(s) were provided, but no name was specified")
    return [(kind, namespace, name, "") for name in names]


def _grace(args: argparse.Namespace) -> int | None:
    if args.now:
        return 1
    if args.grace_period >= 0:
        # kubectl sends 1 for --grace-period=0 unless --force is given
        return args.grace_period if args.grace_period > 0 or args.force else 1
    return 0 if args.force else None


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    client = agent.connect()
    failed = False
    deleted: list[str] = []
    try:
        targets = _targets(args, namespace, client)
        if not targets:
            print("No resources found")
            return 0
        grace = _grace(args)
        if args.force:
            print(FORCE_WARNING, file=sys.stderr)
        for kind, ns, name, source in targets:
            body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
            if grace is not None:
                body["gracePeriodSeconds"] = grace
            try:
                client.request("DELETE", kind.path(ns, name), body=body)
            except NotFound as err:
                if args.ignore_not_found:
                    continue
                failed = True
                print(format_status_error(err, action="deleting", source=source), file=sys.stderr)
                continue
            except StatusError as err:
                failed = True
                print(format_status_error(err, action="deleting", source=source), file=sys.stderr)
                continue
            print(f'{kind.qualified} "{name}" {"force deleted" if grace == 0 else "deleted"}')
            deleted.append(kind.path(ns, name))
        if args.wait == "true" and grace != 0:
            for path in deleted:
                poll(functools.partial(_gone, client, path), WAIT_TIMEOUT, 0.25)
    finally:
        client.close()
    return 1 if failed else 0


def _gone(client: agent.ApiClient, path: str) -> bool:
    try:
        client.request("GET", path)
    except NotFound:
        return True
    return False
