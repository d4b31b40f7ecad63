"""Updates of a stored Pod: what may change, and the API server's words for what may not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.codec import to_dict
from minikubelet.api.create import prepare_create
from minikubelet.api.update import prepare_update
from minikubelet.errors import Invalid

MANIFEST: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "activeDeadlineSeconds": 600,
        "containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]}],
    },
}


def stored() -> dict[str, Any]:
    pod = to_dict(
        prepare_create(copy.deepcopy(MANIFEST), "default", datetime(2026, 1, 1, tzinfo=UTC))
    )
    pod["metadata"]["resourceVersion"] = "7"
    pod["status"] = {"phase": "Running"}
    return pod


Mutate = Callable[[dict[str, Any]], object]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: None, id="unchanged"),
        pytest.param(lambda b: b["spec"]["containers"][0].update(image="app:2"), id="image"),
        pytest.param(lambda b: b["metadata"]["labels"].update(tier="x"), id="labels"),
        pytest.param(lambda b: b["spec"].update(activeDeadlineSeconds=60), id="deadline shorter"),
        pytest.param(
            lambda b: b["spec"].update(tolerations=[{"operator": "Exists"}]), id="toleration"
        ),
        pytest.param(lambda b: b.update(status={"phase": "Failed"}), id="status is ignored"),
    ],
)
def test_allowed_updates(mutate: Mutate) -> None:
    old = stored()
    body = copy.deepcopy(MANIFEST)
    mutate(body)
    new = to_dict(prepare_update(old, body))
    assert new["metadata"]["uid"] == old["metadata"]["uid"]
    assert new["metadata"]["creationTimestamp"] == old["metadata"]["creationTimestamp"]
    assert new["status"] == {"phase": "Running"}


@pytest.mark.parametrize(
    ("mutate", "lines"),
    [
        pytest.param(
            lambda b: b["spec"]["containers"][0]["ports"][0].update(containerPort=81),
            [
                # The API server's words (1.31-1.33, InPlacePodVerticalScaling off); a go-cmp
                # diff of the spec follows on the next lines.
                "spec: Forbidden: pod updates may not change fields other than "
                "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                "it was previously negative)"
            ],
            id="port change",
        ),
        pytest.param(
            lambda b: b["spec"]["containers"].append({"name": "b", "image": "b:1"}),
            ["spec.containers: Forbidden: pod updates may not add or remove containers"],
            id="added container",
        ),
        pytest.param(
            lambda b: b["spec"].update(activeDeadlineSeconds=6000),
            [
                "spec.activeDeadlineSeconds: Invalid value: 6000: "
                "must be less than or equal to previous value"
            ],
            id="deadline grows",
        ),
        pytest.param(
            lambda b: b["spec"].pop("activeDeadlineSeconds"),
            [
                'spec.activeDeadlineSeconds: Invalid value: "null": '
                "must not update from a positive integer to nil value"
            ],
            id="deadline unset",
        ),
        pytest.param(
            lambda b: b["metadata"].update(uid="other"),
            ['metadata.uid: Invalid value: "other": field is immutable'],
            id="uid",
        ),
        pytest.param(
            lambda b: b["spec"]["containers"][0].update(image=""),
            ["spec.containers[0].image: Required value"],
            id="image removed",
        ),
    ],
)
def test_refused_updates(mutate: Mutate, lines: list[str]) -> None:
    body = copy.deepcopy(MANIFEST)
    mutate(body)
    with pytest.raises(Invalid) as caught:
        prepare_update(stored(), body)
    causes = caught.value.details["causes"]
    got = [f"{c['field']}: {c['message']}".split("\n", 1)[0] for c in causes]
    assert got == lines
