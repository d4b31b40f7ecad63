"""`expose pod NAME --port P [--target-port T] [--type NodePort]`: a Service for a pod, as
kubectl 1.32 makes it (`staging/src/k8s.io/kubectl/pkg/cmd/expose/expose.go` and the
polymorphic helpers it calls).

- name: `--name`, else the pod's name cut to 63 characters; selector: `--selector`, else all of
  the pod's labels (none: kubectl's refusal); the Service's labels: `--labels`, else the pod's.
- ports: `--port`, else the pod's container ports (regular containers, in order, de-duplicated);
  one port is unnamed, several are `port-1`, `port-2`, ... (`port-<i>-tcp`/`-udp` when one
  number has both protocols). targetPort: `--target-port` for every port, else the same number.
- protocol: `--protocol`, else the container port's for that number, else TCP.
- `--type`, `--session-affinity`, `--cluster-ip`, `--external-ip` only when given.

The request is kubectl's: POST .../services?fieldManager=kubectl-expose; `service/NAME exposed`.
"""

from __future__ import annotations

import argparse

from minikubelet.api.kinds import POD, SERVICE
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "build_service", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="(pod NAME | pod/NAME)")
    parser.add_argument("--port", default="")
    parser.add_argument("--target-port", default="")
    parser.add_argument("--type", default="")
    parser.add_argument("--name", default="")
    parser.add_argument("--protocol", default="")
    parser.add_argument("--selector", default="")
    parser.add_argument("-l", "--labels", default="")
    parser.add_argument("--session-affinity", default="")
    parser.add_argument("--cluster-ip", default="")
    parser.add_argument("--external-ip", default="")


def _parse_map(text: str) -> dict[str, str]:
    found = {}
    for term in filter(None, text.split(",")):
        key, sep, value = term.partition("=")
        if not sep:
            raise ManifestError(f"invalid label spec: {term}")
        found[key] = value
    return found


def _intstr(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _container_ports(pod: JSON) -> tuple[list[str], dict[str, list[str]]]:
    """The pod's port numbers (as kubectl reads them: strings, de-duplicated, in order) and
    every protocol each number is declared with (`MultiProtocolsForObject`)."""
    numbers: list[str] = []
    protocols: dict[str, list[str]] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            number = str(port.get("containerPort", ""))
            if number not in numbers:
                numbers.append(number)
            found = protocols.setdefault(number, [])
            protocol = port.get("protocol") or "TCP"
            if protocol not in found:
                found.append(protocol)
    return numbers, protocols


def _ports(args: argparse.Namespace, pod: JSON) -> list[JSON]:
    numbers, protocols = _container_ports(pod)
    if args.port:
        numbers = [args.port]
    if not numbers:
        raise ManifestError("couldn't find port via --port flag or introspection")
    ports: list[JSON] = []
    for i, number in enumerate(numbers, start=1):
        if not number.isdigit():
            raise ManifestError(f'strconv.Atoi: parsing "{number}": invalid syntax')
        wanted = [args.protocol] if args.protocol else protocols.get(number) or ["TCP"]
        for protocol in wanted:
            name = f"port-{i}" if len(numbers) > 1 else ""
            if len(wanted) > 1:
                name = f"port-{i}-{protocol.lower()}"
            port: JSON = {"name": name} if name else {}
            target = _intstr(args.target_port) if args.target_port else int(number)
            port |= {"port": int(number), "protocol": protocol, "targetPort": target}
            ports.append(port)
    return ports


def build_service(args: argparse.Namespace, pod: JSON) -> JSON:
    """The Service kubectl sends for `expose pod`."""
    meta = pod.get("metadata") or {}
    pod_labels = dict(meta.get("labels") or {})
    selector = _parse_map(args.selector) if args.selector else pod_labels
    if not selector:
        raise ManifestError(
            "couldn't retrieve selectors via --selector flag or introspection: the pod has no "
            "labels and cannot be exposed"
        )
    name = args.name or str(meta.get("name", ""))[:63]
    labels = _parse_map(args.labels) if args.labels else pod_labels
    service_meta: JSON = {"creationTimestamp": None}
    if labels:
        service_meta["labels"] = labels
    service_meta["name"] = name
    spec: JSON = {"ports": _ports(args, pod), "selector": selector}
    if args.type:
        spec["type"] = args.type
    if args.session_affinity:
        if args.session_affinity not in ("None", "ClientIP"):
            raise ManifestError(f"unknown session affinity: {args.session_affinity}")
        spec["sessionAffinity"] = args.session_affinity
    if args.cluster_ip:
        spec["clusterIP"] = args.cluster_ip
    if args.external_ip:
        spec["externalIPs"] = [args.external_ip]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service_meta,
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def _target(targets: list[str]) -> str:
    if len(targets) == 1 and "/" in targets[0]:
        word, _, name = targets[0].partition("/")
    elif len(targets) == 2:
        word, name = targets
    else:
        raise ManifestError("one resource is required: expose pod NAME")
    if word.lower() not in POD.names:
        raise ManifestError(f"cannot expose a {word}: minikubelet exposes pods")
    return name


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    name = _target(list(args.targets))
    client = agent.connect()
    try:
        pod = client.get_named(POD.path(namespace, name), namespace)
        body = build_service(args, pod)
        created = client.request(
            "POST", SERVICE.path(namespace), body=body, fieldManager="kubectl-expose"
        )
    finally:
        client.close()
    print(f"service/{created['metadata']['name']} exposed")
    return 0
