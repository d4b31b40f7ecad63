"""`get` of several kinds at once (`get svc,ep`, `get pods,svc`, `get all`): a table per kind,
each name `kind/name`, a blank line between the tables, as kubectl's get.go prints them
(tests/e2e/test_get_kinds.py holds the same commands against the real kubectl)."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.service_strategy import SERVICE_STRATEGY
from minikubelet.cli.main import main
from minikubelet.clock import FakeClock
from minikubelet.services.controller import EndpointsController
from minikubelet.store import Store

NOW = "2026-01-01T00:00:00Z"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def service(store: Store, name: str, **spec: Any) -> None:
    body = {
        "metadata": {"name": name, "creationTimestamp": NOW},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 3000}], **spec},
    }
    bound = SERVICE_STRATEGY.bound(lambda: store.list("Service", None)[0])
    svc, _ = bound.create(body, "default", FakeClock().utcnow())
    svc["spec"]["clusterIP"] = svc["spec"]["clusterIPs"][0] = f"10.96.0.{10 + len(name)}"
    for port in svc["spec"]["ports"]:
        if "nodePort" in port:
            port["nodePort"] = 30080
    store.create("Service", svc)


@pytest.fixture
def seeded(store: Store) -> Store:
    store.create(
        "Pod",
        {
            "metadata": {
                "name": "web",
                "namespace": "default",
                "uid": "uid-web",
                "labels": {"app": "web"},
                "creationTimestamp": NOW,
            },
            "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "nginx"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.89.0.2",
                "podIPs": [{"ip": "10.89.0.2"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}
                ],
            },
        },
    )
    service(store, "web")
    service(store, "webnp", type="NodePort")
    EndpointsController(store, FakeClock()).sync("default")
    return store


def lines(*rows: str) -> str:
    return "".join(row + "\n" for row in rows)


SVC = (
    "NAME            TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE",
    "service/web     ClusterIP   10.96.0.13   <none>        80/TCP         0s",
    "service/webnp   NodePort    10.96.0.15   <none>        80:30080/TCP   0s",
)
EP = (
    "NAME              ENDPOINTS        AGE",
    "endpoints/web     10.89.0.2:3000   0s",
    "endpoints/webnp   10.89.0.2:3000   0s",
)
PODS = (
    "NAME      READY   STATUS    RESTARTS   AGE",
    "pod/web   1/1     Running   0          0s",
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["get", "svc,ep"], (0, lines(*SVC, "", *EP), ""), id="svc,ep"),
        pytest.param(["get", "all"], (0, lines(*PODS, "", *SVC), ""), id="all: pods, services"),
        pytest.param(
            ["get", "pods,svc,po"], (0, lines(*PODS, "", *SVC), ""), id="a kind named twice"
        ),
        pytest.param(
            ["get", "cm,svc"], (0, lines(*SVC), ""), id="an empty kind prints nothing, no gap"
        ),
        pytest.param(
            ["get", "svc,ep", "--no-headers"],
            (
                0,
                lines(
                    "service/web     ClusterIP   10.96.0.13   <none>   80/TCP         0s",
                    "service/webnp   NodePort    10.96.0.15   <none>   80:30080/TCP   0s",
                    *EP[1:],
                ),
                "",
            ),
            id="--no-headers: no blank line",
        ),
        pytest.param(
            ["get", "cm,secrets"],
            (0, "", "No resources found in default namespace.\n"),
            id="nothing at all",
        ),
        pytest.param(
            ["get", "svc,nodes", "-l", "none=here"],
            (0, "", "No resources found\n"),
            id="nothing, and a cluster-scoped kind",
        ),
        pytest.param(
            ["get", "pods,svc", "-o", "name"],
            (0, lines("pod/web", "service/web", "service/webnp"), ""),
            id="-o name",
        ),
        pytest.param(
            ["get", "svc,ep", "-w"],
            (1, "", "error: you may only specify a single resource type\n"),
            id="-w takes one kind",
        ),
        pytest.param(
            ["get", "svc,ep", "web"],
            (
                0,
                lines(
                    "NAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE",
                    "service/web   ClusterIP   10.96.0.13   <none>        80/TCP    0s",
                    "",
                    "NAME            ENDPOINTS        AGE",
                    "endpoints/web   10.89.0.2:3000   0s",
                ),
                "",
            ),
            id="A,B NAME: each kind's NAME",
        ),
        pytest.param(
            ["get", "svc/web", "ep/nope"],
            (
                1,
                lines(
                    "NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE",
                    "web    ClusterIP   10.96.0.13   <none>        80/TCP    0s",
                ),
                'Error from server (NotFound): endpoints "nope" not found\n',
            ),
            id="TYPE/NAME...: one kind found, no kind/ prefix",
        ),
        pytest.param(
            ["get", "svc/web", "svc/webnp", "-o", "name"],
            (0, lines("service/web", "service/webnp"), ""),
            id="TYPE/NAME of one kind",
        ),
        pytest.param(
            ["get", "svc/web", "web"],
            (
                1,
                "",
                "error: there is no need to specify a resource type as a separate argument when "
                "passing arguments in resource/name form (e.g. 'minikubelet get "
                "resource/<resource_name>' instead of 'minikubelet get resource "
                "resource/<resource_name>'\n",
            ),
            id="TYPE/NAME beside NAME",
        ),
        pytest.param(
            ["get", "all", "web"],
            (1, "", "error: you must specify only one resource\n"),
            id="a category takes no names",
        ),
        pytest.param(
            ["get", "svc/web", "ep/web", "-w"],
            (1, "", "error: you may only specify a single resource type\n"),
            id="-w with TYPE/NAMEs of two kinds",
        ),
    ],
)
def test_get_kinds(
    seeded: Store,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: tuple[int, str, str],
) -> None:
    assert run(capsys, *argv) == expected


def test_yaml_of_several_kinds_is_one_list(
    seeded: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "get", "pods,svc", "-o", "jsonpath={.items[*].kind}")
    assert (code, out) == (0, "Pod Service Service")
