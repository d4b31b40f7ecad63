"""Why a container was killed, why it restarted, why the pod's Ready changed: pure functions of
the pod (JSON, as stored), the `Killing` event's message and the probe runs that crossed a
threshold (`prober/runs.py`). The shape of a `cause` is in `api/history.py`.

    kill_cause(container, message, crossed)        the liveness/startup run that crossed
    restart_cause(status, kill, logs)              how the previous instance ended, and why
    ready_cause(pod, status, crossed)              the readiness runs, or what is not running
"""

from __future__ import annotations

from collections.abc import Callable

from minikubelet.api.raw import JSON

__all__ = ["Crossed", "attempt_summary", "kill_cause", "ready_cause", "restart_cause"]

Crossed = Callable[[str, str], list[JSON]]  # (container, probe kind) -> the run that crossed


def attempt_summary(probe: str, attempt: JSON) -> str:
    """`liveness probe: failure 3 of 3: HTTP probe failed with statuscode: 500`."""
    parts = [f"{probe} probe"]
    if attempt.get("count"):
        parts.append(str(attempt["count"]))
    message = " ".join(str(attempt.get("message") or "").split())
    if message:
        parts.append(message[:200])
    return ": ".join(parts)


def _probe_cause(container: str, probe: str, run: list[JSON]) -> JSON:
    return {
        "summary": attempt_summary(probe, run[-1]),
        "probe": probe,
        "container": container,
        "attempts": run,
    }


def kill_cause(container: str, message: str, crossed: Crossed) -> JSON | None:
    """The run behind a `Killing` event that names a failed probe; None for other kills
    (a deletion's `Stopping container`)."""
    for probe in ("liveness", "startup"):
        if f"failed {probe} probe" in message:
            run = crossed(container, probe)
            if run and run[-1].get("result") == "failure":
                return _probe_cause(container, probe, run)
            return {"summary": message, "probe": probe, "container": container}
    return None


def _ended(terminated: JSON) -> str:
    reason = terminated.get("reason") or "Exited"
    return f"{reason} (exit code {int(terminated.get('exitCode') or 0)})"


def restart_cause(status: JSON, kill: JSON | None, logs: list[str] | None) -> JSON:
    """A restarted container's cause, from its status's `lastState.terminated` and the cause
    of the kill that ended it (None when it exited by itself)."""
    terminated = (status.get("lastState") or {}).get("terminated") or {}
    ended = _ended(terminated)
    cause: JSON = dict(kill) if kill else {"container": str(status.get("name", ""))}
    cause["summary"] = f"killed: {kill['summary']}; then {ended}" if kill else f"exited: {ended}"
    if terminated:
        cause["exitCode"] = int(terminated.get("exitCode") or 0)
        cause["reason"] = str(terminated.get("reason") or "")
    if logs:
        cause["logs"] = logs
    return cause


def _not_running(item: JSON) -> str | None:
    state = item.get("state") or {}
    name = item.get("name", "")
    if state.get("terminated"):
        return f"{name} is not running: {_ended(state['terminated'])}"
    if state.get("waiting"):
        return f"{name} is not running: {state['waiting'].get('reason') or 'Waiting'}"
    return None


def _gate_opened(pod: JSON) -> JSON | None:
    """The readiness gate that let the pod turn Ready: its condition turned True no earlier
    than ContainersReady did (RFC 3339 seconds compare as text)."""
    gates = [
        str(g.get("conditionType") or "")
        for g in (pod.get("spec") or {}).get("readinessGates") or []
    ]
    conditions = {str(c.get("type")): c for c in (pod.get("status") or {}).get("conditions") or []}
    opened = [conditions[g] for g in gates if conditions.get(g, {}).get("status") == "True"]
    if not opened:
        return None
    last = max(opened, key=lambda c: str(c.get("lastTransitionTime") or ""))
    containers = str((conditions.get("ContainersReady") or {}).get("lastTransitionTime") or "")
    if str(last.get("lastTransitionTime") or "") < containers:
        return None
    words = ": ".join(x for x in (last.get("reason"), last.get("message")) if x)
    summary = f"readiness gate {last.get('type')} is True" + (f" ({words})" if words else "")
    return {"summary": summary}


def ready_cause(pod: JSON, status: str, crossed: Crossed) -> JSON:
    """Why Ready became `status`: for True the readiness gate whose condition turned True last,
    if none of the containers became ready after it, else the readiness runs that passed; for
    False the first container that is not running, failed its readiness probe or is being
    killed."""
    items = (pod.get("status") or {}).get("containerStatuses") or []
    if status == "True":
        gate = _gate_opened(pod)
        if gate is not None:
            return gate
        runs = [(i["name"], crossed(i["name"], "readiness")) for i in items]
        passed = [(n, r) for n, r in runs if r and r[-1].get("result") == "success"]
        if passed:
            name, run = max(passed, key=lambda nr: str(nr[1][-1].get("time", "")))
            return _probe_cause(name, "readiness", run)
        return {"summary": "every container is running and started (no readiness probe failed)"}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return {"summary": "the pod is being deleted"}
    for item in items:
        if item.get("ready"):
            continue
        name = str(item.get("name", ""))
        gone = _not_running(item)
        if gone:
            return {"summary": gone, "container": name}
        for probe in ("readiness", "liveness", "startup"):
            run = crossed(name, probe)
            if run and run[-1].get("result") == "failure":
                return _probe_cause(name, probe, run)
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            text = ": ".join(x for x in (condition.get("reason"), condition.get("message")) if x)
            return {"summary": text or "not ready"}
    return {"summary": "not ready"}
