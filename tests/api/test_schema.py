"""Strict decoding: unknown fields by full path, JSON type errors in Go's words."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.schema import check_pod


def pod(**spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "app:1"}
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [container], **spec},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(pod(), None, id="valid"),
        pytest.param(
            pod(container={"imagePulPolicy": "Always"}),
            'strict decoding error: unknown field "spec.containers[0].imagePulPolicy"',
            id="typo in container",
        ),
        pytest.param(
            pod(foo=1, container={"bar": 2}),
            'strict decoding error: unknown field "spec.containers[0].bar", '
            'unknown field "spec.foo"',
            id="all unknown fields, in document order",
        ),
        pytest.param(
            {**pod(), "status2": {}},
            'strict decoding error: unknown field "status2"',
            id="top level",
        ),
        pytest.param(
            pod(container={"ports": [{"containerPort": "80"}]}),
            "json: cannot unmarshal string into Go struct field "
            "ContainerPort.spec.containers.ports.containerPort of type int32",
            id="string for int32",
        ),
        pytest.param(
            pod(terminationGracePeriodSeconds=1.5),
            "json: cannot unmarshal number 1.5 into Go struct field "
            "PodSpec.spec.terminationGracePeriodSeconds of type int64",
            id="fraction for int64",
        ),
        pytest.param(
            pod(container={"command": "sleep 1"}),
            "json: cannot unmarshal string into Go struct field "
            "Container.spec.containers.command of type []string",
            id="string for list",
        ),
        pytest.param(
            pod(nodeSelector={"a": 1}),
            "json: cannot unmarshal number into Go struct field "
            "PodSpec.spec.nodeSelector of type string",
            id="number in map of strings",
        ),
        pytest.param(
            pod(container={"resources": {"limits": {"cpu": "1K"}}}),
            "unable to parse quantity's suffix",
            id="quantity suffix",
        ),
        pytest.param(
            pod(container={"resources": {"limits": {"memory": "lots"}}}),
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            id="quantity text",
        ),
        pytest.param(
            pod(container={"livenessProbe": {"httpGet": {"port": True}}}),
            "json: cannot unmarshal bool into Go struct field "
            "HTTPGetAction.spec.containers.livenessProbe.httpGet.port of type intstr.IntOrString",
            id="bool for int-or-string",
        ),
        pytest.param(pod(hostNetwork=None), None, id="null is absent"),
        pytest.param(
            pod(container={"securityContext": {"privileged": True}}, tolerations=[{}]),
            None,
            id="fields the node does not act on are still known",
        ),
    ],
)
def test_check_pod(body: dict[str, Any], message: str | None) -> None:
    assert check_pod(body).message() == message
