"""The scheduler's filter for a cluster of one node: does a pod fit this node, and if not, why.

Upstream (`pkg/scheduler`, 1.32) runs each filter plugin in the default profile's order and
stops at a node's first failure; with one node, that failure is the whole answer, and its
`FitError` is the FailedScheduling event's message and the PodScheduled condition's. The
plugins that can say no on a node with no volumes to bind, in their order:

    NodeUnschedulable   spec.unschedulable (`kubectl cordon`), unless tolerated
    TaintToleration     a NoSchedule/NoExecute taint no toleration tolerates
    NodeAffinity        nodeSelector and required node affinity
    VolumeRestrictions  its PreFilter: a PersistentVolumeClaim that does not exist (all here)
    NodePorts           a hostPort another pod on the node holds
    NodeResourcesFit    requests beyond allocatable, or more pods than the node takes
    PodTopologySpread   DoNotSchedule constraints: the node lacks the key, or the skew
    InterPodAffinity    required pod affinity and anti-affinity, the pod's and the others'

Scoring (preferred terms, ScheduleAnyway) picks among nodes that fit: with one node it
changes nothing. Pure functions of JSON objects, so the node and the tests share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from minikubelet.api.nodes import UNSCHEDULABLE_TAINT
from minikubelet.api.quantity import Quantity, QuantityError
from minikubelet.api.raw import JSON
from minikubelet.store.selectors import Requirement

__all__ = [
    "NOT_HELPFUL",
    "NO_VICTIMS",
    "Unfit",
    "filter_node",
    "fit_error",
    "node_affinity_matches",
    "objects",
    "pod_requests",
    "port_conflict",
    "shortages",
    "tolerated",
]

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass(frozen=True)
class Unfit:
    """Why the node does not fit: the failing plugin, its reasons, whether preempting a pod
    could help (`Unschedulable`) or not (`UnschedulableAndUnresolvable`), and whether it was
    a PreFilter that failed (its message printed without a count)."""

    plugin: str
    reasons: tuple[str, ...]
    resolvable: bool = False
    prefilter: bool = False

    def message(self) -> str:
        """`FitError.Error()`, with DefaultPreemption's PostFilter message after it: this
        node never preempts (a pod without a class has priority 0, as every other pod)."""
        why = NO_VICTIMS if self.resolvable else NOT_HELPFUL
        postfix = f"preemption: 0/1 nodes are available: 1 {why}."
        return fit_error(self.reasons, postfix, prefilter=self.prefilter)


def fit_error(reasons: Sequence[str], postfix: str, *, prefilter: bool = False) -> str:
    """`FitError.Error()` for one node: each reason counted ("1 ..."), sorted, joined with
    ", "; a PreFilter's message without a count; then the PostFilter's message."""
    counted = ", ".join(reasons if prefilter else sorted(f"1 {reason}" for reason in reasons))
    return f"0/1 nodes are available: {counted}. {postfix}"


def filter_node(pod: JSON, node: JSON, others: Sequence[JSON]) -> Unfit | None:
    """None when `pod` fits `node`, beside `others` (the pods bound to it and not finished)."""
    spec = pod.get("spec") or {}
    # the PreFilters first, for the whole cluster: NodeAffinity's node names, then
    # VolumeRestrictions' reading of each claim (this node serves none)
    names = _node_names(spec)
    if names is not None and not names:
        return Unfit("NodeAffinity", ("pod affinity terms conflict",), prefilter=True)
    claim = _missing_claim(spec)
    if claim:
        reason = f'persistentvolumeclaim "{claim}" not found'
        return Unfit("VolumeRestrictions", (reason,), prefilter=True)
    if names is not None and (node.get("metadata") or {}).get("name") not in names:
        # the PreFilter kept other nodes only: this one is never filtered, "absent"
        return Unfit("NodeAffinity", ("node(s) didn't satisfy plugin(s) [NodeAffinity]",))
    node_spec = node.get("spec") or {}
    tolerations = objects(spec.get("tolerations"))
    if node_spec.get("unschedulable") and not tolerated(
        tolerations, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
    ):
        return Unfit("NodeUnschedulable", ("node(s) were unschedulable",))
    for taint in objects(node_spec.get("taints")):
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(tolerations, taint):
            key, value = taint.get("key") or "", taint.get("value") or ""
            reason = f"node(s) had untolerated taint {{{key}: {value}}}"
            return Unfit("TaintToleration", (reason,))
    if not node_affinity_matches(spec, node):
        return Unfit("NodeAffinity", ("node(s) didn't match Pod's node affinity/selector",))
    if port_conflict(spec, others):
        reason = "node(s) didn't have free ports for the requested pod ports"
        return Unfit("NodePorts", (reason,), resolvable=True)
    insufficient = shortages(pod, node, others)
    if insufficient:
        reasons = tuple(shortage.reason for shortage in insufficient)
        return Unfit("NodeResourcesFit", reasons, resolvable=True)
    return _topology_spread(pod, node, others) or _inter_pod_affinity(pod, node, others)


# NodeUnschedulable, TaintToleration


def tolerated(tolerations: Iterable[JSON], taint: Mapping[str, Any]) -> bool:
    """`Toleration.ToleratesTaint`: effect (empty: all), key (empty with Exists: all keys),
    and for Equal (the default operator) the value."""
    for toleration in tolerations:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key") or ""
        if key and key != taint.get("key"):
            continue
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists":
            return True
        if (
            operator == "Equal"
            and key
            and (toleration.get("value") or "") == (taint.get("value") or "")
        ):
            return True
    return False


# NodeAffinity


def node_affinity_matches(spec: Mapping[str, Any], node: JSON) -> bool:
    """`GetRequiredNodeAffinity(pod).Match(node)`: the nodeSelector, and any one of the
    required node selector terms (each term's expressions and fields all hold; a term with
    neither matches no node)."""
    meta = node.get("metadata") or {}
    labels: Mapping[str, str] = meta.get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    terms = _required_node_terms(spec)
    if terms is None:
        return True
    fields = {"metadata.name": str(meta.get("name") or "")}
    return any(_term_matches(term, labels, fields) for term in terms)


def _required_node_terms(spec: Mapping[str, Any]) -> list[JSON] | None:
    """The required node selector's terms; None when the pod has no required selector."""
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    return objects(affinity.get("nodeSelectorTerms")) if affinity else None


