"""Probe handlers: `pkg/kubelet/prober/prober.go` `runProbeWithRetries` and `runProbe`.

`run_probe` picks the handler (exec, httpGet, tcpSocket, grpc), runs it with `timeoutSeconds`
and retries it back to back, up to 3 times, only while it errors (`maxProbeRetries`). The
handlers themselves live in `exec.py`, `http.py`, `tcp.py` and `grpc.py`; the last two are
imported on the first probe (or hook) of their kind, here: httpx and h2 are a tenth of what the
agent imports, which its start (issue 20's cold apply) and a node with no such probe should not
pay for.
"""

from __future__ import annotations

import re

from minikubelet.api.gofmt import go_quote, join_host_port
from minikubelet.api.models import Container, HTTPGetAction, IntOrString, Probe
from minikubelet.prober.exec import exec_probe, expand_command
from minikubelet.prober.http_request import ProbeRequest, format_url, probe_headers
from minikubelet.prober.outcome import ProbeOutcome
from minikubelet.prober.tcp import tcp_probe
from minikubelet.runtime.types import Runtime

__all__ = [
    "MAX_PROBE_RETRIES",
    "ProbeError",
    "http_get",
    "http_request",
    "resolve_port",
    "run_probe",
    "user_agent",
]

MAX_PROBE_RETRIES = 3
_KINDS = frozenset({"Liveness", "Readiness", "Startup"})
_ATOI = re.compile(r"[+-]?[0-9]+")
_INT64 = 1 << 63


class ProbeError(Exception):
    """A probe that cannot even be attempted (a bad port); `str()` is the kubelet's text."""


def _atoi(text: str) -> int:
    """`strconv.Atoi`: an optional sign and decimal digits, within int64."""
    if not _ATOI.fullmatch(text):
        raise ProbeError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not -_INT64 <= value < _INT64:
        raise ProbeError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return value


def resolve_port(port: IntOrString | None, container: Container) -> int:
    """`probe.ResolveContainerPort`: a number as is; a name looked up in `container.ports`,
    else parsed as a number; the result must be in 1..65535."""
    if isinstance(port, str):
        for candidate in container.ports or ():
            if candidate.name == port:
                number = candidate.containerPort
                break
        else:
            number = _atoi(port)
    else:
        number = port or 0
    if 0 < number < 65536:
        return number
    raise ProbeError(f"invalid port number: {number}")


def user_agent(major_minor: str) -> str:
    return f"kube-probe/{major_minor}"


def http_request(
    action: HTTPGetAction, container: Container, pod_ip: str, major_minor: str = "1.32"
) -> ProbeRequest:
    """`NewRequestForHTTPGetAction`: scheme, host (default the pod IP), port, path, headers."""
    scheme = (action.scheme or "").lower() or "http"
    host = action.host or pod_ip
    port = resolve_port(action.port, container)
    url = format_url(scheme, host, port, action.path or "")
    pairs = [(h.name, h.value) for h in action.httpHeaders or ()]
    headers, virtual_host = probe_headers(pairs, user_agent(major_minor))
    return ProbeRequest(url=url, headers=headers, host=virtual_host)


async def http_get(request: ProbeRequest, timeout: float) -> ProbeOutcome:
    """One probe GET (`http.py`: h11 on an asyncio protocol, imported on the first one)."""
    from minikubelet.prober.http import http_probe

    return await http_probe(request, timeout)


async def _grpc(port: int, service: str, timeout: float, pod_ip: str, agent: str) -> ProbeOutcome:
    """One gRPC health check (`grpc.py`, through h2, imported on the first one)."""
    from minikubelet.prober.grpc import grpc_probe

    return await grpc_probe(pod_ip, port, service, timeout, agent)


async def _run_once(
    probe: Probe,
    container: Container,
    *,
    pod_ip: str,
    container_id: str,
    runtime: Runtime,
    major_minor: str,
) -> ProbeOutcome:
    """`runProbe`: one attempt of whichever handler the probe names."""
    timeout = float(probe.timeoutSeconds or 1)
    handler = ""
    try:
        if probe.exec is not None:
            handler = "exec"
            argv = expand_command(probe.exec.command or [], container)
            outcome = await exec_probe(runtime, container_id, argv, timeout)
            return outcome.with_detail(handler=handler, target=" ".join(argv))
        if probe.httpGet is not None:
            handler = "httpGet"
            request = http_request(probe.httpGet, container, pod_ip, major_minor)
            outcome = await http_get(request, timeout)
            return outcome.with_detail(handler=handler, target=request.url)
        if probe.tcpSocket is not None:
            handler = "tcpSocket"
            port = resolve_port(probe.tcpSocket.port, container)
            host = probe.tcpSocket.host or pod_ip
            outcome = await tcp_probe(host, port, timeout)
            return outcome.with_detail(handler=handler, target=join_host_port(host, port))
        if probe.grpc is not None:
            handler = "grpc"
            service = probe.grpc.service or ""
            agent = user_agent(major_minor)
            outcome = await _grpc(probe.grpc.port or 0, service, timeout, pod_ip, agent)
            target = join_host_port(pod_ip, probe.grpc.port or 0)
            return outcome.with_detail(handler=handler, target=target, service=service or None)
    except ProbeError as exc:
        return ProbeOutcome.errored(str(exc)).with_detail(handler=handler or None)
    return ProbeOutcome.errored(f"missing probe handler for {container.name}")


async def run_probe(
    probe: Probe,
    kind: str,
    container: Container,
    *,
    pod_ip: str,
    container_id: str,
    runtime: Runtime,
    major_minor: str = "1.32",
) -> ProbeOutcome:
    """`runProbeWithRetries`: up to 3 attempts back to back while the handler errors.

    `kind` (Liveness, Readiness, Startup) only names the probe; the kubelet's handlers behave
    the same for all three, and the caller words the events with it."""
    if kind not in _KINDS:
        raise ValueError(f"unknown probe kind: {kind!r}")
    outcome = ProbeOutcome.errored("probe not run")
    for _ in range(MAX_PROBE_RETRIES):
        outcome = await _run_once(
            probe,
            container,
            pod_ip=pod_ip,
            container_id=container_id,
            runtime=runtime,
            major_minor=major_minor,
        )
        if outcome.error is None:
            return outcome
    return outcome
