"""The pod a `TYPE/NAME` stands for, as kubectl finds it for `port-forward`, `exec` and `attach`:
the object first (the builder's `ResourceNames("pods", arg)`: a bare name is a pod), then
`AttachablePodForObject`: a pod is itself; a Service's selector picks the most active of its
pods (`sort.Reverse(podutils.ActivePods)`), waiting up to `--pod-running-timeout` for one to
appear when none matches yet. Other kinds this node serves have no selector kubectl knows
(`selector for *v1.ConfigMap not implemented`); kinds it does not serve (deployments, jobs)
are the server's `doesn't have a resource type`. Then what port-forward's remote ports are in
that pod: a pod's port names as numbers, a Service's ports as their targets.

kubectl 1.32: pkg/polymorphichelpers/attachablepodforobject.go and helpers.go (`GetFirstPod`,
`SelectorsForObject`), pkg/util/podutils/podutils.go (ActivePods), pkg/util/pod_port.go and
service_port.go, pkg/cmd/portforward/portforward.go (`convertPodNamedPortToNumber`,
`translateServicePortToTargetPort`, `checkUDPPortIn*`); cli-runtime's `splitResourceTypeName`.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import cmp_to_key

from minikubelet.api.gofmt import parse_go_duration
from minikubelet.api.kinds import POD, SERVICE, Kind
from minikubelet.api.rfc3339 import parse_time
from minikubelet.cli.flags import flag_value_error
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    from minikubelet.api.raw import JSON
    from minikubelet.cli.client import ApiClient
    from minikubelet.clock import Clock

__all__ = [
    "DEFAULT_POD_RUNNING_TIMEOUT",
    "active_first",
    "attachable_pod",
    "convert_pod_named_ports",
    "first_pod",
    "object_for",
    "pod_running_timeout",
    "remote_ports",
    "selector_for",
    "split_target",
    "translate_service_ports",
]

DEFAULT_POD_RUNNING_TIMEOUT = 60.0  # port-forward's, attach's and exec's `--pod-running-timeout`
_TIMED_OUT = "timed out waiting for the condition"  # wait.ErrWaitTimeout
_CLOSED = "watch closed before UntilWithoutRetry timeout"  # watchtools.ErrWatchClosed


def pod_running_timeout(text: str, command: str) -> float:
    """`--pod-running-timeout` (a Go duration) in seconds, pflag's error when it does not
    parse. The command then refuses one not above zero, after its argument checks
    (GetPodRunningTimeoutFlag: `--pod-running-timeout must be higher than zero`)."""
    try:
        return parse_go_duration(text)
    except ValueError as exc:
        raise flag_value_error("--pod-running-timeout", text, str(exc), command) from None


def split_target(target: str) -> tuple[str, str]:
    """(resource word, name): `svc/web` or a bare name, a pod's (splitResourceTypeName)."""
    if "/" not in target:
        return "pods", target
    parts = target.split("/")
    if len(parts) != 2:
        raise ManifestError("arguments in resource/name form may not have more than one slash")
    word, name = parts
    if not word or not name or "," in word:
        raise ManifestError("arguments in resource/name form must have a single resource and name")
    return word, name


def object_for(client: ApiClient, target: str, namespace: str) -> tuple[Kind, JSON]:
    """The kind and the object `target` names; the server's NotFound when it does not exist."""
    word, name = split_target(target)
    kind = resolve(word)
    obj: JSON = client.get_named(kind.path(namespace, name), namespace if kind.namespaced else "")
    return kind, obj


def selector_for(kind: Kind, obj: JSON) -> str:
    """The label selector of the pods behind `obj` (SelectorsForObject), kubectl's errors."""
    go_type = f"*{kind.version}.{kind.kind}"
    if kind is not SERVICE:
        raise ManifestError(f"cannot attach to {go_type}: selector for {go_type} not implemented")
    selector = (obj.get("spec") or {}).get("selector") or {}
    if not selector:
        name = obj["metadata"]["name"]
        raise ManifestError(
            f"cannot attach to {go_type}: invalid service '{name}': "
            "Service is defined without a selector"
        )
    return ",".join(f"{key}={selector[key]}" for key in sorted(selector))


def attachable_pod(client: ApiClient, kind: Kind, obj: JSON, timeout: float, clock: Clock) -> JSON:
    """The pod to forward to, exec or attach in for `obj` (attachablePodForObject)."""
    if kind is POD:
        return obj
    selector = selector_for(kind, obj)
    return first_pod(client, obj["metadata"].get("namespace") or "", selector, timeout, clock)


