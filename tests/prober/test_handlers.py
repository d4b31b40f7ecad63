"""Port resolution, expansion, header rules, dispatch and retries; exec and tcpSocket."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import (
    Container,
    EnvVar,
    EnvVarSource,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    ObjectFieldSelector,
    Probe,
    TCPSocketAction,
)
from minikubelet.errors import ContainerNotFound
from minikubelet.prober import exec as exec_module
from minikubelet.prober.exec import expand, expand_command
from minikubelet.prober.handlers import ProbeError, http_request, resolve_port, run_probe
from minikubelet.prober.http_request import canonical_header_key, format_url
from minikubelet.prober.outcome import ProbeOutcome, ProbeResult
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import ExecResult
from tests.prober.servers import before_later, container, free_port, serve


@pytest.mark.parametrize(
    ("port", "ports", "expected"),
    [
        pytest.param(80, (), 80, id="number"),
        pytest.param("http", (("http", 8080),), 8080, id="name"),
        pytest.param("8080", (), 8080, id="number as string"),
        pytest.param("+81", (), 81, id="signed string"),
        pytest.param(65535, (), 65535, id="highest"),
    ],
)
def test_resolve_port(port: int | str, ports: tuple[tuple[str, int], ...], expected: int) -> None:
    assert resolve_port(port, container(*ports)) == expected


@pytest.mark.parametrize(
    ("port", "message"),
    [
        pytest.param(0, "invalid port number: 0", id="zero"),
        pytest.param(None, "invalid port number: 0", id="unset"),
        pytest.param(65536, "invalid port number: 65536", id="too high"),
        pytest.param("-1", "invalid port number: -1", id="negative string"),
        pytest.param("http", 'strconv.Atoi: parsing "http": invalid syntax', id="unknown name"),
        pytest.param("", 'strconv.Atoi: parsing "": invalid syntax', id="empty"),
        pytest.param(" 80", 'strconv.Atoi: parsing " 80": invalid syntax', id="space"),
        pytest.param("1_000", 'strconv.Atoi: parsing "1_000": invalid syntax', id="underscore"),
        pytest.param(
            "99999999999999999999",
            'strconv.Atoi: parsing "99999999999999999999": value out of range',
            id="out of range",
        ),
    ],
)
def test_resolve_port_errors(port: int | str | None, message: str) -> None:
    with pytest.raises(ProbeError) as caught:
        resolve_port(port, container(("web", 80)))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "a"),
        ("x$(A)y$(B)", "xaybee"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$(A", "$(A"),
        ("$", "$"),
        ("a$b", "a$b"),
        ("$(EMPTY)!", "!"),
        ("$()", "$()"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"A": "a", "B": "bee", "EMPTY": ""}) == expected


def test_expand_command_uses_static_values_only() -> None:
    ref = EnvVarSource(fieldRef=ObjectFieldSelector(fieldPath="status.podIP"))
    c = Container(
        name="c", env=[EnvVar(name="F", value="/tmp/h"), EnvVar(name="IP", valueFrom=ref)]
    )
    assert expand_command(["cat", "$(F)", "$(IP)", "$(NOPE)"], c) == [
        "cat",
        "/tmp/h",
        "",
        "$(NOPE)",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("user-agent", "User-Agent"),
        ("X-CUSTOM-header", "X-Custom-Header"),
        ("accept", "Accept"),
        ("bad name", "bad name"),
        ("", ""),
    ],
)
def test_canonical_header_key(name: str, expected: str) -> None:
    assert canonical_header_key(name) == expected


@pytest.mark.parametrize(
    ("scheme", "host", "port", "path", "expected"),
    [
        ("http", "10.0.0.5", 80, "/healthz", "http://10.0.0.5:80/healthz"),
        ("http", "10.0.0.5", 80, "healthz", "http://10.0.0.5:80/healthz"),
        ("http", "10.0.0.5", 80, "/h?x=1&y=2", "http://10.0.0.5:80/h?x=1&y=2"),
        ("http", "10.0.0.5", 80, "/h#frag", "http://10.0.0.5:80/h"),
        ("https", "fd00::1", 443, "", "https://[fd00::1]:443"),
    ],
)
def test_format_url(scheme: str, host: str, port: int, path: str, expected: str) -> None:
    assert format_url(scheme, host, port, path) == expected


def test_http_request_header_rules() -> None:
    headers = [
        HTTPHeader(name="x-custom", value="1"),
        HTTPHeader(name="X-Custom", value="2"),
        HTTPHeader(name="host", value="example.com"),
        HTTPHeader(name="accept", value=""),
    ]
    action = HTTPGetAction(path="healthz", port="web", scheme="HTTPS", httpHeaders=headers)
    request = http_request(action, container(("web", 8443)), "10.0.0.5", "1.31")
    assert request.url == "https://10.0.0.5:8443/healthz"
    assert request.host == "example.com"
    assert request.headers == (
        ("User-Agent", "kube-probe/1.31"),
        ("X-Custom", "1"),
        ("X-Custom", "2"),
    )


def test_http_request_defaults_and_user_agent_override() -> None:
    action = HTTPGetAction(port=80, httpHeaders=[HTTPHeader(name="user-agent", value="me")])
    request = http_request(action, container(), "10.0.0.5")
    assert request.url == "http://10.0.0.5:80"
    assert request.host is None
    assert request.headers == (("User-Agent", "me"), ("Accept", "*/*"))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1s"), (0.5, "500ms"), (1.5, "1.5s"), (60, "1m0s"), (90, "1m30s"), (3600, "1h0m0s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


# -- run_probe: dispatch and retries ------------------------------------------------------


async def _probe(probe: Probe, c: Container | None = None, **kw: Any) -> ProbeOutcome:
    runtime = kw.pop("runtime", FakeRuntime())
    return await run_probe(
        probe,
        "Liveness",
        c or container(),
        pod_ip="127.0.0.1",
        container_id=kw.pop("container_id", "nope"),
        runtime=runtime,
        **kw,
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "probe",
    [
        pytest.param(Probe(httpGet=HTTPGetAction(port="http")), id="httpGet"),
        pytest.param(Probe(tcpSocket=TCPSocketAction(port="http")), id="tcpSocket"),
    ],
)
async def test_port_resolution_failure_is_errored(probe: Probe) -> None:
    outcome = await _probe(probe)
    assert outcome == ProbeOutcome.errored('strconv.Atoi: parsing "http": invalid syntax')


@pytest.mark.anyio
async def test_no_handler_is_errored() -> None:
    outcome = await _probe(Probe())
    assert outcome.result is ProbeResult.UNKNOWN and outcome.error is not None


@pytest.mark.anyio
async def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        await run_probe(
            Probe(), "Alive", container(), pod_ip="", container_id="", runtime=FakeRuntime()
        )


# -- exec ---------------------------------------------------------------------------------


async def _running(runtime: FakeRuntime) -> str:
    from minikubelet.runtime.types import ContainerSpec, SandboxSpec

    sandbox = await runtime.run_sandbox(SandboxSpec(pod_uid="u", pod_name="p", namespace="ns"))
    runtime.set_image("img")
    spec = ContainerSpec(
        pod_uid="u", pod_name="p", namespace="ns", name="app", attempt=0, image="img",
        sandbox_id=sandbox.id,
    )  # fmt: skip
    cid = await runtime.create_container(spec)
    await runtime.start_container(cid)
    return cid


class _HungRuntime(FakeRuntime):
    """An exec whose process ignores signals and whose runtime never reports back."""

    async def exec(self, container_id: str, argv: list[str], timeout: float) -> ExecResult:
        await anyio.sleep_forever()
        raise AssertionError


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("result", "expected"),
    [
        pytest.param(ExecResult(0, b"ok\n"), ProbeOutcome.success("ok\n"), id="exit 0"),
        pytest.param(
            ExecResult(1, b"out\nerr\n"), ProbeOutcome.failure("out\nerr\n"), id="exit 1 output"
        ),
        pytest.param(ExecResult(2), ProbeOutcome.failure(""), id="no output"),
        pytest.param(
            ExecResult(137, b"partial", timed_out=True),
            ProbeOutcome.failure('command "cat $(NOPE) /tmp/health" timed out'),
            id="timed out",
        ),
        pytest.param(
            ExecResult(1, b"x" * 1_000_000),
            ProbeOutcome.failure("x" * 10240),
            id="flood capped at 10 KiB",
        ),
    ],
)
async def test_exec(result: ExecResult, expected: ProbeOutcome) -> None:
    runtime = FakeRuntime()
    cid = await _running(runtime)
    runtime.set_exec(["cat", "$(NOPE)", "/tmp/health"], result)
    c = container(env={"F": "/tmp/health"})
    probe = Probe(exec=ExecAction(command=["cat", "$(NOPE)", "$(F)"]), timeoutSeconds=1)
    with before_later():
        assert await _probe(probe, c, runtime=runtime, container_id=cid) == expected
    assert [args[1:] for name, args in runtime.calls if name == "exec"] == [
        (["cat", "$(NOPE)", "/tmp/health"], 1.0)
    ]


@pytest.mark.anyio
async def test_exec_runtime_error_is_errored_and_retried() -> None:
    runtime = FakeRuntime()
    outcome = await _probe(Probe(exec=ExecAction(command=["true"])), runtime=runtime)
    assert outcome == ProbeOutcome.errored(str(ContainerNotFound("No such container: nope")))
    assert [name for name, _ in runtime.calls] == ["exec"] * 3


@pytest.mark.anyio
async def test_exec_that_never_returns_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the kubelet's own deadline for the call (2 min plus the probe's timeout, here
    shortened to 1 s plus it), a runtime that never reports back is a timeout."""
    monkeypatch.setattr(exec_module, "RUNTIME_REQUEST_TIMEOUT", 1.0)
    runtime = _HungRuntime()
    probe = Probe(exec=ExecAction(command=["sh", "-c", "trap '' TERM; sleep 1000"]))
    start = anyio.current_time()
    with before_later():
        outcome = await _probe(probe, runtime=runtime)
    assert outcome == ProbeOutcome.failure("command \"sh -c trap '' TERM; sleep 1000\" timed out")
    assert anyio.current_time() - start >= 1.9


