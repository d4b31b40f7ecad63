"""PATCH on pods: strategic merge (what `kubectl apply` sends), merge patch (`label`,
`annotate`), JSON patch (`patch --type json`), then the update rules and field validation."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from minikubelet.server.patch import json_patch, merge_patch, strategic_merge

PODS = "/api/v1/namespaces/default/pods"
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
JSONP = {"Content-Type": "application/json-patch+json"}


def _pod() -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "i:1",
                    "ports": [{"containerPort": 80}, {"containerPort": 81}],
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "args": ["x", "y"],
                },
                {"name": "side", "image": "s:1"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
    }


def test_strategic_merge_by_merge_keys() -> None:
    patch = {
        "metadata": {"labels": {"a": None, "c": "3"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "i:2",
                    "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                    "ports": [{"containerPort": 81, "$patch": "delete"}],
                    "args": ["z"],
                }
            ]
        },
    }
    out = strategic_merge(_pod(), patch)
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"}
    app, side = out["spec"]["containers"]
    assert (app["image"], side) == ("i:2", {"name": "side", "image": "s:1"})
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                          {"name": "C", "value": "3"}]  # fmt: skip
    assert app["ports"] == [{"containerPort": 80}]
    assert app["args"] == ["z"]  # no merge key: replaced


def test_strategic_merge_directives() -> None:
    replace = {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}}
    assert strategic_merge(_pod(), replace)["spec"]["containers"] == [
        {"name": "only", "image": "o"}
    ]
    delete = {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}
    assert [c["name"] for c in strategic_merge(_pod(), delete)["spec"]["containers"]] == ["app"]
    order = {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}}
    assert [c["name"] for c in strategic_merge(_pod(), order)["spec"]["containers"]] == [
        "side",
        "app",
    ]
    labels = {"metadata": {"labels": {"$patch": "replace", "z": "9"}}}
    assert strategic_merge(_pod(), labels)["metadata"]["labels"] == {"z": "9"}
    finalizers = {"metadata": {"finalizers": ["y"], "$deleteFromPrimitiveList/finalizers": ["x"]}}
    assert strategic_merge(_pod(), finalizers)["metadata"]["finalizers"] == ["y"]
    retain = {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/d"},
                                    "$retainKeys": ["name", "hostPath"]}]}}  # fmt: skip
    assert strategic_merge(_pod(), retain)["spec"]["volumes"] == [
        {"name": "v", "hostPath": {"path": "/d"}}
    ]


def test_merge_patch_rfc7386() -> None:
    out = merge_patch(_pod(), {"metadata": {"labels": {"a": None}}, "spec": {"containers": []}})
    assert out["metadata"]["labels"] == {"b": "2"} and out["spec"]["containers"] == []


def test_json_patch_rfc6902() -> None:
    ops = [
        {"op": "add", "path": "/metadata/labels/c~1d", "value": "3"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "i:9"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "copy", "from": "/metadata/labels/b", "path": "/metadata/labels/e"},
        {"op": "move", "from": "/metadata/labels/e", "path": "/metadata/labels/f"},
        {"op": "add", "path": "/spec/containers/1/args", "value": ["q"]},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "z"},
        {"op": "test", "path": "/metadata/labels/f", "value": "2"},
    ]
    out = json_patch(_pod(), ops)
    assert out["metadata"]["labels"] == {"b": "2", "c/d": "3", "f": "2"}
    assert out["spec"]["containers"][0]["image"] == "i:9"
    assert out["metadata"]["finalizers"] == ["x", "z"]


def _create(api: TestClient) -> dict[str, Any]:
    body = {
        "metadata": {"name": "web", "labels": {"a": "1"}},
        "spec": {"containers": [{"name": "app", "image": "i:1"}]},
    }
    response = api.post(PODS, json=body)
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


def test_patch_endpoint_applies_then_updates(api: TestClient) -> None:
    created = _create(api)
    smp = {
        "metadata": {"labels": {"b": "2"}},
        "spec": {"$setElementOrder/containers": [{"name": "app"}],
                 "containers": [{"name": "app", "image": "i:2"}]},
    }  # fmt: skip
    patched = api.patch(f"{PODS}/web", headers=SMP, content=_json(smp))
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["kind"] == "Pod" and body["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert body["spec"]["containers"][0]["image"] == "i:2"
    assert body["metadata"]["uid"] == created["metadata"]["uid"]
    assert body["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    label = api.patch(f"{PODS}/web", headers=MERGE, content=_json({"metadata": {"labels": None}}))
    assert "labels" not in label.json()["metadata"]
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}}]
    annotated = api.patch(f"{PODS}/web", headers=JSONP, content=_json(ops))
    assert annotated.json()["metadata"]["annotations"] == {"k": "v"}


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("headers", "patch", "code", "reason", "start"),
    [
        pytest.param(SMP, {"spec": {"restartPolicy": "Never"}}, 422, "Invalid",
                     'The Pod "web" is invalid'[4:], id="update rules"),
        pytest.param(SMP, {"spec": {"foo": 1}}, 400, "BadRequest",
                     'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                     'unknown field "spec.foo"', id="strict"),
        pytest.param(JSONP, [{"op": "remove", "path": "/spec/nothing"}], 422, "Invalid",
                     "the server rejected our request", id="json patch"),
        pytest.param({"Content-Type": "application/apply-patch+yaml"}, {}, 415,
                     "UnsupportedMediaType", "server-side apply is not supported", id="ssa"),
        pytest.param({"Content-Type": "text/plain"}, {}, 415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format", id="media type"),
    ],
)  # fmt: skip
def test_patch_errors_are_status_objects(
    api: TestClient, headers: dict[str, str], patch: Any, code: int, reason: str, start: str
) -> None:
    _create(api)
    response = api.patch(
        f"{PODS}/web?fieldValidation=Strict", headers=headers, content=_json(patch)
    )
    status = response.json()
    assert (response.status_code, status["kind"], status["reason"]) == (code, "Status", reason)
    assert status["message"].startswith(start)


def test_patch_missing_pod_is_not_found(api: TestClient) -> None:
    response = api.patch(f"{PODS}/nope", headers=SMP, content=b"{}")
    assert response.status_code == 404
    assert response.json()["message"] == 'pods "nope" not found'


def test_field_validation_warn_and_ignore_drop_unknown_fields(api: TestClient) -> None:
    body = {"metadata": {"name": "w"}, "spec": {"foo": 1, "containers": [
        {"name": "c", "image": "i", "imagePulPolicy": "Always"}]}}  # fmt: skip
    warned = api.post(f"{PODS}?fieldValidation=Warn", json=body)
    assert warned.status_code == 201
    assert warned.headers["warning"] == (
        '299 - "unknown field \\"spec.foo\\"", '
        '299 - "unknown field \\"spec.containers[0].imagePulPolicy\\""'
    )
    assert "foo" not in warned.json()["spec"]
    ignored = api.post(f"{PODS}?fieldValidation=Ignore", json={**body, "metadata": {"name": "i"}})
    assert ignored.status_code == 201 and "warning" not in ignored.headers
    strict = api.post(f"{PODS}?fieldValidation=Strict", json={**body, "metadata": {"name": "s"}})
    assert strict.status_code == 400
    bad = api.post(f"{PODS}?fieldValidation=Loose", json=body)
    assert bad.status_code == 400 and "fieldValidation" in bad.json()["message"]


def test_dry_run_patch_stores_nothing(api: TestClient) -> None:
    _create(api)
    patch = _json({"metadata": {"labels": {"z": "1"}}})
    dry = api.patch(f"{PODS}/web?dryRun=All", headers=MERGE, content=patch)
    assert dry.json()["metadata"]["labels"] == {"a": "1", "z": "1"}
    assert api.get(f"{PODS}/web").json()["metadata"]["labels"] == {"a": "1"}
