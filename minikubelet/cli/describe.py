"""`describe TYPE [NAME...]`: fetch the objects and their events, print them as kubectl does.

Describe is client-side in kubectl, so it is here too: GET the object (or the list), then the
events with kubectl's three-term field selector, then the kind's describer (its registry entry
names it). Like kubectl, a single `describe TYPE NAME` that is not found describes every object
whose name starts with NAME.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

from minikubelet.api.kinds import EVENT, Kind, by_kind
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.render import format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError, NotFound, StatusError

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


def _events_for(client: agent.ApiClient, pod: JSON) -> list[JSON]:
    """kubectl's `searchEvents`: name, namespace and uid (a mirror pod's is its annotation)."""
    meta = pod["metadata"]
    uid = (meta.get("annotations") or {}).get(MIRROR_ANNOTATION) or meta.get("uid", "")
    selector = (
        f"involvedObject.name={meta['name']},involvedObject.namespace={meta['namespace']},"
        f"involvedObject.uid={uid}"
    )
    path = EVENT.path(meta.get("namespace") or "default")
    return list(client.request("GET", path, fieldSelector=selector).get("items") or [])


def _events_by_pod(client: agent.ApiClient, pods: list[JSON], everywhere: bool) -> list[list[JSON]]:
    """The events of many pods from one list call (the same result as one search per pod)."""
    if len(pods) == 1:
        return [_events_for(client, pods[0])]
    namespace = pods[0]["metadata"].get("namespace") or "default" if pods else "default"
    path = EVENT.path(None if everywhere else namespace)
    grouped: dict[tuple[str, str, str], list[JSON]] = defaultdict(list)
    for event in client.request("GET", path).get("items") or []:
        obj = event.get("involvedObject") or {}
        grouped[(obj.get("namespace", ""), obj.get("name", ""), obj.get("uid", ""))].append(event)
    found = []
    for pod in pods:
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
    events = _events_by_pod(client, objs, args.all_namespaces)
    return [
        describe(obj, found, now, tz=None, **kw)
        for obj, found, kw in zip(objs, events, extras, strict=True)
    ]


def _related(client: agent.ApiClient, describe: Any, obj: JSON) -> dict[str, Any]:
    """What a describer reads besides the object and its events (a Service: its
    EndpointSlices), as it names them: a kind and a label selector in the object's namespace."""
    related = getattr(describe, "related", None)
    if related is None:
        return {}
    kind_name, selector = related(obj)
    path = by_kind(kind_name).path(obj["metadata"].get("namespace") or "default")
    return {"related": client.request("GET", path, labelSelector=selector).get("items") or []}


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
                where = (
                    ""
                    if args.all_namespaces or not kind.namespaced
                    else f" in {namespace} namespace."
                )
                print(f"No resources found{where}", file=sys.stderr)
                return 0
            sys.stdout.write("\n\n".join(_render(client, kind, objs, args)))
            return 0
        objs = []
        for name in names:
            try:
                objs.append(client.request("GET", kind.path(namespace, name)))
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
