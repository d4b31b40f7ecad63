"""`label TYPE NAME k=v [k-]...`: an object's labels (the node's are what nodeSelectors match)."""

from __future__ import annotations

import argparse
from typing import Any

from minikubelet.cli import client as agent
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError
from minikubelet.printers.jsonpath import go_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resource", metavar="TYPE")
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("labels", nargs="+", metavar="KEY=VALUE|KEY-")
    parser.add_argument("--overwrite", action="store_true")


def _changes(pairs: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for pair in pairs:
        if pair.endswith("-") and "=" not in pair:
            changes[pair[:-1]] = None
        elif "=" in pair:
            key, value = pair.split("=", 1)
            changes[key] = value
        else:
            raise ManifestError(f"invalid label spec: {pair}")
    return changes


def _change_message(obj: dict[str, Any], labels: dict[str, str], overwrite: bool) -> str:
    """label.go `updateDataChangeMsg` (1.32): "not labeled" when the object is unchanged;
    "unlabeled" when its JSON got shorter without --overwrite; "labeled" otherwise."""
    meta = obj.get("metadata") or {}
    before = go_json(obj)
    after_meta = {k: v for k, v in meta.items() if k != "labels"}
    if labels:
        after_meta["labels"] = labels
    after = go_json({**obj, "metadata": after_meta})
    if before == after:
        return "not labeled"
    return "unlabeled" if not overwrite and len(after) < len(before) else "labeled"


def run(args: argparse.Namespace) -> int:
    kind = resolve(args.resource)
    if "patch" not in kind.verbs:
        raise ManifestError(f"{kind.plural} cannot be labeled on this node")
    path = kind.path(args.namespace or "default", args.name)
    changes = _changes(args.labels)
    with agent.connect() as client:
        scope = (args.namespace or "default") if kind.namespaced else ""
        obj: dict[str, Any] = client.get_named(path, scope)
        current = obj["metadata"].get("labels") or {}
        for key, value in changes.items():
            if (
                value is not None
                and key in current
                and current[key] != value
                and not args.overwrite
            ):
                raise ManifestError(
                    f"'{key}' already has a value ({current[key]}), and --overwrite is false"
                )
        for key, value in changes.items():
            if value is None and key not in current:
                print(f'label "{key}" not found.')  # kubectl writes this to stdout
        labels = {k: v for k, v in current.items() if changes.get(k, v) is not None}
        labels.update({k: v for k, v in changes.items() if v is not None})
        message = _change_message(obj, labels, args.overwrite)
        patch = {"metadata": {"labels": changes}}
        client.request("PATCH", path, body=patch)
    print(f"{kind.qualified}/{args.name} {message}")
    return 0