def first_pod(
    client: ApiClient, namespace: str, selector: str, timeout: float, clock: Clock
) -> JSON:
    """The most active pod matching `selector`; when none does yet, the first one a watch sees
    added or modified within `timeout` (GetPodList). The watch ends on the server at the
    timeout (rounded up to a second); ending sooner is the watch closing under us."""
    listed = client.request("GET", POD.path(namespace), labelSelector=selector)
    pods: list[JSON] = listed.get("items") or []
    if pods:
        return active_first(pods)[0]
    started = clock.monotonic()
    lines = client.stream_lines(
        POD.path(namespace),
        watch="true",
        labelSelector=selector,
        resourceVersion=(listed.get("metadata") or {}).get("resourceVersion"),
        timeoutSeconds=max(1, math.ceil(timeout)),
    )
    for line in lines:
        if not line.strip():
            continue
        event = json.loads(line)
        if event.get("type") in ("ADDED", "MODIFIED"):
            found: JSON = event["object"]
            return found
    raise ManifestError(_TIMED_OUT if clock.monotonic() - started >= timeout else _CLOSED)


def remote_ports(kind: Kind, obj: JSON, pod: JSON, specs: list[str]) -> list[str]:
    """The `[LOCAL:]REMOTE` specs with each remote port as a number in `pod` (port-forward's
    Complete): a Service's ports translated to their targets, a pod's port names to numbers;
    a port only declared as UDP refused first."""
    if kind is SERVICE:
        _check_udp(specs, obj, True)
        return translate_service_ports(specs, obj, pod)
    _check_udp(specs, pod, False)
    return convert_pod_named_ports(specs, pod)


# ---- kubectl's pkg/util/pod_port.go and service_port.go, and port-forward's translation ----


def _atoi(text: str) -> int | None:
    """Go's `strconv.Atoi`: an optional sign and ASCII digits, within int64; else None."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or any(c not in "0123456789" for c in digits):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < 1 << 63 else None


def _split_port(spec: str) -> tuple[str, str]:
    """kubectl's splitPort: `L:R`; anything else is its first part for both."""
    parts = spec.split(":")
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], parts[0])


def _container_port(pod: JSON, name: str) -> int:
    """LookupContainerPortNumberByName: containers first, then init containers."""
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for port in container.get("ports") or []:
            if (port.get("name") or "") == name:
                return int(port.get("containerPort") or 0)
    raise ManifestError(f"Pod '{pod['metadata']['name']}' does not have a named port '{name}'")


def _service_port(svc: JSON, name: str) -> int:
    """LookupServicePortNumberByName."""
    for port in (svc.get("spec") or {}).get("ports") or []:
        if (port.get("name") or "") == name:
            return int(port.get("port") or 0)
    raise ManifestError(f"Service '{svc['metadata']['name']}' does not have a named port '{name}'")


def _target_port(svc: JSON, pod: JSON, port: int) -> int:
    """LookupContainerPortNumberByServicePort: the service port's targetPort, by number or by
    the pod's port name; the port itself for a headless service or an omitted targetPort."""
    spec = svc.get("spec") or {}
    for entry in spec.get("ports") or []:
        if int(entry.get("port") or 0) != port:
            continue
        if spec.get("clusterIP") == "None":
            return port
        target = entry.get("targetPort") or 0
        if isinstance(target, str):
            return _container_port(pod, target)
        return int(target) or port
    raise ManifestError(f"Service {svc['metadata']['name']} does not have a service port {port}")


def _check_udp(specs: list[str], obj: JSON, is_service: bool) -> None:
    """checkUDPPortInService / checkUDPPortInPod: a port only declared as UDP is refused."""
    spec = obj.get("spec") or {}
    if is_service:
        declared = [(p.get("port"), p.get("protocol")) for p in spec.get("ports") or []]
    else:
        containers = spec.get("containers") or []
        ports = [p for c in containers for p in c.get("ports") or []]
        declared = [(p.get("containerPort"), p.get("protocol")) for p in ports]
    udp = {int(n or 0) for n, protocol in declared if protocol == "UDP"}
    udp -= {int(n or 0) for n, protocol in declared if protocol == "TCP"}
    for port in specs:
        _, remote = _split_port(port)
        number = _atoi(remote)
        if number is None:
            number = _service_port(obj, remote) if is_service else _container_port(obj, remote)
        if number in udp:
            raise ManifestError(f"UDP protocol is not supported for {remote}")


