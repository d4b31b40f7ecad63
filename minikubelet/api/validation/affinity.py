"""The 1.32 API server's checks of `spec.affinity` and `spec.topologySpreadConstraints`
(`pkg/apis/core/validation`: `validateAffinity`, `validateTopologySpreadConstraints`), and the
meta/v1 label selector rules they share (`ValidateLabelSelector`).

Both fields stay raw JSON in the spec's `extra`, already type-checked by strict decoding, so a
value here is what Go would have decoded: a null list item or a missing field is Go's zero value
(an empty object, `""`, `0`), and only pointer fields (selectors, `minDomains`, the node
policies, the required node selector) tell null from empty. Node-affinity `values` are counted
but not label-checked: that came in 1.33.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.raw import go_objects
from minikubelet.api.validation.field import (
    FieldError,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from minikubelet.api.validation.names import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
)

__all__ = [
    "validate_affinity",
    "validate_label_selector",
    "validate_topology_spread_constraints",
]

_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_BAD_OPERATOR = "not a valid selector operator"
_IN_VALUES = "must be specified when `operator` is 'In' or 'NotIn'"
_EXISTS_VALUES = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
_WEIGHT = "must be in the range 1-100"
_NO_SELECTOR = "must not be specified when labelSelector is not set"
_IN_SELECTOR = "exists in both matchLabelKeys and labelSelector"
_POSITIVE = "must be greater than zero"
# sets.List order (sorted), as NotSupported prints them
_SCHEDULE_ACTIONS = ("DoNotSchedule", "ScheduleAnyway")
_NODE_POLICIES = ("Honor", "Ignore")


def _object(value: Any) -> dict[str, Any] | None:
    """A pointer to a struct: None for null."""
    return value if isinstance(value, dict) else None


def _strings(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [item if isinstance(item, str) else "" for item in items]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _label_name(key: str, path: Path) -> list[FieldError]:
    """`ValidateLabelName`."""
    return [invalid(path, key, m) for m in is_qualified_name(key)]


# --- meta/v1 label selectors -------------------------------------------------------------


def validate_label_selector(
    selector: Any, path: Path, *, allow_invalid_label_value: bool = False
) -> list[FieldError]:
    """`ValidateLabelSelector`: a null selector is fine; matchLabels errors sit on the map's
    path (sorted by key where Go's map order is random), then each expression's."""
    # pod.py imports this module, and holds the one ValidateLabels
    from minikubelet.api.validation.pod import validate_labels

    found = _object(selector)
    if found is None:
        return []
    labels = found.get("matchLabels")
    table = {k: _text(v) for k, v in labels.items()} if isinstance(labels, dict) else None
    errs = validate_labels(table, path.child("matchLabels"))
    expressions = path.child("matchExpressions")
    for i, requirement in enumerate(go_objects(found.get("matchExpressions"))):
        errs += _selector_requirement(requirement, expressions.index(i), allow_invalid_label_value)
    return errs


def _selector_requirement(req: dict[str, Any], path: Path, allow_values: bool) -> list[FieldError]:
    """`ValidateLabelSelectorRequirement`: the operator, the key, then each value."""
    operator, values = _text(req.get("operator")), _strings(req.get("values"))
    errs: list[FieldError] = []
    if operator in ("In", "NotIn"):
        if not values:
            errs.append(required(path.child("values"), _IN_VALUES))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden(path.child("values"), _EXISTS_VALUES))
    else:
        errs.append(invalid(path.child("operator"), operator, _BAD_OPERATOR))
    errs += _label_name(_text(req.get("key")), path.child("key"))
    if not allow_values:
        for i, value in enumerate(values):
            at = path.child("values").index(i)
            errs += [invalid(at, value, m) for m in is_valid_label_value(value)]
    return errs


# --- affinity ----------------------------------------------------------------------------


def validate_affinity(
    affinity: Any, path: Path, *, allow_invalid_label_value: bool = False
) -> list[FieldError]:
    """`validateAffinity`: nodeAffinity, podAffinity, podAntiAffinity, in that order.
    `allow_invalid_label_value`: `AllowInvalidLabelValueInSelector` (false on create)."""
    found = _object(affinity)
    if found is None:
        return []
    errs: list[FieldError] = []
    node = _object(found.get("nodeAffinity"))
    if node is not None:
        errs += _node_affinity(node, path.child("nodeAffinity"))
    for kind in ("podAffinity", "podAntiAffinity"):
        pod = _object(found.get(kind))
        if pod is not None:
            errs += _pod_affinity(pod, allow_invalid_label_value, path.child(kind))
    return errs


def _node_affinity(node: dict[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    selector = _object(node.get(_REQUIRED))
    if selector is not None:  # a pointer: present but empty is still checked
        terms_path = path.child(_REQUIRED).child("nodeSelectorTerms")
        terms = go_objects(selector.get("nodeSelectorTerms"))
        if not terms:
            errs.append(required(terms_path, "must have at least one node selector term"))
        for i, term in enumerate(terms):
            errs += _node_selector_term(term, terms_path.index(i))
    preferred = path.child(_PREFERRED)
    for i, item in enumerate(go_objects(node.get(_PREFERRED))):
        weight = _number(item.get("weight"))
        if not 0 < weight <= 100:
            errs.append(invalid(preferred.index(i).child("weight"), weight, _WEIGHT))
        preference = _object(item.get("preference")) or {}
        errs += _node_selector_term(preference, preferred.index(i).child("preference"))
    return errs


def _node_selector_term(term: dict[str, Any], path: Path) -> list[FieldError]:
    """`ValidateNodeSelectorTerm`: an empty term is no error."""
    errs: list[FieldError] = []
    for j, req in enumerate(go_objects(term.get("matchExpressions"))):
        errs += _node_requirement(req, path.child("matchExpressions").index(j))
    for j, req in enumerate(go_objects(term.get("matchFields"))):
        errs += _node_field_requirement(req, path.child("matchFields").index(j))
    return errs


def _node_requirement(req: dict[str, Any], path: Path) -> list[FieldError]:
    """`ValidateNodeSelectorRequirement` (1.32: the values' content is not checked)."""
    operator, count = _text(req.get("operator")), len(_strings(req.get("values")))
    errs: list[FieldError] = []
    if operator in ("In", "NotIn"):
        if count == 0:
            errs.append(required(path.child("values"), _IN_VALUES))
    elif operator in ("Exists", "DoesNotExist"):
        if count > 0:
            errs.append(forbidden(path.child("values"), _EXISTS_VALUES))
    elif operator in ("Gt", "Lt"):
        if count != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            errs.append(required(path.child("values"), detail))
    else:
        errs.append(invalid(path.child("operator"), operator, _BAD_OPERATOR))
    return errs + _label_name(_text(req.get("key")), path.child("key"))


def _node_field_requirement(req: dict[str, Any], path: Path) -> list[FieldError]:
    """`ValidateNodeFieldSelectorRequirement`: only `metadata.name In|NotIn [one node name]`."""
    operator, key = _text(req.get("operator")), _text(req.get("key"))
    values = _strings(req.get("values"))
    errs: list[FieldError] = []
    if operator in ("In", "NotIn"):
        if len(values) != 1:
            detail = (
                "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"
            )
            errs.append(required(path.child("values"), detail))
    else:
        errs.append(invalid(path.child("operator"), operator, _BAD_OPERATOR))
    if key != "metadata.name":
        errs.append(invalid(path.child("key"), key, "not a valid field selector key"))
        return errs
    for i, value in enumerate(values):  # every value, even when there are too many
        at = path.child("values").index(i)
        errs += [invalid(at, value, m) for m in name_is_dns_subdomain(value, False)]
    return errs


def _pod_affinity(affinity: dict[str, Any], allow: bool, path: Path) -> list[FieldError]:
    """`validatePodAffinity` and `validatePodAntiAffinity` (the same body): required terms,
    then weighted ones."""
    errs: list[FieldError] = []
    for i, term in enumerate(go_objects(affinity.get(_REQUIRED))):
        errs += _pod_affinity_term(term, allow, path.child(_REQUIRED).index(i))
    for j, weighted in enumerate(go_objects(affinity.get(_PREFERRED))):
        at = path.child(_PREFERRED).index(j)
        weight = _number(weighted.get("weight"))
        if not 0 < weight <= 100:
            errs.append(invalid(at.child("weight"), weight, _WEIGHT))
        term = _object(weighted.get("podAffinityTerm")) or {}
        errs += _pod_affinity_term(term, allow, at.child("podAffinityTerm"))
    return errs


def _pod_affinity_term(term: dict[str, Any], allow: bool, path: Path) -> list[FieldError]:
    """`validatePodAffinityTerm`: selectors, namespaces, label keys, topologyKey."""
    selector = _object(term.get("labelSelector"))
    errs = validate_label_selector(
        selector, path.child("labelSelector"), allow_invalid_label_value=allow
    )
    errs += validate_label_selector(
        term.get("namespaceSelector"),
        path.child("namespaceSelector"),
        allow_invalid_label_value=allow,
    )
    for name in _strings(term.get("namespaces")):  # upstream's path: `namespace`, no index
        errs += [invalid(path.child("namespace"), name, m) for m in is_dns1123_label(name)]
    match, mismatch = _strings(term.get("matchLabelKeys")), _strings(term.get("mismatchLabelKeys"))
    errs += _match_label_keys(path, match, mismatch, selector)
    topology_key = _text(term.get("topologyKey"))
    if not topology_key:
        errs.append(required(path.child("topologyKey"), "can not be empty"))
    return errs + _label_name(topology_key, path.child("topologyKey"))


def _match_label_keys(
    path: Path, match: list[str], mismatch: list[str], selector: dict[str, Any] | None
) -> list[FieldError]:
    """`validateMatchLabelKeysAndMismatchLabelKeys`."""
    errs = _label_keys(path.child("matchLabelKeys"), match, selector)
    errs += _label_keys(path.child("mismatchLabelKeys"), mismatch, selector)
    if selector is not None:
        last_index = {key: i for i, key in enumerate(match)}  # a repeated key: its last index
        labels = selector.get("matchLabels")
        seen = set(labels) if isinstance(labels, dict) else set()
        for expression in go_objects(selector.get("matchExpressions")):
            key = _text(expression.get("key"))
            if key in last_index and key in seen:
                # upstream's path lacks `.matchLabelKeys`: `<term>[i]`
                errs.append(invalid(path.index(last_index[key]), key, _IN_SELECTOR))
            seen.add(key)
    detail = "exists in both matchLabelKeys and mismatchLabelKeys"
    for i, key in enumerate(match):
        if key in mismatch:
            errs.append(invalid(path.child("matchLabelKeys").index(i), key, detail))
    return errs


def _label_keys(path: Path, keys: list[str], selector: dict[str, Any] | None) -> list[FieldError]:
    """`validateLabelKeys`: without a selector, one Forbidden and no check of the keys."""
    if not keys:
        return []
    if selector is None:
        return [forbidden(path, _NO_SELECTOR)]
    errs: list[FieldError] = []
    for i, key in enumerate(keys):
        errs += _label_name(key, path.index(i))
    return errs


# --- topology spread ---------------------------------------------------------------------


def validate_topology_spread_constraints(
    constraints: Any, path: Path, *, allow_invalid_selector: bool = False
) -> list[FieldError]:
    """`validateTopologySpreadConstraints`. `allow_invalid_selector`:
    `AllowInvalidTopologySpreadConstraintLabelSelector` (false on create)."""
    items = go_objects(constraints)
    errs: list[FieldError] = []
    for i, constraint in enumerate(items):
        errs += _constraint(constraint, items[i + 1 :], path.index(i), allow_invalid_selector)
    return errs


def _constraint(
    constraint: dict[str, Any], rest: list[dict[str, Any]], path: Path, allow_selector: bool
) -> list[FieldError]:
    """One constraint; only later constraints count as its duplicates."""
    errs: list[FieldError] = []
    max_skew = _number(constraint.get("maxSkew"))
    if max_skew <= 0:
        errs.append(invalid(path.child("maxSkew"), max_skew, _POSITIVE))
    topology_key = _text(constraint.get("topologyKey"))
    if not topology_key:  # only emptiness: a malformed key is accepted
        errs.append(required(path.child("topologyKey"), "can not be empty"))
    action = _text(constraint.get("whenUnsatisfiable"))
    if action not in _SCHEDULE_ACTIONS:
        errs.append(not_supported(path.child("whenUnsatisfiable"), action, _SCHEDULE_ACTIONS))
    pair = (topology_key, action)
    if any((_text(o.get("topologyKey")), _text(o.get("whenUnsatisfiable"))) == pair for o in rest):
        at = path.child("{topologyKey, whenUnsatisfiable}")
        errs.append(duplicate(at, f"{{{topology_key}, {action}}}"))
    if constraint.get("minDomains") is not None:
        min_domains = _number(constraint["minDomains"])
        if min_domains <= 0:
            errs.append(invalid(path.child("minDomains"), min_domains, _POSITIVE))
        if action != "DoNotSchedule":
            detail = f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
            errs.append(invalid(path.child("minDomains"), min_domains, detail))
    for name in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
        policy = constraint.get(name)
        if policy is not None and policy not in _NODE_POLICIES:
            errs.append(not_supported(path.child(name), _text(policy), _NODE_POLICIES))
    selector = _object(constraint.get("labelSelector"))
    keys = _strings(constraint.get("matchLabelKeys"))
    errs += _spread_label_keys(path.child("matchLabelKeys"), keys, selector)
    if not allow_selector:
        errs += validate_label_selector(selector, path.child("labelSelector"))
    return errs


def _spread_label_keys(
    path: Path, keys: list[str], selector: dict[str, Any] | None
) -> list[FieldError]:
    """`validateMatchLabelKeysInTopologySpread`: unlike affinity's, the keys are still
    checked after the Forbidden, and the path has `matchLabelKeys`."""
    if not keys:
        return []
    errs: list[FieldError] = []
    in_selector: set[str] = set()
    if selector is None:
        errs.append(forbidden(path, _NO_SELECTOR))
    else:
        labels = selector.get("matchLabels")
        in_selector.update(labels if isinstance(labels, dict) else ())
        in_selector.update(
            _text(e.get("key")) for e in go_objects(selector.get("matchExpressions"))
        )
    for i, key in enumerate(keys):
        errs += _label_name(key, path.index(i))
        if key in in_selector:
            errs.append(invalid(path.index(i), key, _IN_SELECTOR))
    return errs
