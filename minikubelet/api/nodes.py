"""The Node's strategy: the node agent writes the object; clients change what kubectl changes.

`kubectl label node` patches `metadata.labels`, `kubectl annotate` its annotations,
`kubectl cordon`/`uncordon` `spec.unschedulable`, `kubectl taint` `spec.taints`: an update
keeps the stored Node and takes those fields of the patched body, validated as the API
server validates them (`ValidateNodeUpdate`: labels, annotations, `validateNodeTaints`); a
field of the wrong JSON type is the decoding error a bad patch gets (400).
The node lifecycle controller's part follows at once: a cordoned node carries the
`node.kubernetes.io/unschedulable:NoSchedule` taint (`TaintNodesByCondition`), an
uncordoned one loses it.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from minikubelet.api.codec import format_time
from minikubelet.api.gofmt import go_quote
from minikubelet.api.raw import JSON, go_objects
from minikubelet.api.strategy import ObjectStrategy
from minikubelet.api.validation.field import (
    Bare,
    FieldError,
    Path,
    duplicate,
    invalid,
    invalid_error,
    not_supported,
    required,
)
from minikubelet.api.validation.names import is_qualified_name, is_valid_label_value
from minikubelet.api.validation.pod import validate_annotations, validate_labels
from minikubelet.errors import BadRequest

__all__ = ["NODE_STRATEGY", "UNSCHEDULABLE_TAINT", "NodeStrategy", "condition_taint"]

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class NodeStrategy(ObjectStrategy):
    kind = "Node"
    namespaced = False

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        meta = _typed(body.get("metadata"), dict, "ObjectMeta", "metadata", "v1.ObjectMeta")
        spec = _typed(body.get("spec"), dict, "Node", "spec", "v1.NodeSpec")
        labels = _strings(_typed(meta.get("labels"), dict, "ObjectMeta", "metadata.labels", _MAP))
        annotations = _strings(
            _typed(meta.get("annotations"), dict, "ObjectMeta", "metadata.annotations", _MAP)
        )
        raw_taints = _typed(spec.get("taints"), list, "NodeSpec", "spec.taints", "[]v1.Taint")
        taints = go_objects(raw_taints)
        errors = validate_labels(labels, Path("metadata").child("labels"))
        errors += validate_annotations(annotations, Path("metadata").child("annotations"))
        errors += validate_taints(taints, Path("spec").child("taints"))
        if errors:
            raise invalid_error("Node", str(old["metadata"]["name"]), errors)
        new = copy.deepcopy(old)
        new["metadata"]["labels"] = labels
        if annotations:
            new["metadata"]["annotations"] = annotations
        else:
            new["metadata"].pop("annotations", None)
        new_spec: JSON = {
            k: v for k, v in (old.get("spec") or {}).items() if k not in ("taints", "unschedulable")
        }
        unschedulable = spec.get("unschedulable") is True
        if unschedulable:
            new_spec["unschedulable"] = True
        new_spec["taints"] = taints
        new["spec"] = condition_taint(
            new_spec, UNSCHEDULABLE_TAINT, unschedulable, added=format_time(now)
        )
        return new, []


def condition_taint(spec: JSON, key: str, present: bool, *, added: str | None = None) -> JSON:
    """The node lifecycle controller's `TaintNodesByCondition` for one condition: `spec`
    with a `KEY:NoSchedule` taint while `present` (one already there kept as it is; a new
    one with `added` as its timeAdded, if given), without it otherwise; no empty list."""
    taints = [t for t in go_objects(spec.get("taints")) if t.get("key") != key or present]
    if present and not any(t.get("key") == key for t in taints):
        taint: JSON = {"key": key, "effect": "NoSchedule"}
        if added is not None:
            taint["timeAdded"] = added
        taints.append(taint)
    rest = {k: v for k, v in spec.items() if k != "taints"}
    return {**rest, "taints": taints} if taints else rest


def validate_taints(taints: list[JSON], path: Path) -> list[FieldError]:
    """`validateNodeTaints`: the key a qualified name, the value a label value, the effect
    one of three, and no two taints with the same key and effect."""
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        at = path.index(i)
        key, value = str(taint.get("key") or ""), str(taint.get("value") or "")
        effect = str(taint.get("effect") or "")
        errs += [invalid(at.child("key"), key, msg) for msg in is_qualified_name(key)]
        problems = is_valid_label_value(value)
        if problems:
            errs.append(invalid(at.child("value"), value, ";".join(problems)))
        if not effect:
            errs.append(required(at.child("effect")))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(at.child("effect"), effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            error = duplicate(at, _go_taint(taint))
            errs.append(FieldError(error.type, error.field, error.bad_value, _UNIQUE))
            continue
        seen.add((key, effect))
    return errs


_UNIQUE = "taints must be unique by key and effect pair"


def _go_taint(taint: JSON) -> Bare:
    """The taint as Go's %#v prints a `core.Taint` (a set timeAdded is a pointer there)."""
    fields = ", ".join(
        f"{name}:{go_quote(str(taint.get(name.lower()) or ''))}"
        for name in ("Key", "Value", "Effect")
    )
    added = "(*v1.Time)(nil)" if taint.get("timeAdded") is None else "(*v1.Time)(0xc000000000)"
    return Bare(f"core.Taint{{{fields}, TimeAdded:{added}}}")


_MAP = "map[string]string"


def _typed(value: Any, kind: type, struct: str, field: str, go_type: str) -> Any:
    """`value`, or its zero value when null; a value of another JSON type is the decoding
    error the API server answers a bad patch with (400)."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        found = {bool: "bool", str: "string", list: "array", dict: "object"}.get(
            type(value), "number"
        )
        raise BadRequest(
            f"json: cannot unmarshal {found} into Go struct field {struct}.{field} of type "
            f"{go_type}"
        )
    return value


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items() if v is not None}


NODE_STRATEGY = NodeStrategy()
