"""The API server's create pipeline for a Pod body, in its order (kubelet-reference Part 4 §0).

size limit → strict decoding → defaulting → namespace → system fields → PrepareForCreate
(the fields of gates 1.32 keeps off dropped, status reset, QoS, affinity's matchLabelKeys
merge, AppArmor's skew) → validation. Each step's
failure is the StatusError the API server answers with; the caller (the server, or `--dry-run`
in the CLI) decides what to do with the Pod.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from minikubelet.api.apparmor import apply_version_skew
from minikubelet.api.codec import from_dict
from minikubelet.api.defaults import default_pod
from minikubelet.api.disabled import drop_disabled_fields
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Pod, PodCondition, PodStatus
from minikubelet.api.qos import pod_qos_class
from minikubelet.api.raw import MAX_OBJECT_BYTES
from minikubelet.api.schema import check_pod
from minikubelet.api.validation import invalid_error, validate_pod
from minikubelet.api.warnings import create_warnings
from minikubelet.errors import BadRequest, Forbidden, RequestEntityTooLarge, StatusError

__all__ = [
    "POD_STRATEGY",
    "PodStrategy",
    "create_with_warnings",
    "decode_pod",
    "generate_name",
    "mutate_pod_affinity",
    "prepare_create",
]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def decode_pod(body: dict[str, Any]) -> Pod:
    """Strictly decode and default a Pod body: the steps every create, update and patch share."""
    if len(json.dumps(body, separators=(",", ":"))) > MAX_OBJECT_BYTES:
        raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_OBJECT_BYTES}")
    problem = check_pod(body).message()
    if problem is not None:
        raise BadRequest(f'Pod in version "v1" cannot be handled as a Pod: {problem}')
    return default_pod(from_dict(Pod, body))


def prepare_create(
    body: dict[str, Any],
    namespace: str,
    now: datetime,
    new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Pod:
    """Everything the API server does to a Pod before storing it; raises its StatusError."""
    return create_with_warnings(body, namespace, now, new_uid)[0]


def create_with_warnings(
    body: dict[str, Any],
    namespace: str,
    now: datetime,
    new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
    *,
    admission: bool = False,
) -> tuple[Pod, list[str]]:
    """`prepare_create`, and the warnings the API server sends with the created Pod: those of
    PrepareForCreate (AppArmor's annotations), then WarningsOnCreate. `admission`: run the
    admission plugins too (a request to the server; kubectl's client-side dry run runs none)."""
    pod = decode_pod(body)
    meta = pod.metadata
    if not meta.namespace:
        meta.namespace = namespace
    elif meta.namespace != namespace:
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if admission:  # mutating admission, before BeforeCreate's checks and name generation
        admit_pod(pod)
    if meta.resourceVersion:
        raise StatusError("resourceVersion should not be set on objects to be created")
    meta.uid = new_uid()
    meta.creationTimestamp = now.replace(microsecond=0)
    meta.deletionTimestamp = None
    meta.deletionGracePeriodSeconds = None
    if not meta.name and meta.generateName:
        meta.name = generate_name(meta.generateName)
    drop_disabled_fields(pod)
    pod.status = PodStatus(phase="Pending", qosClass=pod_qos_class(pod))
    if pod.spec.extra.get("schedulingGates"):  # applySchedulingGatedCondition
        pod.status.conditions = [SCHEDULING_GATED]
    mutate_pod_affinity(pod)
    warnings = apply_version_skew(pod)
    errors = validate_pod(pod)
    if errors:
        raise invalid_error("Pod", meta.name or "", errors)
    return pod, warnings + create_warnings(pod)


def mutate_pod_affinity(pod: Pod) -> None:
    """`mutatePodAffinity` (PrepareForCreate; MatchLabelKeysInPodAffinity, on in 1.32): each
    (anti-)affinity term with a labelSelector gets `key In [value]` for each matchLabelKeys
    key the pod's labels have, then `key NotIn [value]` for each mismatchLabelKeys key,
    appended to its matchExpressions (the key lists stay)."""
    affinity = pod.spec.extra.get("affinity")
    if not isinstance(affinity, dict):
        return
    # a fresh copy: `extra` shares its dicts with the caller's body, which may even hold one
    # term object in two places (Go's decoded terms never alias)
    affinity = json.loads(json.dumps(affinity))
    labels = pod.metadata.labels or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind)
        if not isinstance(terms, dict):
            continue
        preferred = terms.get("preferredDuringSchedulingIgnoredDuringExecution")
        for weighted in preferred if isinstance(preferred, list) else []:
            if isinstance(weighted, dict) and isinstance(weighted.get("podAffinityTerm"), dict):
                _merge_label_keys(weighted["podAffinityTerm"], labels)
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution")
        for term in required if isinstance(required, list) else []:
            if isinstance(term, dict):
                _merge_label_keys(term, labels)
    pod.spec.extra["affinity"] = affinity


def _merge_label_keys(term: dict[str, Any], labels: dict[str, str]) -> None:
    """`applyMatchLabelKeysAndMismatchLabelKeys`: a null selector matches nothing and stays."""
    selector = term.get("labelSelector")
    if not isinstance(selector, dict):
        return
    for field, operator in (("matchLabelKeys", "In"), ("mismatchLabelKeys", "NotIn")):
        keys = term.get(field)
        for item in keys if isinstance(keys, list) else []:
            key = item if isinstance(item, str) else ""  # a null key is Go's ""
            if key in labels:
                requirement = {"key": key, "operator": operator, "values": [labels[key]]}
                expressions = selector.get("matchExpressions") or []
                selector["matchExpressions"] = [*expressions, requirement]


# the PriorityClasses every cluster has (`scheduling.SystemPriorityClasses`)
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}
DEFAULT_TOLERATIONS = (  # DefaultTolerationSeconds: not-ready, then unreachable, for 300 s
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
)  # fmt: skip