class _SlowEngine(FakeRuntime):
    """An engine that takes longer than the probe's timeout before the process starts."""

    async def exec(self, container_id: str, argv: list[str], timeout: float) -> ExecResult:
        await anyio.sleep(timeout + 1.5)
        return ExecResult(0, b"ok\n")


@pytest.mark.anyio
async def test_exec_waiting_for_the_engine_is_not_the_probes_timeout() -> None:
    """timeoutSeconds is the runtime's, from the process's start (CRI `ExecSync`): time spent
    before it, in a busy engine, does not turn a healthy container's probe into a failure."""
    probe = Probe(exec=ExecAction(command=["true"]), timeoutSeconds=1)
    with before_later():
        outcome = await _probe(probe, runtime=_SlowEngine())
    assert outcome == ProbeOutcome.success("ok\n")
    assert exec_module.RUNTIME_REQUEST_TIMEOUT == 120.0  # remote_runtime.go's default


# -- tcpSocket ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_tcp_success_sends_nothing() -> None:
    received: list[bytes] = []
    done = anyio.Event()

    async def handler(stream: Any) -> None:
        try:
            received.append(await stream.receive())
        except anyio.EndOfStream:
            received.append(b"")
        done.set()

    async with serve(handler) as port:
        probe = Probe(tcpSocket=TCPSocketAction(port="app"), timeoutSeconds=1)
        outcome = await _probe(probe, container(("app", port)))
        assert outcome == ProbeOutcome.success()
        with anyio.fail_after(2):
            await done.wait()
    assert received == [b""]


