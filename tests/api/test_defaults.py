"""API-server defaulting, field by field (kubelet-reference Part 4 §1)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from minikubelet.api.codec import from_dict, to_dict
from minikubelet.api.defaults import default_pod, default_pull_policy
from minikubelet.api.models import Pod

BASE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "app", "image": "app:1"}]},
}
# What the API server adds to BASE: the expected output with no mutation.
BASE_DEFAULTED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "app:1",
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "schedulerName": "default-scheduler",
        "securityContext": {},
    },
}

Mutate = Callable[[dict[str, Any]], None]


def container(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = body["spec"]["containers"][0]
    return result


def set_in_container(**fields: Any) -> Mutate:
    return lambda body: container(body).update(copy.deepcopy(fields))


def set_in_spec(**fields: Any) -> Mutate:
    return lambda body: body["spec"].update(copy.deepcopy(fields))


def defaulted(body: dict[str, Any]) -> dict[str, Any]:
    return to_dict(default_pod(from_dict(Pod, body)))


def test_base_pod() -> None:
    assert defaulted(copy.deepcopy(BASE)) == BASE_DEFAULTED


@pytest.mark.parametrize(
    ("mutate", "path", "expected"),
    [
        pytest.param(
            set_in_container(resources={"limits": {"cpu": "0.5", "memory": "128Mi"}}),
            "container.resources",
            {
                "limits": {"cpu": "500m", "memory": "128Mi"},
                "requests": {"cpu": "500m", "memory": "128Mi"},
            },
            id="requests copied from limits, canonical",
        ),
        pytest.param(
            set_in_container(resources={"limits": {"cpu": "2"}, "requests": {"cpu": "1"}}),
            "container.resources",
            {"limits": {"cpu": "2"}, "requests": {"cpu": "1"}},
            id="existing request kept",
        ),
        pytest.param(
            set_in_container(resources={"requests": {"cpu": "1"}}),
            "container.resources",
            {"requests": {"cpu": "1"}},
            id="limits never derived from requests",
        ),
        pytest.param(
            set_in_container(resources={"limits": {"cpu": "0.0001"}}),
            "container.resources",
            {"limits": {"cpu": "1m"}, "requests": {"cpu": "1m"}},
            id="rounded up to milli after the copy",
        ),
        pytest.param(
            set_in_container(livenessProbe={"httpGet": {"port": 3000}}),
            "container.livenessProbe",
            {
                "httpGet": {"path": "/", "port": 3000, "scheme": "HTTP"},
                "timeoutSeconds": 1,
                "periodSeconds": 10,
                "successThreshold": 1,
                "failureThreshold": 3,
            },
            id="probe timings and httpGet",
        ),
        pytest.param(
            set_in_container(readinessProbe={"grpc": {"port": 9}, "periodSeconds": 5}),
            "container.readinessProbe",
            {
                "grpc": {"port": 9, "service": ""},
                "timeoutSeconds": 1,
                "periodSeconds": 5,
                "successThreshold": 1,
                "failureThreshold": 3,
            },
            id="grpc service, given period kept",
        ),
        pytest.param(
            set_in_container(ports=[{"containerPort": 80}]),
            "container.ports",
            [{"containerPort": 80, "protocol": "TCP"}],
            id="port protocol",
        ),
        pytest.param(
            lambda b: (
                b["spec"].update(hostNetwork=True),
                container(b).update(ports=[{"containerPort": 80}]),
            ),
            "container.ports",
            [{"containerPort": 80, "hostPort": 80, "protocol": "TCP"}],
            id="hostPort from containerPort with hostNetwork",
        ),
        pytest.param(
            set_in_container(
                env=[{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
            ),
            "container.env",
            [
                {
                    "name": "N",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}},
                }
            ],
            id="fieldRef apiVersion",
        ),
        pytest.param(
            set_in_container(lifecycle={"preStop": {"httpGet": {"port": 80}}}),
            "container.lifecycle",
            {"preStop": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}}},
            id="lifecycle httpGet",
        ),
        pytest.param(
            set_in_spec(volumes=[{"name": "a"}, {"name": "b", "hostPath": {"path": "/x"}}]),
            "spec.volumes",
            [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/x", "type": ""}}],
            id="volume without source is emptyDir; hostPath type",
        ),
        pytest.param(
            set_in_spec(volumes=[{"name": "s", "secret": {"secretName": "x"}}]),
            "spec.volumes",
            [{"name": "s", "secret": {"secretName": "x", "defaultMode": 420}}],
            id="secret defaultMode 0644",
        ),
        pytest.param(
            set_in_spec(restartPolicy="Never", terminationGracePeriodSeconds=0),
            "spec.terminationGracePeriodSeconds",
            0,
            id="zero grace period is a value, not absent",
        ),
        pytest.param(
            set_in_spec(initContainers=[{"name": "init", "image": "busybox"}]),
            "spec.initContainers",
            [
                {
                    "name": "init",
                    "image": "busybox",
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "Always",
                }
            ],
            id="init containers defaulted too",
        ),
    ],
)
def test_defaults(mutate: Mutate, path: str, expected: Any) -> None:
    body = copy.deepcopy(BASE)
    mutate(body)
    out = defaulted(body)
    scope, key = path.split(".")
    holder = out["spec"]["containers"][0] if scope == "container" else out["spec"]
    assert holder[key] == expected


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:2", "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("webapl:0.1", "IfNotPresent"),
        ("Nginx", "IfNotPresent"),
        ("", "IfNotPresent"),
    ],
)
def test_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert default_pull_policy(image) == policy


def test_given_values_are_kept() -> None:
    body = copy.deepcopy(BASE)
    container(body).update(imagePullPolicy="Never", terminationMessagePath="/tmp/x")
    body["spec"].update(dnsPolicy="Default", schedulerName="mine", enableServiceLinks=False)
    out = defaulted(body)
    assert container(out)["imagePullPolicy"] == "Never"
    assert container(out)["terminationMessagePath"] == "/tmp/x"
    assert (out["spec"]["dnsPolicy"], out["spec"]["schedulerName"]) == ("Default", "mine")
    assert out["spec"]["enableServiceLinks"] is False
