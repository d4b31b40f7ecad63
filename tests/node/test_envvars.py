"""makeEnvironmentVariables: envFrom, env sources, optional, missing objects and keys."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from minikubelet.api.create import decode_pod
from minikubelet.api.models import Pod
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.node.envvars import EnvContext, EnvError, make_environment


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Objects:
    """An in-memory ObjectSource; counts reads to check the per-call cache."""

    def __init__(self, *objects: JSON) -> None:
        self.objects = {(o["kind"], "default", o["metadata"]["name"]): o for o in objects}
        self.reads = 0

    def get_object(self, kind: str, namespace: str, name: str) -> JSON | None:
        self.reads += 1
        return self.objects.get((kind, namespace, name))


CFG = {"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"MODE": "fast", "a.b": "1"}}
SEC = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"PASSWORD": b64("s3cret")}}


def pod(container: JSON) -> Pod:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "labels": {"app": "w"}},
        "spec": {"containers": [{"name": "c", "image": "busybox", **container}]},
    }
    return decode_pod(body)


def env_of(container: JSON, *objects: JSON, **ctx: Any) -> dict[str, str]:
    p = pod(container)
    return dict(
        make_environment(p, p.spec.all_containers()[0], EnvContext(Objects(*objects), **ctx))
    )


def cm_ref(name: str, key: str, **more: Any) -> JSON:
    return {"valueFrom": {"configMapKeyRef": {"name": name, "key": key, **more}}}


def secret_ref(name: str, key: str, **more: Any) -> JSON:
    return {"valueFrom": {"secretKeyRef": {"name": name, "key": key, **more}}}


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        pytest.param(
            {"env": [{"name": "M", **cm_ref("cfg", "MODE")}]}, {"M": "fast"}, id="configMapKeyRef"
        ),
        pytest.param(
            {"env": [{"name": "P", **secret_ref("db", "PASSWORD")}]},
            {"P": "s3cret"},
            id="secretKeyRef decoded",
        ),
        pytest.param(
            {"envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "db"}}]},
            {"MODE": "fast", "a.b": "1", "PASSWORD": "s3cret"},
            id="envFrom injects every key, invalid names too (1.32)",
        ),
        pytest.param(
            {"envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "cfg"}}]},
            {"CFG_MODE": "fast", "CFG_a.b": "1"},
            id="envFrom prefix",
        ),
        pytest.param(
            {
                "envFrom": [{"configMapRef": {"name": "cfg"}}],
                "env": [
                    {"name": "MODE", "value": "slow"},
                    {"name": "X", "value": "$(MODE)-$(a.b)"},
                ],
            },
            {"MODE": "slow", "a.b": "1", "X": "slow-1"},
            id="env overrides envFrom and expands against it",
        ),
        pytest.param(
            {
                "env": [
                    {"name": "A", **cm_ref("nope", "k", optional=True)},
                    {"name": "B", **cm_ref("cfg", "nokey", optional=True)},
                    {"name": "C", **secret_ref("nope", "k", optional=True)},
                ],
                "envFrom": [{"configMapRef": {"name": "nope", "optional": True}}],
            },
            {},
            id="optional missing objects and keys are skipped",
        ),
        pytest.param(
            {"env": [{"name": "E"}, {"name": "F", "value": "$$(E) $(UNSET)"}]},
            {"E": "", "F": "$(E) $(UNSET)"},
            id="empty value, escapes, unknown references kept",
        ),
        pytest.param(
            {
                "env": [
                    {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "L",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    },
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ]
            },
            {"N": "web", "L": "w", "IP": "10.0.0.5"},
            id="fieldRef",
        ),
    ],
)
def test_environment(container: JSON, expected: dict[str, str]) -> None:
    assert env_of(container, CFG, SEC, pod_ip="10.0.0.5") == expected


@pytest.mark.parametrize(
    ("container", "message"),
    [
        pytest.param(
            {"env": [{"name": "M", **cm_ref("nope", "k")}]},
            'configmap "nope" not found',
            id="missing configmap",
        ),
        pytest.param(
            {"envFrom": [{"secretRef": {"name": "nope"}}]},
            'secret "nope" not found',
            id="missing secret in envFrom",
        ),
        pytest.param(
            {"env": [{"name": "M", **cm_ref("cfg", "k")}]},
            "couldn't find key k in ConfigMap default/cfg",
            id="missing configmap key",
        ),
        pytest.param(
            {"env": [{"name": "M", **secret_ref("db", "user")}]},
            "couldn't find key user in Secret default/db",
            id="missing secret key",
        ),
    ],
)
def test_environment_errors(container: JSON, message: str) -> None:
    with pytest.raises(EnvError) as err:
        env_of(container, CFG, SEC)
    assert str(err.value) == message


def test_objects_read_once_per_call() -> None:
    p = pod(
        {"env": [{"name": "A", **cm_ref("cfg", "MODE")}, {"name": "B", **cm_ref("cfg", "a.b")}]}
    )
    source = Objects(CFG)
    make_environment(p, p.spec.all_containers()[0], EnvContext(source))
    assert source.reads == 1


@pytest.mark.parametrize(
    ("ref", "resources", "expected"),
    [
        pytest.param(
            {"resource": "limits.cpu"}, {"limits": {"cpu": "250m"}}, "1", id="cpu rounds up"
        ),
        pytest.param(
            {"resource": "limits.cpu", "divisor": "1m"},
            {"limits": {"cpu": "250m"}},
            "250",
            id="millicores",
        ),
        pytest.param(
            {"resource": "requests.memory", "divisor": "1Mi"},
            {"requests": {"memory": "100Mi"}},
            "100",
            id="memory in Mi",
        ),
        pytest.param(
            {"resource": "limits.memory"}, {}, "8589934592", id="no limit: node allocatable"
        ),
        pytest.param({"resource": "limits.cpu"}, {}, "2", id="no cpu limit: node's cpus"),
        pytest.param({"resource": "requests.cpu"}, {}, "0", id="no request: 0"),
    ],
)
def test_resource_field_ref(ref: JSON, resources: JSON, expected: str) -> None:
    container = {
        "resources": resources,
        "env": [{"name": "R", "valueFrom": {"resourceFieldRef": ref}}],
    }
    allocatable = {"cpu": Quantity.parse("2"), "memory": Quantity.parse("8Gi")}
    assert env_of(container, allocatable=allocatable) == {"R": expected}


def test_service_variables_from_the_pod_context() -> None:
    """The node hands the Services that exist at start to the environment; user env wins, and
    `enableServiceLinks: false` keeps only the `kubernetes` Service of `default`."""
    from pathlib import Path

    from minikubelet.node.containers import PodContext, environment

    def service(name: str, ns: str, ip: str) -> JSON:
        ports = [{"port": 80, "protocol": "TCP"}]
        return {
            "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": ports},
        }

    services = [service("web", "default", "10.96.0.20"), service("db", "other", "10.96.0.30")]
    ctx = PodContext(
        "vm", "10.89.0.2", "10.89.0.1", "", Path("/nonexistent"), services=lambda: services
    )
    the_pod = pod({"name": "c", "image": "i", "env": [{"name": "WEB_SERVICE_PORT", "value": "1"}]})
    env = dict(environment(the_pod, the_pod.spec.all_containers()[0], ctx))
    assert env["WEB_SERVICE_HOST"] == "10.96.0.20"
    assert env["WEB_SERVICE_PORT"] == "1", "the user's own variable wins"
    assert env["WEB_PORT_80_TCP_ADDR"] == "10.96.0.20"
    assert not any(k.startswith("DB_") for k in env), "other namespaces' Services are not seen"
    the_pod.spec.extra["enableServiceLinks"] = False
    names = [k for k, _ in environment(the_pod, the_pod.spec.all_containers()[0], ctx)]
    assert "WEB_SERVICE_HOST" not in names and "WEB_SERVICE_PORT" in names