def _node_names(spec: Mapping[str, Any]) -> set[str] | None:
    """NodeAffinity's PreFilter: when every required term names nodes (`matchFields`
    metadata.name In), the union over the terms of each term's intersection; else None."""
    terms = _required_node_terms(spec)
    if not terms:
        return None
    union: set[str] = set()
    for term in terms:
        named = [
            {str(v) for v in f.get("values") or []}
            for f in objects(term.get("matchFields"))
            if f.get("key") == "metadata.name" and f.get("operator") == "In"
        ]
        if not named:
            return None
        union |= set.intersection(*named)
    return union


def _term_matches(term: JSON, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
    expressions = objects(term.get("matchExpressions"))
    field_expressions = objects(term.get("matchFields"))
    if not expressions and not field_expressions:
        return False
    return all(_requirement(e, labels) for e in expressions) and all(
        _requirement(e, fields) for e in field_expressions
    )


_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def _requirement(expression: JSON, labels: Mapping[str, str]) -> bool:
    """A selector requirement (`labels.Requirement.Matches`); a node selector's Gt and Lt
    compare integers, and an operator it does not know matches nothing."""
    key = str(expression.get("key") or "")
    operator = str(expression.get("operator") or "")
    values = [str(v) for v in expression.get("values") or []]
    if operator in _OPERATORS:
        return Requirement(key, _OPERATORS[operator], frozenset(values)).matches(labels)
    if operator in ("Gt", "Lt") and key in labels and len(values) == 1:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


# VolumeRestrictions


def _missing_claim(spec: Mapping[str, Any]) -> str:
    """The first PersistentVolumeClaim the pod mounts: none exists on this node."""
    for volume in objects(spec.get("volumes")):
        claim = volume.get("persistentVolumeClaim")
        if isinstance(claim, dict):
            return str(claim.get("claimName") or "")
    return ""


# NodePorts


def _host_ports(spec: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of each app container port with a hostPort (1.32 reads
    `spec.containers` only)."""
    found = []
    for container in objects(spec.get("containers")):
        for port in objects(container.get("ports")):
            host_port = int(port.get("hostPort") or 0)
            if host_port > 0:
                ip = port.get("hostIP") or "0.0.0.0"
                found.append((ip, port.get("protocol") or "TCP", host_port))
    return found


def port_conflict(spec: Mapping[str, Any], others: Sequence[JSON]) -> bool:
    """`fitsPorts`: the same protocol and port on the same address, or on 0.0.0.0 either way."""
    wanted = _host_ports(spec)
    if not wanted:
        return False
    held = [p for other in others for p in _host_ports(other.get("spec") or {})]
    return any(
        protocol == h_protocol and port == h_port and (ip == h_ip or "0.0.0.0" in (ip, h_ip))
        for ip, protocol, port in wanted
        for h_ip, h_protocol, h_port in held
    )


# NodeResourcesFit


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(Quantity.parse(str(value)).milli_value()) / 1000
    except (QuantityError, ValueError):
        return Decimal(0)


def _requests(container: JSON) -> dict[str, Decimal]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {name: _amount(value) for name, value in requests.items()}


def _add(total: dict[str, Decimal], more: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {
        name: total.get(name, Decimal(0)) + more.get(name, Decimal(0)) for name in {*total, *more}
    }


def _max(a: Mapping[str, Decimal], b: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {name: max(a.get(name, Decimal(0)), b.get(name, Decimal(0))) for name in {*a, *b}}


def pod_requests(spec: Mapping[str, Any]) -> dict[str, Decimal]:
    """`resourcehelper.PodRequests`: the app containers and sidecars summed, or the largest
    init container with the sidecars started before it, whichever is more; plus overhead."""
    total: dict[str, Decimal] = {}
    for container in objects(spec.get("containers")):
        total = _add(total, _requests(container))
    sidecars: dict[str, Decimal] = {}
    inits: dict[str, Decimal] = {}
    for container in objects(spec.get("initContainers")):
        own = _requests(container)
        if container.get("restartPolicy") == "Always":
            total = _add(total, own)
            sidecars = _add(sidecars, own)
            inits = _max(inits, sidecars)
        else:
            inits = _max(inits, _add(own, sidecars))
    total = _max(total, inits)
    overhead = spec.get("overhead") or {}
    return _add(total, {name: _amount(value) for name, value in overhead.items()})


@dataclass(frozen=True)
class Shortage:
    """`noderesources.InsufficientResource`: CPU in millicores, the rest in units."""

    resource: str
    reason: str
    requested: int
    used: int
    capacity: int


def _units(resource: str, amount: Decimal) -> int:
    scale = 1000 if resource == "cpu" else 1
    return int((amount * scale).to_integral_value(rounding="ROUND_CEILING"))


def shortages(pod: JSON, node: JSON, others: Sequence[JSON]) -> list[Shortage]:
    """`noderesources.Fits`: more pods than the node takes, then each requested resource
    beyond what the others leave of the node's allocatable (cpu, memory, ephemeral-storage,
    then the others by name)."""
    allocatable = {
        name: _amount(value)
        for name, value in ((node.get("status") or {}).get("allocatable") or {}).items()
    }
    found = []
    if "pods" in allocatable and len(others) + 1 > allocatable["pods"]:
        capacity = int(allocatable["pods"])
        found.append(Shortage("pods", "Too many pods", 1, len(others), capacity))
    wanted = pod_requests(pod.get("spec") or {})
    if not any(wanted.values()):
        return found
    used: dict[str, Decimal] = {}
    for other in others:
        used = _add(used, pod_requests(other.get("spec") or {}))
    first = ("cpu", "memory", "ephemeral-storage")
    for name in [*first, *sorted(set(wanted) - {*first, "pods"})]:
        want, have, taken = (
            wanted.get(name, Decimal(0)),
            allocatable.get(name, Decimal(0)),
            used.get(name, Decimal(0)),
        )
        if want and want > have - taken:
            units = [_units(name, x) for x in (want, taken, have)]
            found.append(Shortage(name, f"Insufficient {name}", *units))
    return found


# PodTopologySpread


def _topology_spread(pod: JSON, node: JSON, others: Sequence[JSON]) -> Unfit | None:
    spec = pod.get("spec") or {}
    constraints = [
        c
        for c in objects(spec.get("topologySpreadConstraints"))
        if c.get("whenUnsatisfiable") == "DoNotSchedule"
    ]
    if not constraints:
        return None
    labels: Mapping[str, str] = (node.get("metadata") or {}).get("labels") or {}
    if any(str(c.get("topologyKey") or "") not in labels for c in constraints):
        reason = "node(s) didn't match pod topology spread constraints (missing required label)"
        return Unfit("PodTopologySpread", (reason,))
    namespace, own_labels = _namespace(pod), _labels(pod)
    for constraint in constraints:
        selector = _spread_selector(constraint, own_labels)
        matching = sum(
            1
            for other in others
            if not _empty(selector)
            and _namespace(other) == namespace
            and not (other.get("metadata") or {}).get("deletionTimestamp")
            and _selector_matches(selector, _labels(other))
        )
        self_match = 1 if _selector_matches(selector, own_labels) else 0
        # one domain: the global minimum is that domain's count, or 0 while there are
        # fewer domains than minDomains
        minimum = 0 if int(constraint.get("minDomains") or 1) > 1 else matching
        if matching + self_match - minimum > int(constraint.get("maxSkew") or 1):
            reason = "node(s) didn't match pod topology spread constraints"
            return Unfit("PodTopologySpread", (reason,), resolvable=True)
    return None


def _spread_selector(constraint: JSON, own_labels: Mapping[str, str]) -> JSON | None:
    """The constraint's selector, with the pod's own values of `matchLabelKeys` ANDed in."""
    selector = constraint.get("labelSelector")
    keys = [k for k in constraint.get("matchLabelKeys") or [] if k in own_labels]
    if selector is None or not keys:
        return selector
    expressions = [
        *objects(selector.get("matchExpressions")),
        *({"key": k, "operator": "In", "values": [own_labels[k]]} for k in keys),
    ]
    return {**selector, "matchExpressions": expressions}


# InterPodAffinity


@dataclass(frozen=True)
class _Term:
    """An affinity term of `owner` (`framework.AffinityTerm`): its selector, the namespaces
    it reads (its own, if the term names none) and its topology key."""

    selector: JSON | None
    namespaces: frozenset[str]
    namespace_selector: JSON | None
    topology_key: str

    @classmethod
    def of(cls, term: JSON, owner: JSON) -> _Term:
        namespaces = frozenset(str(n) for n in term.get("namespaces") or [])
        namespace_selector = term.get("namespaceSelector")
        if not namespaces and namespace_selector is None:
            namespaces = frozenset([_namespace(owner)])
        # matchLabelKeys/mismatchLabelKeys are in the selector already: the API server
        # merged them at create (`mutatePodAffinity`); the 1.32 scheduler reads the selector
        selector = term.get("labelSelector")
        return cls(selector, namespaces, namespace_selector, str(term.get("topologyKey") or ""))

    def matches(self, pod: JSON) -> bool:
        """`AffinityTerm.Matches`: the pod's namespace is one the term reads, and its labels
        match the selector (a missing selector matches nothing)."""
        namespace = _namespace(pod)
        in_namespace = namespace in self.namespaces or (
            self.namespace_selector is not None
            and _selector_matches(
                self.namespace_selector, {"kubernetes.io/metadata.name": namespace}
            )
        )
        return in_namespace and _selector_matches(self.selector, _labels(pod))


def _terms(pod: JSON, kind: str) -> list[_Term]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    return [_Term.of(term, pod) for term in objects(required)]


def _inter_pod_affinity(pod: JSON, node: JSON, others: Sequence[JSON]) -> Unfit | None:
    """`interpodaffinity` Filter: the pod's affinity, its anti-affinity, then the existing
    pods' anti-affinity. Every pod here is on this one node, so a topology domain is the
    node itself when it carries the key."""
    labels: Mapping[str, str] = (node.get("metadata") or {}).get("labels") or {}
    affinity = _terms(pod, "podAffinity")
    if affinity:
        # `affinityCounts`: the pods matching every term, in each term's domain
        counted = [o for o in others if all(term.matches(o) for term in affinity)]
        keyed = all(term.topology_key in labels for term in affinity)
        # the first pod of a group that selects itself: no pod anywhere matches yet
        alone = not counted and all(term.matches(pod) for term in affinity)
        if not keyed or not (counted or alone):
            return Unfit("InterPodAffinity", ("node(s) didn't match pod affinity rules",))
    for term in _terms(pod, "podAntiAffinity"):
        if term.topology_key in labels and any(term.matches(o) for o in others):
            reason = "node(s) didn't match pod anti-affinity rules"
            return Unfit("InterPodAffinity", (reason,), resolvable=True)
    for other in others:
        for term in _terms(other, "podAntiAffinity"):
            if term.topology_key in labels and term.matches(pod):
                reason = "node(s) didn't satisfy existing pods anti-affinity rules"
                return Unfit("InterPodAffinity", (reason,), resolvable=True)
    return None


# label selectors (metav1.LabelSelector)


def _selector_matches(selector: JSON | None, labels: Mapping[str, str]) -> bool:
    """`LabelSelectorAsSelector(...).Matches`: nil matches nothing, {} everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement(e, labels) for e in objects(selector.get("matchExpressions")))


