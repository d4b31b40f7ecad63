"""`apply -f` and `create -f`: read every object first, then act on each in file order.

Reading is all-or-nothing (a path, YAML or kind error stops the command before any object is
sent), as a user wants from bad input. Objects go to the node agent (started if needed);
`--dry-run=client` instead prints the object as kubectl would send it, checked locally with
the API server's own rules; `--dry-run=server` asks the agent what it would store.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from minikubelet.api.kinds import Kind, UnknownResource, by_kind
from minikubelet.cli import client as agent
from minikubelet.cli.client import ApiClient
from minikubelet.cli.render import dump_object, format_status_error
from minikubelet.errors import ManifestError, NotFound, StatusError

if TYPE_CHECKING:
    from minikubelet.api.manifests import Manifest

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
        value = manifest.body.get(field)
        if value and not isinstance(value, str):
            from minikubelet.api.manifests import json_type

            raise ManifestError(
                f'unable to decode "{manifest.source}": json: cannot unmarshal '
                f"{json_type(value)} into Go struct field .{field} of type string"
            )
        if not value:
            raise ManifestError(
                f'error validating "{manifest.source}": error validating data: '
                f"{field} not set; {_VALIDATE_HINT}"
            )
    if served_kind(manifest) is None:
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


def served_kind(manifest: Manifest) -> Kind | None:
    """The registry's entry for the manifest's apiVersion and kind, if the node stores it."""
    try:
        kind = by_kind(manifest.kind)
    except UnknownResource:
        return None
    return kind if kind.stored and kind.api_version == manifest.api_version else None


def _kind(manifest: Manifest) -> Kind:
    kind = served_kind(manifest)
    assert kind is not None, "check_mapping ran first"
    return kind


def with_last_applied(body: dict[str, Any]) -> dict[str, Any]:
    """The body with kubectl's last-applied annotation: the body itself, compact, sorted. As
    kubectl 1.32 sends it (seen with -v=9), fields whose value is null are left out of the
    body, at any depth, though the annotation keeps them."""
    sent: dict[str, Any] = json.loads(json.dumps(body))
    meta = sent.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = json.dumps(sent, sort_keys=True, separators=(",", ":")) + "\n"
    stripped: dict[str, Any] = _without_nulls(sent)
    return stripped


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    """Run `apply` or `create` (`args.command`); the exit code is 1 if any object failed."""
    verb = str(args.command)
    from minikubelet.api.manifests import load_paths  # imported here: `get` need not pay for it

    manifests = load_paths(args.filename)
    if not manifests:
        raise ManifestError(f"no objects passed to {verb}")
    for manifest in manifests:
        check_mapping(manifest, args.namespace)
    client = None if args.dry_run == "client" else agent.connect()
    failed = False
    try:
        for manifest in manifests:
            kind = _kind(manifest)
            body, namespace = _prepared(manifest, kind, verb, args.namespace)
            action = "creating"
            try:
                if client is None:
                    shown, line = _local(kind, body, namespace)
                else:
                    existing = _existing(client, kind, body, namespace) if verb == "apply" else None
                    action = "creating" if existing is None else "patching"
                    shown, line = _send(client, kind, body, namespace, existing, args.dry_run, verb)
            except StatusError as err:
                failed = True
                many = len(manifests) > 1
                text = format_status_error(err, action=action, source=manifest.source, many=many)
                print(text, file=sys.stderr)
                continue
            sys.stdout.write(dump_object(shown, args.output) if args.output else line + "\n")
    finally:
        if client is not None:
            client.close()
    return 1 if failed else 0


def _prepared(
    manifest: Manifest, kind: Kind, verb: str, flag_namespace: str | None
) -> tuple[dict[str, Any], str]:
    body: dict[str, Any] = json.loads(json.dumps(manifest.body))
    if body.get("metadata") is None:
        body["metadata"] = {}
    meta = body["metadata"]
    if not isinstance(meta, dict):  # the API server's decoder will name the type error
        return body, flag_namespace or "default"
    namespace = meta.get("namespace") or flag_namespace or "default"
    if kind.namespaced:
        meta["namespace"] = namespace
    return (with_last_applied(body) if verb == "apply" else body), namespace


def _local(kind: Kind, body: dict[str, Any], namespace: str) -> tuple[dict[str, Any], str]:
    """`--dry-run=client`: the object as sent, checked by the API server's rules locally."""
    strategy = kind.load("strategy")
    from minikubelet.clock import RealClock  # only the client-side dry run defaults locally

    create = getattr(strategy, "create_local", strategy.create)  # no admission plugins
    stored, _ = create(json.loads(json.dumps(body)), namespace, RealClock().utcnow())
    return body, f"{kind.qualified}/{stored['metadata']['name']} created (dry run)"


def _existing(
    client: ApiClient, kind: Kind, body: dict[str, Any], namespace: str
) -> dict[str, Any] | None:
    meta = body.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not name:
        return None
    try:
        found: dict[str, Any] = client.request("GET", kind.path(namespace, name))
    except NotFound:
        return None
    return found


def _send(
    client: ApiClient,
    kind: Kind,
    body: dict[str, Any],
    namespace: str,
    existing: dict[str, Any] | None,
    dry_run: str,
    verb: str,
) -> tuple[dict[str, Any], str]:
    """POST a new object, or (apply) replace a changed one or leave an unchanged one."""
    path = kind.path(namespace)
    shown = kind.qualified
    suffix = " (server dry run)" if dry_run == "server" else ""
    params: dict[str, Any] = {
        "dryRun": "All" if dry_run == "server" else None,
        "fieldValidation": "Strict",
    }
    if existing is None:
        manager = "kubectl-client-side-apply" if verb == "apply" else "kubectl-create"
        created = client.request("POST", path, body=body, fieldManager=manager, **params)
        return created, f"{shown}/{created['metadata']['name']} created{suffix}"
    name = existing["metadata"]["name"]
    if _last_applied(existing) == _last_applied(body):
        return existing, f"{shown}/{name} unchanged"
    body["metadata"]["resourceVersion"] = existing["metadata"].get("resourceVersion")
    updated = client.request("PUT", kind.path(namespace, name), body=body, **params)
    return updated, f"{shown}/{name} configured{suffix}"


def _last_applied(obj: dict[str, Any]) -> str | None:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
