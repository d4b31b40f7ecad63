"""`minikubelet probe`: one probe run by hand through the agent's API, in-process, on a node
whose runner is scripted; counted by nobody (no history entry, no event, the pod unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.api.codec import from_dict
from minikubelet.api.models import Container, Pod, PodStatus, Probe
from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.main import main
from minikubelet.cli.transport import HttpxTransport
from minikubelet.clock import FakeClock
from minikubelet.paths import StatePaths
from minikubelet.prober.once import run_once
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.worker import Kind
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store

CID = "docker://c1"
POD: JSON = {
    "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
    "spec": {
        "nodeName": "node1",
        "containers": [
            {"name": "side", "image": "img"},
            {
                "name": "app",
                "image": "img",
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 3000}},
            },
        ],
    },
}
STATUS: JSON = {
    "phase": "Running",
    "containerStatuses": [
        {"name": "app", "containerID": CID, "state": {"running": {}}, "restartCount": 0},
        {"name": "side", "containerID": "docker://c2", "state": {"waiting": {}}},
    ],
}


class Node:
    """The node's `probe_once`, with a scripted runner that logs its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Kind, str, str]] = []

    async def runner(
        self, probe: Probe, kind: Kind, container: Container, uid: str, container_id: str
    ) -> ProbeOutcome:
        self.calls.append((container.name, kind, uid, container_id))
        outcome = ProbeOutcome.failure("HTTP probe failed with statuscode: 500")
        return outcome.with_detail(
            handler="httpGet", target="http://10.0.0.2:3000/healthz", statusCode=500,
            headerBytes=98, body="unhealthy\n",
        )  # fmt: skip

    async def probe_once(self, pod: JSON, container: str, kind: str) -> JSON:
        model = from_dict(Pod, pod)
        status = from_dict(PodStatus, STATUS)
        return await run_once(self.runner, FakeClock(), model, status, container, kind)


@pytest.fixture
def node() -> Node:
    return Node()


@pytest.fixture(autouse=True)
def api(
    store: Store, node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    store.create("Pod", POD)
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1", probes=node))
    with TestClient(app, base_url="http://minikubelet") as http:
        transport = HttpxTransport(http)
        monkeypatch.setattr(
            agent,
            "connect",
            lambda paths=None: agent.ApiClient(StatePaths(tmp_path), transport=transport),
        )
        yield http


def test_probe_runs_once_and_says_it_was_not_counted(
    store: Store, node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (store.get("Pod", "default", "web"), store.probes.list("u1"))
    assert main(["probe", "web", "--liveness"]) == 0  # the container that has one
    assert capsys.readouterr().out == (
        "liveness probe of default/web, container app (httpGet http://10.0.0.2:3000/healthz),"
        " run once now\n"
        "result:   failure\n"
        "message:  HTTP probe failed with statuscode: 500\n"
        'detail:   HTTP 500, headers 98 B, body "unhealthy\\n"\n'
        "latency:  0ms\n"
        "Run once by hand: not counted by the probe's worker, no event recorded,"
        " the pod unchanged.\n"
    )
    assert node.calls == [("app", Kind.LIVENESS, "u1", CID)]
    assert (store.get("Pod", "default", "web"), store.probes.list("u1")) == before
    assert store.list("Event", "default")[0] == []


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        pytest.param(
            ["probe", "web", "-c", "app", "--startup"],
            'Error from server (BadRequest): container "app" in pod "web" has no startup probe',
            id="no such probe",
        ),
        pytest.param(
            ["probe", "web", "-c", "nope", "--liveness"],
            "Error from server (BadRequest): container nope is not valid for pod web",
            id="no such container",
        ),
        pytest.param(
            ["probe", "gone", "--liveness"],
            'Error from server (NotFound): pods "gone" not found',
            id="no such pod",
        ),
        pytest.param(
            ["probe", "web", "--liveness", "--readiness"],
            "error: exactly one of --liveness, --readiness or --startup is required",
            id="two kinds",
        ),
    ],
)
def test_probe_errors(
    argv: list[str], error: str, node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().err.strip() == error
    assert node.calls == []


def test_a_container_not_running_is_not_probed(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = [{**STATUS["containerStatuses"][0], "state": {"waiting": {"reason": "BackOff"}}}]
    monkeypatch.setitem(STATUS, "containerStatuses", waiting)
    assert main(["probe", "web", "--liveness"]) == 1
    assert capsys.readouterr().err.strip() == (
        'Error from server (BadRequest): container "app" in pod "web" is not running'
    )
    assert node.calls == []
