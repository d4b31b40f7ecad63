"""What a person needs to see why: each attempt's threshold count and its handler's detail
(exec, httpGet, tcpSocket), and the runs of attempts that crossed a threshold."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.models import ExecAction, HTTPGetAction, Probe, TCPSocketAction
from minikubelet.prober.handlers import run_probe
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.runs import ProbeRuns
from minikubelet.prober.worker import ProbeState, Result, threshold_count
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import ContainerSpec, ExecResult, SandboxSpec
from tests.prober.servers import container, free_port, read_request, response, serve

PROBE = Probe(failureThreshold=3, successThreshold=2)


@pytest.mark.parametrize(
    ("state", "result", "expected"),
    [
        pytest.param(ProbeState(), Result.FAILURE, "failure 1 of 3", id="first failure"),
        pytest.param(
            ProbeState(last_result=Result.FAILURE, result_run=1),
            Result.FAILURE,
            "failure 2 of 3",
            id="second failure",
        ),
        pytest.param(
            ProbeState(last_result=Result.FAILURE, result_run=4),
            Result.FAILURE,
            "failure 5 of 3",
            id="past the threshold: the run keeps counting, as resultRun does",
        ),
        pytest.param(
            ProbeState(last_result=Result.FAILURE, result_run=2),
            Result.SUCCESS,
            "success 1 of 2",
            id="a success breaks a failure run",
        ),
        pytest.param(ProbeState(), None, "ignored: errored", id="errored"),
        pytest.param(ProbeState(on_hold=True), Result.FAILURE, "ignored: on hold", id="on hold"),
    ],
)
def test_threshold_count(state: ProbeState, result: Result | None, expected: str) -> None:
    assert threshold_count(state, PROBE, result) == expected


def _entry(result: str, n: int, changed: bool = False, probe: str = "liveness") -> dict[str, Any]:
    return {"probe": probe, "container": "app", "result": result, "n": n, "changed": changed}


def test_runs_keep_the_run_that_crossed() -> None:
    runs = ProbeRuns(keep=3)
    for n, result in enumerate(["success", "failure", "unknown", "failure"]):
        runs.note("u1", _entry(result, n))
    assert runs.crossed("u1", "app", "liveness") == []  # nothing crossed yet
    runs.note("u1", _entry("failure", 4, changed=True))
    # the errored attempt stays in the run without breaking it; only the newest 3 are kept
    assert [e["n"] for e in runs.crossed("u1", "app", "liveness")] == [2, 3, 4]
    runs.note("u1", _entry("success", 5))
    assert [e["n"] for e in runs.crossed("u1", "app", "liveness")] == [2, 3, 4]  # kept
    assert runs.crossed("u1", "app", "readiness") == []
    runs.forget("u1")
    assert runs.crossed("u1", "app", "liveness") == []


async def _running(runtime: FakeRuntime) -> str:
    sandbox = await runtime.run_sandbox(SandboxSpec(pod_uid="u", pod_name="p", namespace="ns"))
    runtime.set_image("img")
    spec = ContainerSpec(
        pod_uid="u", pod_name="p", namespace="ns", name="app", attempt=0, image="img",
        sandbox_id=sandbox.id,
    )  # fmt: skip
    cid = await runtime.create_container(spec)
    await runtime.start_container(cid)
    return cid


async def _run(probe: Probe, runtime: FakeRuntime | None = None, cid: str = "") -> ProbeOutcome:
    return await run_probe(
        probe,
        "Liveness",
        container(),
        pod_ip="127.0.0.1",
        container_id=cid,
        runtime=runtime or FakeRuntime(),
    )


@pytest.mark.anyio
async def test_exec_detail_keeps_exit_code_and_both_streams_apart() -> None:
    runtime = FakeRuntime()
    cid = await _running(runtime)
    result = ExecResult(3, b"out\nerr\n", stdout=b"out\n" + b"o" * 1000, stderr=b"err\n")
    runtime.set_exec(["check"], result)
    outcome = await _run(Probe(exec=ExecAction(command=["check"])), runtime, cid)
    assert outcome == ProbeOutcome.failure("out\nerr\n")  # the kubelet's message is unchanged
    detail = outcome.detail or {}
    assert (detail["handler"], detail["target"], detail["exitCode"]) == ("exec", "check", 3)
    assert detail["stderr"] == "err\n" and len(str(detail["stdout"])) == 256
    runtime.set_exec(["check"], ExecResult(1, b"mixed"))  # a runtime that cannot tell them apart
    outcome = await _run(Probe(exec=ExecAction(command=["check"])), runtime, cid)
    assert (outcome.detail or {})["output"] == "mixed"


@pytest.mark.anyio
async def test_http_detail_has_status_headers_size_and_body() -> None:
    async def handler(stream: Any) -> None:
        await read_request(stream)
        await stream.send(response("503 Unavailable", b"draining" * 100))

    async with serve(handler) as port:
        probe = Probe(httpGet=HTTPGetAction(path="/ready", port=port), timeoutSeconds=1)
        outcome = await _run(probe)
    detail = outcome.detail or {}
    assert outcome.output == "HTTP probe failed with statuscode: 503"
    assert detail["statusCode"] == 503 and detail["target"] == f"http://127.0.0.1:{port}/ready"
    assert int(detail["headerBytes"]) > 0
    assert str(detail["body"]).startswith("draining") and len(str(detail["body"])) == 256


@pytest.mark.anyio
async def test_tcp_detail_is_the_error() -> None:
    port = free_port()
    probe = Probe(tcpSocket=TCPSocketAction(port=port, host="127.0.0.1"), timeoutSeconds=1)
    outcome = await _run(probe)
    assert (outcome.detail or {})["error"] == outcome.output
    assert (outcome.detail or {})["target"] == f"127.0.0.1:{port}"
