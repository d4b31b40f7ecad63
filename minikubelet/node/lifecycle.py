"""Lifecycle hooks: `pkg/kubelet/lifecycle/handlers.go` `Run` and `executePreStopHook`.

A hook is an `exec` (run in the container through the runtime, no timeout, as the kubelet's
`RunInContainer(..., 0)`), an `httpGet` (any response is success; only a transport error
fails; `User-Agent: kube-lifecycle/1.32`; the host defaults to the pod IP) or a `sleep`
(on the node's clock). `run` returns None on success, else the kubelet's message, which the
status shows as `PostStartHookError`'s message; events never carry it (`PostStartHook failed`),
so secrets do not leak.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import anyio

from minikubelet.api.codec import from_dict
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Container, HTTPGetAction, Pod
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import RuntimeFailure
from minikubelet.node.actions import format_pod
from minikubelet.prober.handlers import ProbeError, http_get, http_request
from minikubelet.runtime.types import Runtime

__all__ = ["HookRunner", "hook"]


def hook(container: Container, name: str) -> JSON | None:
    """`container.lifecycle.<name>` (postStart or preStop), when it is set."""
    found = (container.extra.get("lifecycle") or {}).get(name)
    return found if isinstance(found, dict) and found else None


def _go_list(items: list[Any]) -> str:
    """Go's `%v` of a `[]string`: `[sh -c exit 1]`."""
    return f"[{' '.join(str(i) for i in items)}]"


class HookRunner:
    """`handlerRunner` for one node: exec through the runtime, httpGet from the node."""

    def __init__(self, runtime: Runtime, clock: Clock, major_minor: str = "1.32") -> None:
        self.runtime = runtime
        self.clock = clock
        self.major_minor = major_minor

    async def run(
        self, pod: Pod, container: Container, container_id: str, handler: JSON, pod_ip: str
    ) -> str | None:
        """`Run`: None when the hook succeeded, else the kubelet's message."""
        where = f"for Container {go_quote(container.name)} in Pod {go_quote(format_pod(pod))}"
        if (action := handler.get("exec")) is not None:
            command = [str(c) for c in action.get("command") or []]
            error, output = await self._exec(container_id, command)
            if error is None:
                return None
            return (
                f"Exec lifecycle hook ({_go_list(command)}) {where} failed - error: {error}, "
                f"message: {go_quote(output)}"
            )
        if (action := handler.get("httpGet")) is not None:
            get = from_dict(HTTPGetAction, action)
            error = await self._http(get, container, pod_ip)
            if error is None:
                return None
            return f"HTTP lifecycle hook ({get.path or ''}) {where} failed - error: {error}"
        if (action := handler.get("sleep")) is not None:
            await self.clock.sleep(float(action.get("seconds") or 0))
            return None
        return f"Cannot run handler: invalid handler: {handler}"

    async def _exec(self, container_id: str, command: list[str]) -> tuple[str | None, str]:
        """CRI `ExecSync`'s error (`command 'x y' exited with N: <stderr>`) and the output."""
        try:
            result = await self.runtime.exec(container_id, command, math.inf)
        except RuntimeFailure as exc:
            return str(exc), ""
        output = result.output.decode(errors="replace")
        if result.exit_code == 0:
            return None, output
        stderr = (result.stderr or b"").decode(errors="replace")
        return f"command '{' '.join(command)}' exited with {result.exit_code}: {stderr}", output

    async def _http(self, action: HTTPGetAction, container: Container, pod_ip: str) -> str | None:
        if not action.host and not pod_ip:
            return "failed to find networking container"
        try:
            request = http_request(action, container, pod_ip, self.major_minor)
        except ProbeError as exc:
            return str(exc)
        agent = f"kube-lifecycle/{self.major_minor}"  # NewRequestForHTTPGetAction(.., "lifecycle")
        headers = tuple(
            (k, agent if k == "User-Agent" and v.startswith("kube-probe/") else v)
            for k, v in request.headers
        )
        request = replace(request, headers=headers)
        outcome = await http_get(request, math.inf)
        if outcome.detail is not None and "statusCode" in outcome.detail:
            return None  # any answer: the status code is not checked
        return outcome.error or outcome.output

    async def pre_stop(
        self,
        pod: Pod,
        container: Container,
        container_id: str,
        handler: JSON,
        pod_ip: str,
        grace: int,
    ) -> tuple[int, str | None]:
        """`executePreStopHook`: the hook, awaited at most `grace` seconds; (the whole seconds
        it took, its failure message). A hook outliving the grace is abandoned (cancelled here;
        the kubelet leaves its goroutine running)."""
        start = self.clock.monotonic()
        ended = start + grace
        failure: str | None = None
        async with anyio.create_task_group() as tg:

            async def expire() -> None:
                await self.clock.sleep(grace)
                tg.cancel_scope.cancel()

            async def run() -> None:
                nonlocal ended, failure
                failure = await self.run(pod, container, container_id, handler, pod_ip)
                ended = self.clock.monotonic()
                tg.cancel_scope.cancel()

            tg.start_soon(expire)
            tg.start_soon(run)
        return int(ended - start), failure