@pytest.mark.anyio
async def test_tcp_refused() -> None:
    port = free_port()
    probe = Probe(tcpSocket=TCPSocketAction(port=port, host="127.0.0.1"), timeoutSeconds=1)
    outcome = await _probe(probe)
    assert outcome == ProbeOutcome.failure(
        f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )


@pytest.mark.anyio
async def test_tcp_timeout_on_a_full_backlog() -> None:
    """A listener that never accepts and whose queue is full drops SYNs: the dial times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                fillers.append(filler)
                filler.setblocking(False)
                try:
                    filler.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
            probe = Probe(tcpSocket=TCPSocketAction(port=port), timeoutSeconds=1)
            start = anyio.current_time()
            with before_later():
                outcome = await _probe(probe)
            elapsed = anyio.current_time() - start
        finally:
            for filler in fillers:
                filler.close()
    assert outcome == ProbeOutcome.failure(f"dial tcp 127.0.0.1:{port}: i/o timeout")
    assert elapsed >= 0.9


@pytest.mark.anyio
async def test_grpc_dispatch_uses_pod_ip_and_port() -> None:
    port = free_port()
    outcome = await _probe(Probe(grpc=GRPCAction(port=port), timeoutSeconds=1))
    assert outcome == ProbeOutcome.failure(
        f'timeout: failed to connect service "127.0.0.1:{port}" within 1s:'
        " context deadline exceeded"
    )