SCHEDULING_GATED = PodCondition(
    type="PodScheduled",
    status="False",
    reason="SchedulingGated",
    message="Scheduling is blocked due to non-empty scheduling gates",
)


def admit_pod(pod: Pod) -> None:
    """The API server's admission plugins that act on a Pod here, in the 1.32 order, after
    defaulting and before validation: `Priority` (the pod's priority from its class: 0 and
    PreemptLowerPriority without one; this node has only the two system classes),
    `DefaultTolerationSeconds` (300 s on the not-ready and unreachable taints) and
    `RuntimeClass` (this node has no RuntimeClass objects, so a pod naming one is refused as a
    cluster without it refuses it)."""
    _admit_priority(pod)
    _default_tolerations(pod)
    name = str(pod.spec.extra.get("runtimeClassName") or "")
    if name:
        raise _forbidden(pod, f"pod rejected: RuntimeClass {go_quote(name)} not found")


def _forbidden(pod: Pod, reason: str) -> Forbidden:
    """`admission.NewForbidden` on a pod: 403, `pods "NAME" is forbidden: REASON`."""
    meta = pod.metadata
    target = meta.name or meta.generateName or "Unknown"  # extractResourceName
    return Forbidden(
        f"pods {go_quote(target)} is forbidden: {reason}",
        details={"name": target, "kind": "pods"},
    )


def _admit_priority(pod: Pod) -> None:
    """`priority.admitPod` on create: the class's value (a class that does not exist is
    refused), which a priority the client set must equal, and its preemption policy."""
    spec = pod.spec.extra
    name = str(spec.get("priorityClassName") or "")
    if name and name not in SYSTEM_PRIORITY_CLASSES:
        raise _forbidden(pod, f"no PriorityClass with name {name} was found")
    priority = SYSTEM_PRIORITY_CLASSES.get(name, 0)
    given = spec.get("priority")
    if given is not None and given != priority:
        raise _forbidden(
            pod,
            f"the integer value of priority ({given}) must not be provided in pod spec; "
            f"priority admission controller computed {priority} from the given PriorityClass "
            "name",
        )
    spec["priority"] = priority
    policy = spec.get("preemptionPolicy")
    if policy is not None and policy != "PreemptLowerPriority":
        raise _forbidden(
            pod,
            f"the string value of PreemptionPolicy ({policy}) must not be provided in pod spec; "
            "priority admission controller computed PreemptLowerPriority from the given "
            "PriorityClass name",
        )
    spec["preemptionPolicy"] = "PreemptLowerPriority"


def _default_tolerations(pod: Pod) -> None:
    """`defaulttolerationseconds`: unless the pod tolerates them already (an empty key or
    effect counts), the two NoExecute taints a failing node gets, for 300 s."""
    tolerations = [t for t in pod.spec.extra.get("tolerations") or [] if isinstance(t, dict)]
    added = list(pod.spec.extra.get("tolerations") or [])
    for default in DEFAULT_TOLERATIONS:
        if not any(
            (t.get("key") or "") in ("", default["key"])
            and (t.get("effect") or "") in ("", "NoExecute")
            for t in tolerations
        ):
            added.append(dict(default))
    if added:
        pod.spec.extra["tolerations"] = added


def generate_name(prefix: str) -> str:
    """`generateName[:58]` plus five characters from the API server's alphabet."""
    return prefix[:58] + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(5))


class PodStrategy:
    """The Pod's steps of the API server's pipeline (`pkg/registry/core/pod/strategy.go`)."""

    def unknown_fields(self, body: dict[str, Any]) -> list[str]:
        return check_pod(body).unknown

    def create(
        self, body: dict[str, Any], namespace: str, now: datetime
    ) -> tuple[dict[str, Any], list[str]]:
        return self._create(body, namespace, now, admission=True)

    def create_local(
        self, body: dict[str, Any], namespace: str, now: datetime
    ) -> tuple[dict[str, Any], list[str]]:
        """`create` without the admission plugins: a client-side dry run reaches no server."""
        return self._create(body, namespace, now, admission=False)

    def _create(
        self, body: dict[str, Any], namespace: str, now: datetime, *, admission: bool
    ) -> tuple[dict[str, Any], list[str]]:
        from minikubelet.api.codec import to_dict
        from minikubelet.api.unacted import unacted_fields

        pod, warnings = create_with_warnings(body, namespace, now, admission=admission)
        return to_dict(pod), warnings + unacted_fields(pod)

    def update(
        self, old: dict[str, Any], body: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any], list[str]]:
        from minikubelet.api.codec import to_dict
        from minikubelet.api.unacted import unacted_fields
        from minikubelet.api.update import prepare_update

        pod = prepare_update(old, body)
        return to_dict(pod), unacted_fields(pod)

    def check_status(self, old: dict[str, Any], body: dict[str, Any]) -> None:
        """The pods/status subresource's update: the stored Pod with the sent status decodes
        (types, unknown fields) and passes `validatePodConditions`."""
        from minikubelet.api.update import validate_status_update

        pod = decode_pod({**old, "status": body.get("status")})
        errors = validate_status_update(pod)
        if errors:
            raise invalid_error("Pod", pod.metadata.name or "", errors)

    def delete_grace(self, obj: dict[str, Any], requested: int | None) -> int:
        """`CheckGracefulDelete`: the option, else the spec's; 0 off-node or when terminal."""
        spec = obj.get("spec") or {}
        grace = (
            requested if requested is not None else spec.get("terminationGracePeriodSeconds", 30)
        )
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        return 1 if grace < 0 else grace


POD_STRATEGY = PodStrategy()
