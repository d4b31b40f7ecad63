"""`describe TYPE [NAME...]`: fetch the objects and their events, print them as kubectl does.

Describe is client-side in kubectl, so it is here too: GET the object (or the list), then the
events with kubectl's field selector (a node's searched twice) and what else the kind's
describer names, then the describer (its registry entry names it). Like kubectl, a single
`describe TYPE NAME` that is not found describes every object whose name starts with NAME.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from minikubelet.api.kinds import EVENT, NODE, Kind, by_kind
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.render import format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.errors import Forbidden, ManifestError, NotFound, StatusError

if TYPE_CHECKING:
    from minikubelet.printers.describe_node import Lookup

__all__ = ["add_arguments", "run"]

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", metavar="(TYPE [NAME_PREFIX] | TYPE/NAME)")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument("-l", "--selector", default="")
    parser.add_argument("--show-events", default="true", choices=("true", "false"))


def _names(targets: list[str]) -> tuple[Kind, list[str], bool]:
    """The kind and names asked for, and whether kubectl's prefix fallback applies
    (`TYPE NAME`)."""
    if not targets:
        raise ManifestError(
            "You must specify the type of resource to describe. "
            'Use "kubectl api-resources" for a complete list of supported resources.'
        )
    if "/" not in targets[0]:
        word, *names = targets
        kind = _describable(word)
        if any("/" in name for name in names):
            raise ManifestError(
                "there is no need to specify a resource type as a separate argument when passing "
                "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                "instead of 'kubectl get resource resource/<resource_name>'"
            )
        return kind, names, len(targets) == 2
    names = []
    kinds = set()
    for target in targets:
        word, sep, name = target.partition("/")
        if not sep:
            raise ManifestError(
                "arguments in resource/name form must have a single resource and name"
            )
        kinds.add(_describable(word))
        names.append(name)
    if len(kinds) > 1:
        raise ManifestError("minikubelet describes one type of resource at a time")
    return kinds.pop(), names, False


def _describable(word: str) -> Kind:
    kind = resolve(word)
    if not kind.describer:
        raise ManifestError(f'minikubelet has no describer for "{word}" yet; use get -o yaml')
    return kind


def _search_events(
    client: agent.ApiClient, name: str, namespace: str, uid: str, kind: str = ""
) -> list[JSON]:
    """kubectl's `searchEvents`: name, namespace, uid (and kind, when given), in the object's
    namespace; a cluster-scoped object's (namespace "") in every namespace."""
    terms = [f"involvedObject.kind={kind}"] if kind else []
    terms += [
        f"involvedObject.name={name}",
        f"involvedObject.namespace={namespace}",
        f"involvedObject.uid={uid}",
    ]
    path = EVENT.path(namespace or None)
    return list(client.request("GET", path, fieldSelector=",".join(terms)).get("items") or [])


def _events_for(client: agent.ApiClient, pod: JSON) -> list[JSON]:
    """A pod's events (a mirror pod's uid is its annotation)."""
    meta = pod["metadata"]
    uid = (meta.get("annotations") or {}).get(MIRROR_ANNOTATION) or meta.get("uid", "")
    return _search_events(client, meta["name"], meta["namespace"], uid)


def _node_events(client: agent.ApiClient, node: JSON) -> list[JSON]:
    """NodeDescriber's two searches, merged: by the node's uid (controllers' events), then by
    its name as the uid (the kubelet's `nodeRef`)."""
    name, uid = node["metadata"]["name"], node["metadata"].get("uid", "")
    by_uid = _search_events(client, name, "", uid, NODE.kind)
    return by_uid + _search_events(client, name, "", name, NODE.kind)


def _events_by_object(
    client: agent.ApiClient, kind: Kind, objs: list[JSON], everywhere: bool
) -> list[list[JSON]]:
    """The events of each object: a node's by NodeDescriber's two searches; those of many pods
    from one list call (the same result as one search per pod)."""
    if kind is NODE:
        return [_node_events(client, node) for node in objs]
    if len(objs) == 1:
        return [_events_for(client, objs[0])]
    namespace = objs[0]["metadata"].get("namespace") or "default" if objs else "default"
    path = EVENT.path(None if everywhere else namespace)
    grouped: dict[tuple[str, str, str], list[JSON]] = defaultdict(list)
    for event in client.request("GET", path).get("items") or []:
        obj = event.get("involvedObject") or {}
        grouped[(obj.get("namespace", ""), obj.get("name", ""), obj.get("uid", ""))].append(event)
    found = []
    for pod in objs:
        meta = pod["metadata"]
        uid = (meta.get("annotations") or {}).get(MIRROR_ANNOTATION) or meta.get("uid", "")
        found.append(grouped.get((meta.get("namespace", ""), meta["name"], uid), []))
    return found


