"""exec probes (`pkg/probe/exec/exec.go`, `prober.go` `newExecInContainer`).

The command runs through the runtime (CRI `ExecSync` in the kubelet), never through a shell
of ours. Only `$(VAR)` references to the container's static env are expanded
(`ExpandContainerCommandOnlyStatic`). Output is stdout then stderr, capped at 10 KiB.
"""

from __future__ import annotations

import anyio

from minikubelet.api.models import Container
from minikubelet.errors import MinikubeletError
from minikubelet.prober.outcome import ProbeOutcome, first_bytes
from minikubelet.runtime.types import ExecResult, Runtime

__all__ = ["MAX_EXEC_OUTPUT", "RUNTIME_REQUEST_TIMEOUT", "exec_probe", "expand", "expand_command"]

MAX_EXEC_OUTPUT = 10 * 1024  # maxReadLength
# The kubelet's deadline for the whole `ExecSync` call: its runtime request timeout (2 min)
# plus the probe's (`remote_runtime.go` `ExecSync`). timeoutSeconds itself is the runtime's,
# counted from the process's start; waiting for the engine before that does not count against
# it, so a busy engine does not turn a healthy container's probe into a timeout (issue 20).
RUNTIME_REQUEST_TIMEOUT = 120.0


def expand(text: str, env: dict[str, str]) -> str:
    """`third_party/forked/golang/expansion.Expand`: `$(VAR)` → its value when VAR is defined,
    else left as written; `$$` → `$`; an unterminated `$(` stays."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1 :]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = rest[1:close]
                    out.append(env[name] if name in env else f"$({name})")
                    advance = close + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def expand_command(command: list[str], container: Container) -> list[str]:
    """`ExpandContainerCommandOnlyStatic`: names map to their `value`; an entry set through
    `valueFrom` has no static value and maps to "" (`EnvVarsToMap` reads only `.Value`)."""
    env = {var.name: var.value or "" for var in container.env or ()}
    return [expand(arg, env) for arg in command]


async def exec_probe(
    runtime: Runtime, container_id: str, argv: list[str], timeout: float
) -> ProbeOutcome:
    """Exit 0 → success; non-zero → failure with the output; past the timeout (the runtime's,
    from the process's start) → failure `command "<argv>" timed out`, as it is past the
    kubelet's own deadline for the call; a runtime error (container gone) → errored."""
    timed_out_text = f'command "{" ".join(argv)}" timed out'
    try:
        with anyio.move_on_after(RUNTIME_REQUEST_TIMEOUT + timeout):
            result = await runtime.exec(container_id, argv, timeout)
            if result.timed_out:
                return ProbeOutcome.failure(timed_out_text).with_detail(**_detail(result))
            output = result.output[:MAX_EXEC_OUTPUT].decode("utf-8", errors="replace")
            if result.exit_code == 0:
                return ProbeOutcome.success(output).with_detail(**_detail(result))
            return ProbeOutcome.failure(output).with_detail(**_detail(result))
    except MinikubeletError as exc:
        return ProbeOutcome.errored(str(exc))
    return ProbeOutcome.failure(timed_out_text).with_detail(timedOut=True)


def _detail(result: ExecResult) -> dict[str, str | int | None]:
    """The exit code and the first bytes of stdout and stderr (of the output when the runtime
    did not tell them apart)."""
    apart = result.stdout is not None and result.stderr is not None
    return {
        "exitCode": result.exit_code,
        "timedOut": True if result.timed_out else None,
        "stdout": first_bytes(result.stdout or b"") if apart else None,
        "stderr": first_bytes(result.stderr or b"") if apart else None,
        "output": None if apart else first_bytes(result.output),
    }
