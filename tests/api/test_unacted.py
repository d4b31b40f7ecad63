"""Fields accepted but not acted on are named, so apply can warn about them."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.defaults import default_pod
from minikubelet.api.models import Pod
from minikubelet.api.unacted import unacted_fields


def pod(**spec: Any) -> Pod:
    container = {"name": "a", "image": "a:1", **spec.pop("container", {})}
    body = {"metadata": {"name": "p"}, "spec": {"containers": [container], **spec}}
    return default_pod(from_dict(Pod, body))


@pytest.mark.parametrize(
    ("p", "paths"),
    [
        pytest.param(pod(), [], id="a plain pod"),
        pytest.param(
            pod(volumes=[{"name": "v", "emptyDir": {}}], nodeSelector={"a": "b"}), [], id="acted on"
        ),
        pytest.param(
            pod(
                securityContext={
                    "runAsUser": 1,
                    "fsGroup": 2,
                    "seccompProfile": {"type": "x"},
                    "sysctls": [{"name": "a", "value": "1"}],
                    "appArmorProfile": {"type": "RuntimeDefault"},
                },
                hostNetwork=True,
                hostPID=True,
                hostIPC=True,
                shareProcessNamespace=True,
                container={"securityContext": {"privileged": True, "capabilities": {"add": ["A"]}}},
            ),
            [],
            id="security context and host namespaces are acted on",
        ),
        pytest.param(
            pod(
                securityContext={"seLinuxOptions": {"level": "s0"}},
                container={"securityContext": {"seLinuxOptions": {"level": "s0"}}},
            ),
            [
                "spec.securityContext.seLinuxOptions",
                "spec.containers[0].securityContext.seLinuxOptions",
            ],
            id="security fields not acted on",
        ),
        pytest.param(
            pod(container={"lifecycle": {"preStop": {"exec": {"command": ["x"]}}}}),
            [],
            id="lifecycle hooks are acted on",
        ),
        pytest.param(pod(activeDeadlineSeconds=5), [], id="activeDeadlineSeconds is acted on"),
        pytest.param(
            pod(volumes=[{"name": "c", "configMap": {"name": "x"}}]), [], id="configMap volume"
        ),
        pytest.param(
            pod(
                container={
                    "env": [
                        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
                    ],
                    "envFrom": [{"configMapRef": {"name": "c"}}],
                }
            ),
            [],
            id="secret env, envFrom",
        ),
        pytest.param(
            pod(
                volumes=[
                    {
                        "name": "p",
                        "projected": {
                            "sources": [
                                {"configMap": {"name": "c"}},
                                {"serviceAccountToken": {"path": "t"}},
                            ]
                        },
                    }
                ]
            ),
            ["spec.volumes[0].projected.sources[1].serviceAccountToken"],
            id="projected token",
        ),
        pytest.param(
            pod(initContainers=[{"name": "side", "image": "s:1", "restartPolicy": "Always"}]),
            [],
            id="sidecars are acted on",
        ),
    ],
)
def test_unacted_fields(p: Pod, paths: list[str]) -> None:
    assert [w.split(":", 1)[0] for w in unacted_fields(p)] == paths
