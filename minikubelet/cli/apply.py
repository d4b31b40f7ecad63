"""`apply -f` and `create -f`: read every object first, then act on each in file order.

Reading is all-or-nothing (a path, YAML or kind error stops the command before any object is
sent), as a user wants from bad input. Until the node agent exists, both commands run with
`--dry-run`: `client` prints the object as kubectl would send it and checks it with the API
server's own rules locally; `server` prints what the API server would store.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from minikubelet.api.codec import to_dict
from minikubelet.api.create import prepare_create
from minikubelet.api.manifests import Manifest, load_paths
from minikubelet.cli.render import dump_object, format_status_error
from minikubelet.clock import RealClock
from minikubelet.errors import ManifestError, StatusError

__all__ = ["LAST_APPLIED", "add_arguments", "run"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_VALIDATE_HINT = "if you choose to ignore these errors, turn validation off with --validate=false"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--filename", action="append", required=True, metavar="FILE")
    parser.add_argument("--dry-run", choices=("none", "client", "server"), default="none")
    parser.add_argument("-o", "--output", choices=("yaml", "json", "name"))


def check_mapping(manifest: Manifest, namespace: str | None) -> None:
    """kubectl's client-side checks: apiVersion and kind set, the kind served, the namespace."""
    for field in ("apiVersion", "kind"):
        if not manifest.body.get(field):
            raise ManifestError(
                f'error validating "{manifest.source}": error validating data: '
                f"{field} not set; {_VALIDATE_HINT}"
            )
    if (manifest.api_version, manifest.kind) != ("v1", "Pod"):
        meta = manifest.body.get("metadata")
        ns = meta.get("namespace", "") if isinstance(meta, dict) else ""
        raise ManifestError(
            f'resource mapping not found for name: "{manifest.name}" namespace: "{ns}" from '
            f'"{manifest.source}": no matches for kind "{manifest.kind}" in version '
            f'"{manifest.api_version}"\nensure CRDs are installed first'
        )
    meta = manifest.body.get("metadata")
    own = meta.get("namespace") if isinstance(meta, dict) else None
    if namespace and own and own != namespace:
        raise ManifestError(
            f'the namespace from the provided object "{own}" does not match the namespace '
            f"\"{namespace}\". You must pass '--namespace={own}' to perform this operation."
        )


def with_last_applied(body: dict[str, Any]) -> dict[str, Any]:
    """The body with kubectl's last-applied annotation: the body itself, compact, sorted."""
    sent: dict[str, Any] = json.loads(json.dumps(body))
    meta = sent.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = json.dumps(sent, sort_keys=True, separators=(",", ":")) + "\n"
    return sent


def run(args: argparse.Namespace, verb: str) -> int:
    """Run `apply` or `create`; the exit code is 1 if any object failed."""
    manifests = load_paths(args.filename)
    if not manifests:
        raise ManifestError(f"no objects passed to {verb}")
    for manifest in manifests:
        check_mapping(manifest, args.namespace)
    if args.dry_run == "none":
        raise ManifestError(
            "this minikubelet checks manifests only, its node agent is not built yet: "
            "use --dry-run=client or --dry-run=server"
        )
    failed = False
    now = RealClock().utcnow()
    for manifest in manifests:
        body = json.loads(json.dumps(manifest.body))
        namespace = body.get("metadata", {}).get("namespace") or args.namespace or "default"
        body.setdefault("metadata", {})["namespace"] = namespace
        if verb == "apply":
            body = with_last_applied(body)
        try:
            stored = to_dict(prepare_create(body, namespace, now))
        except StatusError as err:
            failed = True
            action = "creating" if verb == "create" else "applying"
            print(
                format_status_error(
                    err, action=action, source=manifest.source, many=len(manifests) > 1
                ),
                file=sys.stderr,
            )
            continue
        shown = stored if args.dry_run == "server" else body
        if args.output:
            sys.stdout.write(dump_object(shown, args.output))
        else:
            mode = "dry run" if args.dry_run == "client" else "server dry run"
            print(f"pod/{stored['metadata']['name']} created ({mode})")
    return 1 if failed else 0
