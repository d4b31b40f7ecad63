"""The Node's strategy: what kubectl label, annotate, cordon and taint change, and the
validation of taints (`validateNodeTaints`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.nodes import NODE_STRATEGY
from minikubelet.errors import BadRequest, Invalid

NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
STORED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
    "spec": {},
    "status": {"capacity": {"cpu": "2"}},
}


def patched(**spec: Any) -> dict[str, Any]:
    body = copy.deepcopy(STORED)
    body["spec"] = spec
    body["status"] = {"capacity": {"cpu": "64"}}  # a client cannot change the status here
    return body


def test_cordon_adds_the_unschedulable_taint_and_uncordon_removes_it() -> None:
    cordoned, _ = NODE_STRATEGY.update(STORED, patched(unschedulable=True), NOW)
    assert cordoned["spec"] == {
        "unschedulable": True,
        "taints": [
            {
                "key": "node.kubernetes.io/unschedulable",
                "effect": "NoSchedule",
                "timeAdded": "2026-12-04T18:30:00Z",
            }
        ],
    }
    assert cordoned["status"] == STORED["status"]
    again, _ = NODE_STRATEGY.update(cordoned, copy.deepcopy(cordoned), NOW)
    assert again["spec"] == cordoned["spec"]  # the taint once
    body = copy.deepcopy(cordoned)
    body["spec"].pop("unschedulable")
    uncordoned, _ = NODE_STRATEGY.update(cordoned, body, NOW)
    assert uncordoned["spec"] == {}


def test_taints_are_taken_and_validated() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    tainted, _ = NODE_STRATEGY.update(STORED, patched(taints=[taint]), NOW)
    assert tainted["spec"] == {"taints": [taint]}
    bad = [
        {"key": "bad key", "value": "x", "effect": "NoSchedule"},
        {"key": "k", "effect": "Nope"},
        {"key": "k"},
        {"key": "dedicated", "value": "cpu", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    ]
    with pytest.raises(Invalid) as caught:
        NODE_STRATEGY.update(STORED, patched(taints=bad), NOW)
    assert str(caught.value).startswith(
        'Node "node1" is invalid: [spec.taints[0].key: Invalid value: "bad key": '
        "name part must consist of alphanumeric characters"
    )
    assert (
        'spec.taints[1].effect: Unsupported value: "Nope": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"' in str(caught.value)
    )
    assert "spec.taints[2].effect: Required value" in str(caught.value)
    assert (
        'spec.taints[4]: Duplicate value: core.Taint{Key:"dedicated", Value:"gpu", '
        'Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: '
        "taints must be unique by key and effect pair"
    ) in str(caught.value)
    assert "spec.taints[3]" not in str(caught.value)


MAP = "map[string]string"
ANNOTATIONS = "ObjectMeta.metadata.annotations"
LABELS = "ObjectMeta.metadata.labels"


@pytest.mark.parametrize(
    ("metadata", "spec", "message"),
    [
        ({}, {"taints": 5}, "number into Go struct field NodeSpec.spec.taints of type []v1.Taint"),
        ({"labels": ["x"]}, {}, f"array into Go struct field {LABELS} of type {MAP}"),
        ({"annotations": "x"}, {}, f"string into Go struct field {ANNOTATIONS} of type {MAP}"),
    ],
)  # fmt: skip
def test_a_patch_of_the_wrong_type_is_a_bad_request(
    metadata: dict[str, Any], spec: dict[str, Any], message: str
) -> None:
    body = patched(**spec)
    body["metadata"] = {**body["metadata"], **metadata}
    with pytest.raises(BadRequest) as caught:
        NODE_STRATEGY.update(STORED, body, NOW)
    assert str(caught.value) == "json: cannot unmarshal " + message


def test_annotations_are_kept_and_validated() -> None:
    body = patched()
    body["metadata"]["annotations"] = {"example.com/owner": "me"}
    annotated, _ = NODE_STRATEGY.update(STORED, body, NOW)
    assert annotated["metadata"]["annotations"] == {"example.com/owner": "me"}
    body["metadata"]["annotations"] = {"bad key!": "v"}
    with pytest.raises(Invalid) as caught:
        NODE_STRATEGY.update(STORED, body, NOW)
    assert str(caught.value).startswith(
        'Node "node1" is invalid: metadata.annotations: Invalid value: "bad key!": name part'
    )