def _empty(selector: JSON | None) -> bool:
    """`Selector.Empty()`: nil (Nothing) or {} (Everything) have no requirement; a spread
    constraint counts no pod with either."""
    return selector is None or not (selector.get("matchLabels") or selector.get("matchExpressions"))


def objects(value: Any) -> list[JSON]:
    return [item for item in value or [] if isinstance(item, dict)]


def _labels(pod: JSON) -> Mapping[str, str]:
    labels: Mapping[str, str] = (pod.get("metadata") or {}).get("labels") or {}
    return labels


def _namespace(pod: JSON) -> str:
    return str((pod.get("metadata") or {}).get("namespace") or "default")


# the scheduling queue: when an unschedulable pod is tried again


INITIAL_BACKOFF = 1.0  # DefaultPodInitialBackoffDuration
MAX_BACKOFF = 10.0  # DefaultPodMaxBackoffDuration
UNSCHEDULABLE_TIMEOUT = 300.0  # DefaultPodMaxInUnschedulablePodsDuration


@dataclass(frozen=True)
class Attempt:
    """A failed scheduling attempt, and what of the cluster its queueing hints compare: the
    node and, of each pod bound then, only what a hint reads (`slim`)."""

    at: float  # the clock's monotonic seconds
    count: int  # the pod's attempts so far
    unfit: Unfit
    pod: JSON
    node: JSON
    others: Mapping[str, JSON]  # uid -> `slim(pod)`
    marker: Any = None  # the caller's mark of the cluster's state: unchanged, nothing to do

    def backoff(self) -> float:
        """1 s, doubling per attempt, at most 10 s (`calculateBackoffDuration`)."""
        return float(min(INITIAL_BACKOFF * 2 ** (self.count - 1), MAX_BACKOFF))

    def waiting(self, now: float, marker: Any = None) -> bool:
        """True while the pod certainly stays where it is, before reading the cluster: its
        back-off is not over, or nothing changed (the same `marker`), short of the flush."""
        if now - self.at >= UNSCHEDULABLE_TIMEOUT:
            return False
        return now - self.at < self.backoff() or (marker is not None and marker == self.marker)

    def due(self, pod: JSON, node: JSON, others: Sequence[JSON], now: float) -> bool:
        """Whether the pod goes back to the active queue: after 5 minutes unschedulable
        (`flushUnschedulablePodsLeftover`), or once its back-off is over if a change since the
        attempt is one its failing plugin's queueing hint says may make it schedulable."""
        if now - self.at >= UNSCHEDULABLE_TIMEOUT:
            return True
        if now - self.at < self.backoff():
            return False
        return self._hinted(pod, node, {_uid(o): slim(o) for o in others})

    def _hinted(self, pod: JSON, node: JSON, others: Mapping[str, JSON]) -> bool:
        plugin = self.unfit.plugin
        node_changed = _node_view(node) != _node_view(self.node)
        pod_changed = _pod_view(pod) != _pod_view(self.pod)
        if plugin in ("NodeUnschedulable", "TaintToleration", "NodeAffinity"):
            # Node UpdateNodeLabel/UpdateNodeTaint, Pod UpdatePodTolerations: Queue when the
            # plugin that refused the pod would now let it through
            now = filter_node(pod, node, ())
            return (node_changed or pod_changed) and (now is None or now.plugin != plugin)
        if plugin == "VolumeRestrictions":  # only a claim's arrival, which never comes here
            return False
        gone = [o for uid, o in self.others.items() if uid not in others]
        if plugin == "NodePorts":  # a deleted pod that held a conflicting host port
            return any(port_conflict(pod.get("spec") or {}, [o]) for o in gone)
        if plugin == "NodeResourcesFit":  # a pod deleted, or the node's allocatable changed
            allocatable = (node.get("status") or {}).get("allocatable")
            return bool(gone) or allocatable != (self.node.get("status") or {}).get("allocatable")
        changed: list[tuple[JSON | None, JSON | None]] = [
            (self.others.get(uid), o)
            for uid, o in others.items()
            if uid not in self.others or _labels(self.others[uid]) != _labels(o)
        ]
        changed += [(o, None) for o in gone]
        if plugin == "PodTopologySpread":
            return (
                node_changed
                or pod_changed
                or any(_spread_matches(pod, p) for pair in changed for p in pair if p is not None)
            )
        if plugin == "InterPodAffinity":
            return _affinity_hint(pod, node, node_changed, changed)
        return node_changed or pod_changed or bool(changed)


