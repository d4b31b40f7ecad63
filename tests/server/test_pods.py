"""The pod REST paths: shapes, status codes and the API server's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from minikubelet.store import Store

PODS = "/api/v1/namespaces/default/pods"


def manifest(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "app:1"}], **spec},
    }


def test_create_get_list(api: TestClient) -> None:
    created = api.post(PODS, json=manifest())
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "Pod" and body["metadata"]["resourceVersion"]
    assert body["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    got = api.get(f"{PODS}/web").json()
    assert got["metadata"]["uid"] == body["metadata"]["uid"]
    listed = api.get(PODS).json()
    assert listed["kind"] == "PodList" and listed["metadata"]["resourceVersion"]
    assert [i["metadata"]["name"] for i in listed["items"]] == ["web"]
    assert "kind" not in listed["items"][0]
    assert api.get("/api/v1/namespaces/other/pods").json()["items"] == []
    assert len(api.get("/api/v1/pods").json()["items"]) == 1


def names(response: Any) -> list[str]:
    return [i["metadata"]["name"] for i in response.json()["items"]]


def test_label_and_field_selectors(api: TestClient) -> None:
    api.post(PODS, json=manifest("a"))
    api.post(PODS, json=manifest("b"))
    assert names(api.get(PODS, params={"labelSelector": "app=b"})) == ["b"]
    assert names(api.get(PODS, params={"fieldSelector": "metadata.name=a"})) == ["a"]
    bad = api.get(PODS, params={"fieldSelector": "spec.image=x"})
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"


@pytest.mark.parametrize(
    ("body", "code", "reason", "message"),
    [
        pytest.param(
            manifest(restartPolicy="Sometimes"),
            422,
            "Invalid",
            'Pod "web" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": '
            'supported values: "Always", "OnFailure", "Never"',
            id="invalid",
        ),
        pytest.param(
            manifest(foo=1),
            400,
            "BadRequest",
            'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
            'unknown field "spec.foo"',
            id="strict decoding",
        ),
        pytest.param(
            {**manifest(), "metadata": {"name": "web", "namespace": "other"}},
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
            id="namespace mismatch",
        ),
    ],
)
def test_create_errors_are_status_objects(
    api: TestClient, body: dict[str, Any], code: int, reason: str, message: str
) -> None:
    response = api.post(PODS, params={"fieldValidation": "Strict"}, json=body)
    status = response.json()
    assert response.status_code == code
    assert (status["kind"], status["status"], status["reason"], status["code"]) == (
        "Status",
        "Failure",
        reason,
        code,
    )
    assert status["message"] == message


def test_already_exists_and_not_found(api: TestClient) -> None:
    api.post(PODS, json=manifest())
    again = api.post(PODS, json=manifest())
    assert (again.status_code, again.json()["message"]) == (409, 'pods "web" already exists')
    assert again.json()["reason"] == "AlreadyExists"
    missing = api.get(f"{PODS}/nope")
    assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nope" not found')
    unknown = api.get("/api/v1/whatever")
    assert unknown.status_code == 404 and unknown.json()["kind"] == "Status"


def test_dry_run_stores_nothing(api: TestClient) -> None:
    response = api.post(PODS, params={"dryRun": "All"}, json=manifest())
    assert response.status_code == 201 and response.json()["metadata"]["uid"]
    assert api.get(PODS).json()["items"] == []


def test_update_image_and_stale_conflict(api: TestClient) -> None:
    created = api.post(PODS, json=manifest()).json()
    body = manifest()
    body["spec"]["containers"][0]["image"] = "app:2"
    body["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    updated = api.put(f"{PODS}/web", json=body)
    assert updated.status_code == 200
    assert updated.json()["spec"]["containers"][0]["image"] == "app:2"
    stale = api.put(f"{PODS}/web", json=body)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    assert stale.json()["message"] == (
        'Operation cannot be fulfilled on pods "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_forbidden_spec_update(api: TestClient) -> None:
    api.post(PODS, json=manifest())
    response = api.put(f"{PODS}/web", json=manifest(restartPolicy="Never"))
    cause = response.json()["details"]["causes"][0]
    assert response.status_code == 422
    assert cause["field"] == "spec"
    assert cause["message"].startswith("Forbidden: pod updates may not change fields other than")


def test_status_subresource(api: TestClient) -> None:
    api.post(PODS, json=manifest())
    response = api.put(f"{PODS}/web/status", json={"status": {"phase": "Running"}})
    assert response.status_code == 200
    assert api.get(f"{PODS}/web").json()["status"] == {"phase": "Running"}


def test_delete_without_node_is_immediate(api: TestClient) -> None:
    api.post(PODS, json=manifest())
    response = api.delete(f"{PODS}/web")
    assert response.status_code == 200 and response.json()["metadata"]["name"] == "web"
    assert api.get(f"{PODS}/web").status_code == 404


def test_delete_on_node_is_graceful(api: TestClient, store: Store) -> None:
    api.post(PODS, json=manifest(nodeName="node1", terminationGracePeriodSeconds=20))
    first = api.delete(f"{PODS}/web").json()
    assert first["metadata"]["deletionGracePeriodSeconds"] == 20
    assert first["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:20Z"
    shorter = api.request("DELETE", f"{PODS}/web", content=json.dumps({"gracePeriodSeconds": 5}))
    assert shorter.json()["metadata"]["deletionGracePeriodSeconds"] == 5
    longer = api.delete(f"{PODS}/web", params={"gracePeriodSeconds": 50})
    assert longer.json()["metadata"]["deletionGracePeriodSeconds"] == 5
    forced = api.delete(f"{PODS}/web", params={"gracePeriodSeconds": 0})
    assert forced.status_code == 200
    assert store.list("Pod", None)[0] == []


def test_watch_streams_changes(api: TestClient) -> None:
    api.post(PODS, json=manifest("a"))
    rv = api.get(PODS).json()["metadata"]["resourceVersion"]
    api.post(PODS, json=manifest("b"))
    with api.stream(
        "GET", PODS, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": 1}
    ) as r:
        frames = [json.loads(line) for line in r.iter_lines() if line]
    assert [(f["type"], f["object"]["metadata"]["name"], f["object"]["kind"]) for f in frames] == [
        ("ADDED", "b", "Pod")
    ]


def test_watch_from_nothing_lists_first(api: TestClient) -> None:
    api.post(PODS, json=manifest("a"))
    with api.stream("GET", PODS, params={"watch": "1", "timeoutSeconds": 1}) as r:
        frames = [json.loads(line) for line in r.iter_lines() if line]
    assert [f["type"] for f in frames] == ["ADDED"]


def test_log_container_choice(api: TestClient) -> None:
    body = manifest()
    body["spec"]["initContainers"] = [{"name": "init", "image": "i:1"}]
    api.post(PODS, json=body)
    response = api.get(f"{PODS}/web/log")
    assert response.status_code == 400
    assert response.json()["message"] == (
        "a container name must be specified for pod web, choose one of: [init app]"
    )
    assert api.get(f"{PODS}/web/log", params={"container": "x"}).json()["message"] == (
        "container x is not valid for pod web"
    )
    invalid = api.get(f"{PODS}/web/log", params={"container": "app", "tailLines": "-1"}).json()
    assert invalid["message"] == (
        'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    assert api.get(f"{PODS}/web/log", params={"container": "app"}).text == ""


def test_version(api: TestClient) -> None:
    version = api.get("/version").json()
    assert (version["major"], version["minor"]) == ("1", "32")
    assert version["gitVersion"].startswith("v1.32.0+minikubelet.")


def test_without_field_validation_unknown_fields_are_warned_about(api: TestClient) -> None:
    """The API server's default is Warn: created, with a `Warning: 299` header per field."""
    response = api.post(PODS, json=manifest(foo=1))
    assert response.status_code == 201
    assert response.headers["warning"] == '299 - "unknown field \\"spec.foo\\""'
    assert "foo" not in response.json()["spec"]