def convert_pod_named_ports(specs: list[str], pod: JSON) -> list[str]:
    """convertPodNamedPortToNumber: a remote port's name to the pod's container port."""
    converted: list[str] = []
    for spec in specs:
        local, remote = _split_port(spec)
        if remote == "":
            raise ManifestError("remote port cannot be empty")
        number = remote if _atoi(remote) is not None else str(_container_port(pod, remote))
        converted.append(f"{local}:{number}" if local != remote else number)
    return converted


def translate_service_ports(specs: list[str], svc: JSON, pod: JSON) -> list[str]:
    """translateServicePortToTargetPort: a service port (number or name) to its target in the
    pod; a bare name listens on the service port's number."""
    translated: list[str] = []
    for spec in specs:
        local, remote = _split_port(spec)
        number = _atoi(remote)
        if number is None:
            number = _service_port(svc, remote)
            if local == remote:
                local = str(number)
        port = (number + (1 << 31)) % (1 << 32) - (1 << 31)  # Go's int32(portnum)
        remote = str(_target_port(svc, pod, port))
        translated.append(f"{local}:{remote}" if local != remote else remote)
    return translated


# ---- ActivePods ----


def _time(value: object) -> datetime | None:
    """A metav1.Time; None for Go's zero time (absent or empty)."""
    return parse_time(value) if isinstance(value, str) and value else None


def _after_or_zero(t1: datetime | None, t2: datetime | None) -> bool:
    """Whether t1 is after t2, a zero time counting as after any other (afterOrZero)."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _ready(pod: JSON) -> tuple[bool, datetime | None]:
    """(Ready is True, since when): IsPodReady and podReadyTime."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return True, _time(condition.get("lastTransitionTime"))
            return False, None
    return False, None


def _restarts(pod: JSON) -> tuple[int, int]:
    """The most restarts of an app container, then of a sidecar (maxContainerRestarts)."""
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    regular = max(
        [c.get("restartCount") or 0 for c in status.get("containerStatuses") or []] or [0]
    )
    sidecars = {
        c["name"] for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"
    }
    inits = status.get("initContainerStatuses") or []
    sidecar = max([c.get("restartCount") or 0 for c in inits if c.get("name") in sidecars] or [0])
    return regular, sidecar


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}  # any other phase ranks 0, as in Go


def _less_active(a: JSON, b: JSON) -> bool:
    """podutils.ActivePods.Less: whether `a` is the better one to delete (the less active)."""
    node_a, node_b = ((p.get("spec") or {}).get("nodeName") or "" for p in (a, b))
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a, phase_b = (
        _PHASE_RANK.get((p.get("status") or {}).get("phase") or "", 0) for p in (a, b)
    )
    if phase_a != phase_b:
        return phase_a < phase_b
    (ready_a, since_a), (ready_b, since_b) = _ready(a), _ready(b)
    if ready_a != ready_b:
        return not ready_a
    gone_a, gone_b = (_time(p["metadata"].get("deletionTimestamp")) for p in (a, b))
    if (gone_a is None) != (gone_b is None):
        return gone_a is not None
    if gone_a is not None and gone_b is not None and gone_a != gone_b:
        return gone_a < gone_b
    if ready_a and ready_b and since_a != since_b:
        return _after_or_zero(since_a, since_b)
    restarts_a, restarts_b = _restarts(a), _restarts(b)
    if restarts_a[0] != restarts_b[0]:
        return restarts_a[0] > restarts_b[0]
    if restarts_a[1] != restarts_b[1]:
        return restarts_a[1] > restarts_b[1]
    created_a, created_b = (_time(p["metadata"].get("creationTimestamp")) for p in (a, b))
    if created_a != created_b:
        return _after_or_zero(created_a, created_b)
    return False


def _reverse_cmp(a: JSON, b: JSON) -> int:
    """sort.Reverse(ActivePods): the more active first, equals in the order listed (Go's
    insertion sort, which it uses up to 12 pods, is stable)."""
    return -1 if _less_active(b, a) else 1 if _less_active(a, b) else 0


def active_first(pods: list[JSON]) -> list[JSON]:
    """The pods, most active first: assigned, Running, Ready, not deleting, Ready the longest,
    fewest restarts, oldest."""
    return sorted(pods, key=cmp_to_key(_reverse_cmp))
