"""`describe pod[s] [NAME...]`: fetch the pods and their events, print them as kubectl does.

Describe is client-side in kubectl, so it is here too: GET the pod (or the list), then the events
with kubectl's three-term field selector, then `printers.describe`. Like kubectl, a single
`describe pod NAME` that is not found describes every pod whose name starts with NAME.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

from minikubelet.cli import client as agent
from minikubelet.cli.render import format_status_error
from minikubelet.errors import ManifestError, NotFound, StatusError

__all__ = ["add_arguments", "run"]

JSON = dict[str, Any]
POD_TYPES = ("pod", "pods", "po")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", metavar="(TYPE [NAME_PREFIX] | TYPE/NAME)")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument("-l", "--selector", default="")
    parser.add_argument("--show-events", default="true", choices=("true", "false"))


def _names(targets: list[str]) -> tuple[list[str], bool]:
    """The pod names asked for, and whether kubectl's prefix fallback applies (`pod NAME`)."""
    if not targets:
        raise ManifestError(
            "You must specify the type of resource to describe. "
            'Use "kubectl api-resources" for a complete list of supported resources.'
        )
    if "/" not in targets[0]:
        kind, *names = targets
        if kind not in POD_TYPES:
            raise ManifestError(f'the server doesn\'t have a resource type "{kind}"')
        if any("/" in name for name in names):
            raise ManifestError(
                "there is no need to specify a resource type as a separate argument when passing "
                "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                "instead of 'kubectl get resource resource/<resource_name>'"
            )
        return names, len(targets) == 2
    names = []
    for target in targets:
        kind, sep, name = target.partition("/")
        if not sep:
            raise ManifestError(
                "arguments in resource/name form must have a single resource and name"
            )
        if kind not in POD_TYPES:
            raise ManifestError(f'the server doesn\'t have a resource type "{kind}"')
        names.append(name)
    return names, False


def _events_for(client: agent.ApiClient, pod: JSON) -> list[JSON]:
    """kubectl's `searchEvents`: name, namespace and uid (a mirror pod's is its annotation)."""
    meta = pod["metadata"]
    uid = (meta.get("annotations") or {}).get(MIRROR_ANNOTATION) or meta.get("uid", "")
    selector = (
        f"involvedObject.name={meta['name']},involvedObject.namespace={meta['namespace']},"
        f"involvedObject.uid={uid}"
    )
    path = f"/api/v1/namespaces/{meta['namespace']}/events"
    return list(client.request("GET", path, fieldSelector=selector).get("items") or [])


def _events_by_pod(client: agent.ApiClient, pods: list[JSON], everywhere: bool) -> list[list[JSON]]:
    """The events of many pods from one list call (the same result as one search per pod)."""
    if len(pods) == 1:
        return [_events_for(client, pods[0])]
    namespace = pods[0]["metadata"]["namespace"] if pods else "default"
    path = "/api/v1/events" if everywhere else f"/api/v1/namespaces/{namespace}/events"
    grouped: dict[tuple[str, str, str], list[JSON]] = defaultdict(list)
    for event in client.request("GET", path).get("items") or []:
        obj = event.get("involvedObject") or {}
        grouped[(obj.get("namespace", ""), obj.get("name", ""), obj.get("uid", ""))].append(event)
    found = []
    for pod in pods:
        meta = pod["metadata"]
        uid = (meta.get("annotations") or {}).get(MIRROR_ANNOTATION) or meta.get("uid", "")
        found.append(grouped.get((meta["namespace"], meta["name"], uid), []))
    return found


def _render(client: agent.ApiClient, pods: list[JSON], args: argparse.Namespace) -> list[str]:
    """Each pod's describe text, in the order given."""
    from minikubelet.clock import RealClock
    from minikubelet.printers.describe import describe_pod

    now = RealClock().utcnow()
    if args.show_events == "false":
        return [describe_pod(pod, None, now, tz=None) for pod in pods]
    events = _events_by_pod(client, pods, args.all_namespaces)
    return [describe_pod(pod, found, now, tz=None) for pod, found in zip(pods, events, strict=True)]


def _by_prefix(client: agent.ApiClient, namespace: str, prefix: str) -> list[JSON]:
    pods = client.request("GET", f"/api/v1/namespaces/{namespace}/pods").get("items") or []
    return [p for p in pods if str(p["metadata"]["name"]).startswith(prefix)]


def run(args: argparse.Namespace) -> int:
    """Describe the named pods, or all of them; errors after the text, as kubectl prints them."""
    namespace = args.namespace or "default"
    names, prefix_fallback = _names(list(args.targets))
    if names and args.all_namespaces:
        raise ManifestError("a resource cannot be retrieved by name across all namespaces")
    client = agent.connect()
    errors: list[StatusError] = []
    try:
        if not names:
            path = "/api/v1/pods" if args.all_namespaces else f"/api/v1/namespaces/{namespace}/pods"
            pods = client.request("GET", path, labelSelector=args.selector or None)["items"]
            if not pods:
                where = "" if args.all_namespaces else f" in {namespace} namespace."
                print(f"No resources found{where}", file=sys.stderr)
                return 0
            sys.stdout.write("\n\n".join(_render(client, pods, args)))
            return 0
        pods = []
        for name in names:
            try:
                pods.append(client.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}"))
            except NotFound as err:
                if prefix_fallback and (matched := _by_prefix(client, namespace, name)):
                    sys.stdout.write("".join(t + "\n" for t in _render(client, matched, args)))
                    return 0
                errors.append(err)
            except StatusError as err:
                errors.append(err)
        sys.stdout.write("\n\n".join(_render(client, pods, args)))
    finally:
        client.close()
    for failure in errors:
        print(format_status_error(failure), file=sys.stderr)
    return 1 if errors else 0