def slim(pod: JSON) -> JSON:
    """What the queueing hints read of a bound pod: its identity, labels and host ports."""
    meta = pod.get("metadata") or {}
    containers = [
        {"ports": c.get("ports")} for c in objects((pod.get("spec") or {}).get("containers"))
    ]
    return {
        "metadata": {k: meta.get(k) for k in ("uid", "name", "namespace", "labels")},
        "spec": {"containers": containers},
    }


def _matches_all(terms: Sequence[_Term], pod: JSON) -> bool:
    """`podMatchesAllAffinityTerms`: false for no terms."""
    return bool(terms) and all(term.matches(pod) for term in terms)


def _affinity_hint(
    pod: JSON, node: JSON, node_changed: bool, changed: Sequence[tuple[JSON | None, JSON | None]]
) -> bool:
    """InterPodAffinity's 1.32 hints: a pod added, or relabelled so that it now matches all
    the affinity terms; a pod relabelled so that it no longer matches all the anti-affinity
    terms, or deleted while it did; a node relabelled that has a term's topology key.
    Deleting the pod whose own anti-affinity kept this one out is not among them: 1.32 waits
    for the 5-minute flush then."""
    affinity = _terms(pod, "podAffinity")
    anti = _terms(pod, "podAntiAffinity")
    if node_changed:
        labels = (node.get("metadata") or {}).get("labels") or {}
        if any(t.topology_key in labels for t in (*affinity, *anti)):
            return True
    for old, new in changed:
        if new is not None and _matches_all(affinity, new):
            if old is None or not _matches_all(affinity, old):
                return True
        if old is not None and _matches_all(anti, old):
            if new is None or not _matches_all(anti, new):
                return True
    return False


def _spread_matches(pod: JSON, other: JSON) -> bool:
    """Whether `other` counts for one of the pod's DoNotSchedule constraints."""
    own = _labels(pod)
    return _namespace(other) == _namespace(pod) and any(
        _selector_matches(_spread_selector(c, own), _labels(other))
        for c in objects((pod.get("spec") or {}).get("topologySpreadConstraints"))
    )


def _node_view(node: JSON) -> tuple[Any, ...]:
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    allocatable = (node.get("status") or {}).get("allocatable")
    return (meta.get("labels"), spec.get("taints"), spec.get("unschedulable"), allocatable)


def _pod_view(pod: JSON) -> tuple[Any, ...]:
    return (_labels(pod), (pod.get("spec") or {}).get("tolerations"))


def _uid(pod: JSON) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")
