"""The API server's warnings for a new Pod (`GetWarningsForPod`, `pkg/api/pod/warnings.go`),
which kubectl prints as `Warning: ...` lines: nothing is refused, the manifest probably does
not do what its author meant.

They follow 1.32's order: deprecated node labels (nodeSelector, node affinity, topology
spread), deprecated annotations, deprecated volume plugins, projected paths that clash with a
service account token, duplicate hostAliases IPs and imagePullSecrets, fractional byte
quantities, seccomp annotations without fields, duplicate env names, duplicate or ambiguous
ports, a negative grace period, null label selectors in pod (anti-)affinity. Go iterates maps
in random order; here the order of the manifest's keys stands in for it.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Container, ContainerPort, Pod, PodSpec
from minikubelet.api.quantity import Quantity, QuantityError
from minikubelet.api.raw import go_objects
from minikubelet.api.validation.containers import containers_with_path
from minikubelet.api.validation.field import Path
from minikubelet.api.validation.names import is_dns1123_label
from minikubelet.api.validation.seccomp import CONTAINER_ANNOTATION as SECCOMP_CONTAINER
from minikubelet.api.validation.seccomp import POD_ANNOTATION as SECCOMP_POD

__all__ = ["create_warnings", "pod_warnings"]

_NODE_LABELS = {  # pkg/api/node/util.go deprecatedNodeLabels
    "beta.kubernetes.io/arch": 'deprecated since v1.14; use "kubernetes.io/arch" instead',
    "beta.kubernetes.io/os": 'deprecated since v1.14; use "kubernetes.io/os" instead',
    "failure-domain.beta.kubernetes.io/region": (
        'deprecated since v1.17; use "topology.kubernetes.io/region" instead'
    ),
    "failure-domain.beta.kubernetes.io/zone": (
        'deprecated since v1.17; use "topology.kubernetes.io/zone" instead'
    ),
    "beta.kubernetes.io/instance-type": (
        'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead'
    ),
    "app.kubernetes.io/created-by": "deprecated since v1.9",
    "scheduler.alpha.kubernetes.io/preferAvoidPods": (
        "deprecated since v1.22; use Taints and Tolerations instead"
    ),
    "node-role.kubernetes.io/master": 'use "node-role.kubernetes.io/control-plane" instead',
}
_ANNOTATIONS = (  # deprecatedAnnotations
    ("scheduler.alpha.kubernetes.io/critical-pod", "non-functional in v1.16+; use the "
     '"priorityClassName" field instead'),
    ("security.alpha.kubernetes.io/sysctls", 'non-functional in v1.11+; use the "sysctls" field '
     "instead"),
    ("security.alpha.kubernetes.io/unsafe-sysctls", "non-functional in v1.11+; use the "
     '"sysctls" field instead'),
)  # fmt: skip
_VOLUMES = (  # deprecated and removed volume plugins
    ("photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+"),
    ("gitRepo", "deprecated in v1.11"),
    ("scaleIO", "deprecated in v1.16, non-functional in v1.22+"),
    ("flocker", "deprecated in v1.22, non-functional in v1.25+"),
    ("storageos", "deprecated in v1.22, non-functional in v1.25+"),
    ("quobyte", "deprecated in v1.22, non-functional in v1.25+"),
    ("glusterfs", "deprecated in v1.25, non-functional in v1.26+"),
    ("cephfs", "deprecated in v1.28, non-functional in v1.31+"),
    ("rbd", "deprecated in v1.28, non-functional in v1.31+"),
)
# the Go field name upstream prints for each volume source (storageos is `storageOS` in Go)
_VOLUME_PATH = {"storageos": "storageOS"}
_SECCOMP = 'non-functional in v1.27+; use the "seccompProfile" field instead'
_NULL_SELECTOR = "a null labelSelector results in matching no pod"


def create_warnings(pod: Pod) -> list[str]:
    """`WarningsOnCreate`: a name that is no DNS label (it becomes the hostname), then
    `GetWarningsForPod`."""
    found = []
    problems = is_dns1123_label(pod.metadata.name or "")
    if problems:
        found.append(
            "metadata.name: this is used in the Pod's hostname, which can result in surprising "
            f"behavior; a DNS label is recommended: [{' '.join(problems)}]"
        )
    return found + pod_warnings(pod)


def pod_warnings(pod: Pod) -> list[str]:
    """`warningsForPodSpecAndMeta` for a Pod being created."""
    spec, annotations = pod.spec, pod.metadata.annotations or {}
    extra = spec.extra
    found: list[str] = []
    spec_path, annotations_path = Path("spec"), Path("metadata").child("annotations")
    for key in spec.nodeSelector or {}:
        if key in _NODE_LABELS:
            found.append(f"{spec_path.child('nodeSelector').key(key)}: {_NODE_LABELS[key]}")
    affinity = extra.get("affinity") or {}
    found += _node_affinity(affinity, spec_path.child("affinity"))
    for i, constraint in enumerate(go_objects(extra.get("topologySpreadConstraints"))):
        at = spec_path.child("topologySpreadConstraints").index(i)
        key = constraint.get("topologyKey") or ""
        if key in _NODE_LABELS:
            found.append(f"{at.child('topologyKey')}: {key} is {_NODE_LABELS[key]}")
        if constraint.get("labelSelector") is None:
            found.append(f"{at.child('labelSelector')}: {_NULL_SELECTOR}")
    for key, message in _ANNOTATIONS:
        if key in annotations:
            found.append(f"{annotations_path.key(key)}: {message}")
    found += _volumes(spec, spec_path.child("volumes"))
    found += _duplicates(extra.get("hostAliases"), "ip", spec_path.child("hostAliases"), "ip")
    secrets = extra.get("imagePullSecrets")
    found += _duplicates(secrets, "name", spec_path.child("imagePullSecrets"), "name")
    for i, secret in enumerate(go_objects(secrets)):
        if not secret.get("name"):
            at = spec_path.child("imagePullSecrets").index(i).child("name")
            found.append(f"{at}: invalid empty name {go_quote('')}")
    overhead = extra.get("overhead") or {}
    for resource in ("memory", "ephemeral-storage"):
        found += _fractional(overhead.get(resource), spec_path.child("overhead").key(resource))
    context = extra.get("securityContext") or {}
    if context.get("seccompProfile") is None and SECCOMP_POD in annotations:
        found.append(f"{annotations_path.key(SECCOMP_POD)}: {_SECCOMP}")
    for container, at in containers_with_path(spec, spec_path):
        found += _container(container, at, annotations, annotations_path)
    found += _ports(spec, spec_path)
    grace = spec.terminationGracePeriodSeconds
    if grace is not None and grace < 0:
        found.append(
            f"{spec_path.child('terminationGracePeriodSeconds')}: must be >= 0; negative values "
            "are invalid and will be treated as 1"
        )
    for kind in ("podAffinity", "podAntiAffinity"):
        found += _pod_affinity(affinity.get(kind) or {}, spec_path.child("affinity").child(kind))
    return found


def _node_affinity(affinity: dict[str, Any], path: Path) -> list[str]:
    node = affinity.get("nodeAffinity") or {}
    path = path.child("nodeAffinity")
    found: list[str] = []
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = path.child("requiredDuringSchedulingIgnoredDuringExecution").child("nodeSelectorTerms")
    for i, term in enumerate(go_objects(required.get("nodeSelectorTerms"))):
        found += _selector_term(term, terms.index(i))
    preferred = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for i, item in enumerate(
        go_objects(node.get("preferredDuringSchedulingIgnoredDuringExecution"))
    ):
        found += _selector_term(
            item.get("preference") or {}, preferred.index(i).child("preference")
        )
    return found


def _selector_term(term: dict[str, Any], path: Path) -> list[str]:
    """`GetWarningsForNodeSelectorTerm`: deprecated keys in its match expressions."""
    found = []
    for i, expression in enumerate(go_objects(term.get("matchExpressions"))):
        key = expression.get("key") or ""
        if key in _NODE_LABELS:
            at = path.child("matchExpressions").index(i).child("key")
            found.append(f"{at}: {key} is {_NODE_LABELS[key]}")
    return found


def _volumes(spec: PodSpec, path: Path) -> list[str]:
    found = []
    for i, volume in enumerate(spec.volumes or []):
        for source, message in _VOLUMES:
            if volume.extra.get(source) is not None:
                found.append(f"{path.index(i).child(_VOLUME_PATH.get(source, source))}: {message}")
    tokens = {
        (item.get("serviceAccountToken") or {}).get("path")
        for volume in spec.volumes or []
        for item in go_objects((volume.extra.get("projected") or {}).get("sources"))
        if item.get("serviceAccountToken")
    }
    if not tokens:
        return found
    for i, volume in enumerate(spec.volumes or []):
        for item in go_objects((volume.extra.get("projected") or {}).get("sources")):
            sources = path.index(i).child("projected").child("sources")
            # upstream names the secret source "secrets" and indexes items, not sources
            for kind, name in (("configMap", "configMap"), ("secret", "secrets")):
                for j, key in enumerate(go_objects((item.get(kind) or {}).get("items"))):
                    if key.get("path") in tokens:
                        found.append(_token_clash(sources.child(name).index(j), key["path"]))
            for j, key in enumerate(go_objects((item.get("downwardAPI") or {}).get("items"))):
                if key.get("path") in tokens:
                    found.append(_token_clash(sources.child("downwardAPI").index(j), key["path"]))
            bundle = item.get("clusterTrustBundle") or {}
            if bundle and bundle.get("path") in tokens:
                found.append(_token_clash(sources.child("ClusterTrustBundle"), bundle["path"]))
    return found


def _token_clash(path: Path, target: str) -> str:
    return f"{path}: has duplicated path with ServiceAccountToken {go_quote(target)}"


def _duplicates(items: Any, key: str, path: Path, child: str) -> list[str]:
    """A value seen before in the list (hostAliases' ip, imagePullSecrets' name)."""
    if not isinstance(items, list) or len(items) < 2:
        return []
    seen: set[str] = set()
    found = []
    for i, item in enumerate(go_objects(items)):
        value = str(item.get(key) or "")
        if value in seen:
            found.append(f"{path.index(i).child(child)}: duplicate {key} {go_quote(value)}")
        seen.add(value)
    return found


def _fractional(value: Any, path: Path) -> list[str]:
    """A byte quantity with a fraction of a byte (`500m` of memory)."""
    if value is None:
        return []
    try:
        quantity = value if isinstance(value, Quantity) else Quantity.parse(value)
    except QuantityError:
        return []
    if quantity.milli_value() % 1000 == 0:
        return []
    return [
        f"{path}: fractional byte value {go_quote(str(quantity))} is invalid, must be an integer"
    ]


def _container(
    container: Container, path: Path, annotations: dict[str, str], annotations_path: Path
) -> list[str]:
    found = []
    context = container.extra.get("securityContext") or {}
    key = SECCOMP_CONTAINER + container.name
    if context.get("seccompProfile") is None and key in annotations:
        found.append(f"{annotations_path.key(key)}: {_SECCOMP}")
    resources = container.resources
    for part in ("limits", "requests"):
        amounts = (getattr(resources, part) if resources else None) or {}
        for resource in ("memory", "ephemeral-storage"):
            found += _fractional(
                amounts.get(resource), path.child("resources").child(part).key(resource)
            )
    seen: set[str] = set()
    for i, env in enumerate(container.env or []):
        if env.name not in seen:
            seen.add(env.name)
            continue
        ref, value = f"$({env.name})", env.value or ""
        if env.valueFrom is not None or value == ref or ref not in value:
            found.append(
                f"{path.child('env').index(i)}: hides previous definition of "
                f"{go_quote(env.name)}, which may be dropped when using apply"
            )
    return found


def _ports(spec: PodSpec, spec_path: Path) -> list[str]:
    """Ports across all containers: a hostIP without a hostPort, and one container port (and
    protocol) declared twice, whose host side repeats, overlaps or is ambiguous."""
    found: list[str] = []
    seen: dict[str, list[tuple[Path, ContainerPort]]] = {}
    for container, path in containers_with_path(spec, spec_path):
        for i, port in enumerate(container.ports or []):
            at = path.child("ports").index(i)
            host_ip, host_port = port.hostIP or "", port.hostPort or 0
            if host_ip and not host_port:
                found.append(f"{at}: hostIP set without hostPort: {_go_port(port)}")
            key = f"{port.containerPort}/{port.protocol or ''}"
            for other_at, other in seen.get(key, []):
                other_ip, other_port = other.hostIP or "", other.hostPort or 0
                if host_ip == other_ip and host_port == other_port:
                    found.append(f"{at}: duplicate port definition with {other_at}")
                elif not host_port or not other_port:
                    found.append(f"{at}: overlapping port definition with {other_at}")
                elif host_port == other_port and (not host_ip) != (not other_ip):
                    found.append(f"{at}: dangerously ambiguous port definition with {other_at}")
            seen.setdefault(key, []).append((at, port))
    return found


def _go_port(port: ContainerPort) -> str:
    """An api.ContainerPort printed with %+v."""
    return (
        f"{{Name:{port.name or ''} HostPort:{port.hostPort or 0} "
        f"ContainerPort:{port.containerPort} Protocol:{port.protocol or ''} "
        f"HostIP:{port.hostIP or ''}}}"
    )


def _pod_affinity(affinity: dict[str, Any], path: Path) -> list[str]:
    found = []
    required, preferred = (
        "requiredDuringSchedulingIgnoredDuringExecution",
        "preferredDuringSchedulingIgnoredDuringExecution",
    )
    for i, term in enumerate(go_objects(affinity.get(required))):
        if term.get("labelSelector") is None:
            at = path.child(required).index(i).child("labelSelector")
            found.append(f"{at}: {_NULL_SELECTOR}")
    for i, weighted in enumerate(go_objects(affinity.get(preferred))):
        if (weighted.get("podAffinityTerm") or {}).get("labelSelector") is None:
            at = path.child(preferred).index(i).child("podAffinityTerm").child("labelSelector")
            found.append(f"{at}: {_NULL_SELECTOR}")
    return found
