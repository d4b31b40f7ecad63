"""`pods/NAME/ephemeralcontainers`: kubectl debug's strategic merge patch, the PUT of a whole
Pod of which only the ephemeral containers count, and `ValidatePodEphemeralContainersUpdate`."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

PODS = "/api/v1/namespaces/default/pods"
EPHEMERAL = f"{PODS}/web/ephemeralcontainers"
SMP = {"Content-Type": "application/strategic-merge-patch+json"}


def _debugger(name: str = "debugger-abcde", **extra: Any) -> dict[str, Any]:
    """What kubectl 1.32 debug sends for `-it --image=busybox --target=app`."""
    return {
        "image": "busybox",
        "name": name,
        "resources": {},
        "stdin": True,
        "targetContainerName": "app",
        "terminationMessagePolicy": "File",
        "tty": True,
        **extra,
    }


@pytest.fixture
def web(api: TestClient) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }
    created = api.post(PODS, json=body)
    assert created.status_code == 201
    result: dict[str, Any] = created.json()
    return result


def _patch(api: TestClient, *containers: dict[str, Any]) -> Any:
    return api.patch(
        EPHEMERAL, json={"spec": {"ephemeralContainers": list(containers)}}, headers=SMP
    )


def test_kubectl_debugs_patch_adds_a_defaulted_container(api: TestClient, web: Any) -> None:
    answer = _patch(api, _debugger())
    assert answer.status_code == 200, answer.json()
    (stored,) = api.get(f"{PODS}/web").json()["spec"]["ephemeralContainers"]
    assert stored == {
        **_debugger(),
        "imagePullPolicy": "Always",
        "terminationMessagePath": "/dev/termination-log",
    }
    assert api.get(EPHEMERAL).json()["spec"]["ephemeralContainers"] == [stored]
    # the list merges by name: a second debugger keeps the first
    assert _patch(api, _debugger("debugger-fghij")).status_code == 200
    names = [c["name"] for c in api.get(EPHEMERAL).json()["spec"]["ephemeralContainers"]]
    assert names == ["debugger-abcde", "debugger-fghij"]


def test_only_the_ephemeral_containers_change(api: TestClient, web: Any) -> None:
    body = api.get(f"{PODS}/web").json()
    body["metadata"]["labels"] = {"sneaky": "yes"}
    body["spec"]["containers"][0]["image"] = "other:2"
    body["spec"]["ephemeralContainers"] = [_debugger()]
    answer = api.put(EPHEMERAL, json=body)
    assert answer.status_code == 200, answer.json()
    stored = api.get(f"{PODS}/web").json()
    assert stored["spec"]["containers"][0]["image"] == "app:1"
    assert "labels" not in stored["metadata"]
    assert [c["name"] for c in stored["spec"]["ephemeralContainers"]] == ["debugger-abcde"]


@pytest.mark.parametrize(
    "container, message",
    [
        (
            _debugger(targetContainerName="nope"),
            'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"',
        ),
        (_debugger(name="app"), 'spec.ephemeralContainers[0].name: Duplicate value: "app"'),
        (
            _debugger(ports=[{"containerPort": 80}]),
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral "
            "Container",
        ),
        (
            _debugger(readinessProbe={"exec": {"command": ["true"]}}),
            "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an "
            "Ephemeral Container",
        ),
        (
            {k: v for k, v in _debugger().items() if k != "image"},
            "spec.ephemeralContainers[0].image: Required value",
        ),
    ],
)
def test_validation(api: TestClient, web: Any, container: dict[str, Any], message: str) -> None:
    answer = _patch(api, container)
    assert answer.status_code == 422
    assert answer.json()["message"] == f'Pod "web" is invalid: {message}'


def test_existing_ones_may_not_be_removed_or_changed(api: TestClient, web: Any) -> None:
    assert _patch(api, _debugger()).status_code == 200
    body = api.get(EPHEMERAL).json()
    body["spec"]["ephemeralContainers"] = []
    removed = api.put(EPHEMERAL, json=body)
    assert removed.status_code == 422
    assert removed.json()["message"] == (
        'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral '
        'containers "debugger-abcde" may not be removed\n'
    )
    changed = _patch(api, _debugger(image="other"))
    assert changed.status_code == 422
    assert changed.json()["message"].startswith(
        'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral '
        'containers "debugger-abcde" may not be changed\n'
    )


def test_a_pod_with_ephemeral_containers_still_updates(api: TestClient, web: Any) -> None:
    assert _patch(api, _debugger()).status_code == 200
    labelled = api.patch(
        f"{PODS}/web",
        json={"metadata": {"labels": {"a": "b"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert labelled.status_code == 200, labelled.json()
    sneaked = api.patch(
        f"{PODS}/web",
        json={"spec": {"ephemeralContainers": [_debugger("debugger-zzzzz")]}},
        headers=SMP,
    )
    assert sneaked.status_code == 422