@pytest.mark.parametrize("verb", ["POST", "PATCH"])
def test_a_body_nested_deeper_than_the_decoder_goes_is_a_bad_request(
    api: TestClient, verb: str
) -> None:
    """Python's JSON decoder gives up near 1,000 levels (Go's at 10,000): a 400, never a 500."""
    api.post(PODS, json=manifest())
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    path = PODS if verb == "POST" else f"{PODS}/web"
    media = "application/json" if verb == "POST" else "application/merge-patch+json"
    response = api.request(verb, path, content=deep, headers={"content-type": media})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "the body of the request was in an unknown format: exceeded max depth"
    )


def test_status_patch_sets_a_readiness_gates_condition(api: TestClient) -> None:
    """`kubectl patch pod web --subresource=status`: only the status changes."""
    api.post(PODS, json=manifest(readinessGates=[{"conditionType": "example.com/ready"}]))
    gate = {"type": "example.com/ready", "status": "True"}
    merge = {"Content-Type": "application/merge-patch+json"}
    response = api.patch(
        f"{PODS}/web/status",
        json={"spec": {"restartPolicy": "Never"}, "status": {"conditions": [gate]}},
        headers=merge,
    )
    assert response.status_code == 200
    stored = api.get(f"{PODS}/web").json()
    assert stored["status"]["conditions"] == [gate]
    assert stored["spec"]["restartPolicy"] == "Always"  # the status strategy keeps the spec
    strategic = {"Content-Type": "application/strategic-merge-patch+json"}
    other = {"type": "example.com/other", "status": "False"}
    api.patch(f"{PODS}/web/status", json={"status": {"conditions": [other]}}, headers=strategic)
    types = [c["type"] for c in api.get(f"{PODS}/web").json()["status"]["conditions"]]
    assert sorted(types) == ["example.com/other", "example.com/ready"]  # merged by type