def _render(
    client: agent.ApiClient, kind: Kind, objs: list[JSON], args: argparse.Namespace
) -> list[str]:
    """Each object's describe text, in the order given."""
    from minikubelet.clock import RealClock

    describe = kind.load("describer")
    now = RealClock().utcnow()
    extras = [_related(client, describe, obj) for obj in objs]
    if args.show_events == "false":
        return [
            describe(obj, None, now, tz=None, **kw) for obj, kw in zip(objs, extras, strict=True)
        ]
    events = _events_by_object(client, kind, objs, args.all_namespaces)
    return [
        describe(obj, found, now, tz=None, **kw)
        for obj, found, kw in zip(objs, events, extras, strict=True)
    ]


def _related(client: agent.ApiClient, describe: Any, obj: JSON) -> dict[str, Any]:
    """What a describer reads besides the object and its events, as it names them: `related`
    (a Service: its EndpointSlices), a kind and a label selector in the object's namespace;
    `lookups` (a Node: its Lease and its pods), one read per keyword argument."""
    lookups = getattr(describe, "lookups", None)
    if lookups is not None:
        return {key: _lookup(client, wanted) for key, wanted in lookups(obj).items()}
    related = getattr(describe, "related", None)
    if related is None:
        return {}
    kind_name, selector = related(obj)
    path = by_kind(kind_name).path(obj["metadata"].get("namespace") or "default")
    return {"related": client.request("GET", path, labelSelector=selector).get("items") or []}


def _lookup(client: agent.ApiClient, wanted: Lookup) -> Any:
    """An object, or the Status error its GET met (kubectl prints it in place); a list's
    items, or None when forbidden (kubectl's `not authorized`)."""
    path = by_kind(wanted.kind).path(wanted.namespace, wanted.name)
    try:
        found = client.request("GET", path, fieldSelector=wanted.field_selector)
    except StatusError as err:
        if wanted.name is not None:
            return err
        if isinstance(err, Forbidden):
            return None
        raise
    return found if wanted.name is not None else found.get("items") or []


def _by_prefix(client: agent.ApiClient, kind: Kind, namespace: str, prefix: str) -> list[JSON]:
    objs = client.request("GET", kind.path(namespace)).get("items") or []
    return [o for o in objs if str(o["metadata"]["name"]).startswith(prefix)]


def run(args: argparse.Namespace) -> int:
    """Describe the named pods, or all of them; errors after the text, as kubectl prints them."""
    namespace = args.namespace or "default"
    kind, names, prefix_fallback = _names(list(args.targets))
    if names and args.all_namespaces:
        raise ManifestError("a resource cannot be retrieved by name across all namespaces")
    client = agent.connect()
    errors: list[StatusError] = []
    try:
        if not names:
            path = kind.path(None if args.all_namespaces else namespace)
            objs = client.request("GET", path, labelSelector=args.selector or None)["items"]
            if not objs:
                # kubectl names the namespace even for a cluster-scoped kind (nodes)
                where = "" if args.all_namespaces else f" in {namespace} namespace."
                print(f"No resources found{where}", file=sys.stderr)
                return 0
            sys.stdout.write("\n\n".join(_render(client, kind, objs, args)))
            return 0
        objs = []
        for name in names:
            try:
                scope = namespace if kind.namespaced else ""
                objs.append(client.get_named(kind.path(namespace, name), scope))
            except NotFound as err:
                matched = _by_prefix(client, kind, namespace, name) if prefix_fallback else []
                if matched:
                    sys.stdout.write(
                        "".join(t + "\n" for t in _render(client, kind, matched, args))
                    )
                    return 0
                errors.append(err)
            except StatusError as err:
                errors.append(err)
        sys.stdout.write("\n\n".join(_render(client, kind, objs, args)))
    finally:
        client.close()
    for failure in errors:
        print(format_status_error(failure), file=sys.stderr)
    return 1 if errors else 0