def test_status_patch_refuses_a_condition_type_that_is_no_qualified_name(
    api: TestClient,
) -> None:
    api.post(PODS, json=manifest())
    response = api.patch(
        f"{PODS}/web/status",
        json={"status": {"conditions": [{"type": "not ok!", "status": "True"}]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 422
    (cause,) = response.json()["details"]["causes"]
    assert cause["field"] == "metadata.conditions[0].Type"
    assert cause["message"].startswith('Invalid value: "not ok!": name part must consist of')


def test_a_stale_status_write_conflicts_and_a_null_condition_is_invalid(api: TestClient) -> None:
    created = api.post(PODS, json=manifest()).json()
    stale = {**created, "status": {"phase": "Running"}}
    assert api.put(f"{PODS}/web/status", json=stale).status_code == 200  # its version: fine
    again = api.put(f"{PODS}/web/status", json=stale)  # the same version, now old
    assert again.status_code == 409
    assert again.json()["message"].startswith(
        'Operation cannot be fulfilled on pods "web": the object has been modified'
    )
    response = api.patch(
        f"{PODS}/web/status",
        json={"status": {"conditions": [None]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 422  # Go's zero value: an empty type
    assert response.json()["details"]["causes"][0]["field"] == "metadata.conditions[0].Type"


def test_a_runtime_class_the_node_does_not_have_is_refused_at_admission(
    api: TestClient,
) -> None:
    """The RuntimeClass admission plugin: this node has none, as a cluster without it."""
    response = api.post(PODS, json=manifest(runtimeClassName="gvisor"))
    assert response.status_code == 403
    body = response.json()
    assert (body["reason"], body["message"]) == (
        "Forbidden",
        'pods "web" is forbidden: pod rejected: RuntimeClass "gvisor" not found',
    )
    assert body["details"] == {"name": "web", "kind": "pods"}
    generated = manifest(runtimeClassName="kata")
    generated["metadata"] = {"generateName": "web-"}
    response = api.post(PODS, json=generated)  # admission runs before the name is generated
    assert response.json()["message"].startswith('pods "web-" is forbidden')
    # admission runs after decoding: a body that does not decode is still a 400
    broken = manifest(runtimeClassName="gvisor", restartPolicy=3)
    assert api.post(PODS, json=broken).status_code == 400


def test_the_priority_and_default_toleration_seconds_admission_plugins(api: TestClient) -> None:
    """What every cluster's admission adds to a pod, as `describe` then shows it: priority 0
    and PreemptLowerPriority without a class, the two 300 s NoExecute tolerations."""
    created = api.post(PODS, json=manifest()).json()
    spec = created["spec"]
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]  # fmt: skip
    # a PUT without the priority keeps it (the plugin's part of an update)
    body = {**created, "spec": {**spec}}
    body["spec"].pop("priority")
    body["spec"].pop("preemptionPolicy")
    assert api.put(f"{PODS}/web", json=body).json()["spec"]["priority"] == 0
    critical = manifest(
        priorityClassName="system-node-critical", tolerations=[{"operator": "Exists"}]
    )
    critical["metadata"] = {"name": "critical"}
    spec = api.post(PODS, json=critical).json()["spec"]
    assert spec["priority"] == 2000001000 and spec["tolerations"] == [{"operator": "Exists"}]
    for extra, message in (
        ({"priorityClassName": "high"}, "no PriorityClass with name high was found"),
        (
            {"priority": 5},
            "the integer value of priority (5) must not be provided in pod spec; priority "
            "admission controller computed 0 from the given PriorityClass name",
        ),
        (
            {"preemptionPolicy": "Never"},
            "the string value of PreemptionPolicy (Never) must not be provided in pod spec; "
            "priority admission controller computed PreemptLowerPriority from the given "
            "PriorityClass name",
        ),
    ):
        refused = manifest(**extra)
        refused["metadata"] = {"name": "refused"}
        response = api.post(PODS, json=refused)
        assert (response.status_code, response.json()["message"]) == (
            403,
            f'pods "refused" is forbidden: {message}',
        )


def test_scheduling_gates_mark_the_pod_and_may_only_be_removed(api: TestClient) -> None:
    gated = manifest(schedulingGates=[{"name": "example.com/a"}, {"name": "example.com/b"}])
    created = api.post(PODS, json=gated).json()
    assert created["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": None,
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }
    ]
    added = {**created, "spec": {**created["spec"], "schedulingGates": [{"name": "example.com/c"}]}}
    response = api.put(f"{PODS}/web", json=added)
    assert response.status_code == 422
    assert (
        "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'example.com/c'" in response.json()["message"]
    )
    fewer = {**created, "spec": {**created["spec"], "schedulingGates": [{"name": "example.com/b"}]}}
    assert api.put(f"{PODS}/web", json=fewer).status_code == 200
