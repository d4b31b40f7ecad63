"""A pinned history: the short webapl, readiness fail then pass, liveness fail x3, kill, restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def t(s: float) -> str:
    return (T0 + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def probe(
    s: float, kind: str, result: str, instance: int = 0, changed: bool = False, message: str = ""
) -> dict[str, Any]:
    return {
        "kind": "Probe",
        "probe": kind,
        "container": "webapl",
        "instance": instance,
        "time": t(s),
        "scheduled": t(s),
        "durationMs": 2.5,
        "result": result,
        "message": message,
        "changed": changed,
    }


POD: dict[str, Any] = {
    "metadata": {"name": "webapl", "namespace": "default", "uid": "u1"},
    "spec": {
        "containers": [
            {
                "name": "webapl",
                "image": "webapl:0.1",
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": 3000},
                    "periodSeconds": 1,
                    "failureThreshold": 3,
                },
                "readinessProbe": {
                    "httpGet": {"path": "/ready", "port": 3000},
                    "periodSeconds": 1,
                    "failureThreshold": 3,
                    "initialDelaySeconds": 1,
                },
            }
        ]
    },
    "status": {"startTime": t(0)},
}
ENTRIES: list[dict[str, Any]] = [
    {"kind": "Container", "event": "Started", "container": "webapl", "instance": 0, "time": t(0.5)},
    {"kind": "Condition", "condition": "Ready", "status": "False", "time": t(0), "container": ""},
]
for i in range(1, 12):
    ENTRIES.append(
        probe(
            i + 0.6,
            "readiness",
            "failure" if i < 4 else "success",
            changed=i == 4,
            message="HTTP probe failed with statuscode: 500" if i < 4 else "OK",
        )
    )
    ENTRIES.append(
        probe(
            i + 0.5,
            "liveness",
            "failure" if i >= 9 else "success",
            changed=i == 11,
            message="HTTP probe failed with statuscode: 500" if i >= 9 else "OK",
        )
    )
ENTRIES += [
    {"kind": "Condition", "condition": "Ready", "status": "True", "time": t(5), "container": ""},
    {
        "kind": "Container",
        "event": "Killed",
        "container": "webapl",
        "instance": 0,
        "time": t(11.55),
        "reason": "Killing",
        "message": "Container webapl failed liveness probe, will be restarted",
    },
    {"kind": "Condition", "condition": "Ready", "status": "False", "time": t(12), "container": ""},
    {
        "kind": "Container",
        "event": "Exited",
        "container": "webapl",
        "instance": 0,
        "time": t(13.6),
        "reason": "Error",
        "exitCode": 137,
    },
    {
        "kind": "Container",
        "event": "Started",
        "container": "webapl",
        "instance": 1,
        "time": t(13.9),
    },
]
for i in range(14, 17):
    ENTRIES.append(
        probe(
            i + 0.6,
            "readiness",
            "failure",
            instance=1,
            message="HTTP probe failed with statuscode: 500",
        )
    )
ENTRIES.append(
    probe(
        16.7,
        "liveness",
        "unknown",
        instance=1,
        message='Get "http://172.18.0.2:3000/healthz": context deadline exceeded',
    )
)

# What the node adds to explain (api/history.py): each attempt's threshold count and detail...
_runs: dict[str, tuple[str, int]] = {}
for entry in sorted((r for r in ENTRIES if r["kind"] == "Probe"), key=lambda r: str(r["time"])):
    path = "/healthz" if entry["probe"] == "liveness" else "/ready"
    entry["detail"] = {"handler": "httpGet", "target": f"http://172.18.0.2:3000{path}"}
    if entry["result"] == "unknown":
        entry["count"] = "ignored: errored"
        continue
    last, run = _runs.get(entry["probe"], ("", 0))
    run = run + 1 if last == entry["result"] else 1
    _runs[entry["probe"]] = (entry["result"], run)
    threshold = 1 if entry["result"] == "success" else 3
    entry["count"] = f"{entry['result']} {run} of {threshold}"
    code, body = (200, "ok\n") if entry["result"] == "success" else (500, "unhealthy\n")
    entry["detail"].update(statusCode=code, headerBytes=98, body=body)
_crossed = [
    r for r in ENTRIES if r["kind"] == "Probe" and r["probe"] == "liveness" and r["instance"] == 0
][-3:]
_passed = [r for r in ENTRIES if r["kind"] == "Probe" and r.get("changed")][0]
_kill = {
    "summary": "liveness probe: failure 3 of 3: HTTP probe failed with statuscode: 500",
    "probe": "liveness",
    "container": "webapl",
    "attempts": _crossed,
}
_LOGS = ["GET /healthz 500", "GET /ready 200"]
for entry in ENTRIES:
    if entry.get("event") == "Killed":
        entry["cause"] = _kill
    elif entry.get("event") == "Exited":
        entry["logs"] = _LOGS
    elif entry.get("event") == "Started" and entry["instance"] == 1:
        entry["cause"] = {
            **_kill,
            "summary": f"killed: {_kill['summary']}; then Error (exit code 137)",
            "exitCode": 137,
            "reason": "Error",
            "logs": _LOGS,
        }
    elif entry.get("condition") == "Ready" and entry["status"] == "True":
        entry["cause"] = {
            "summary": "readiness probe: success 1 of 1: OK",
            "probe": "readiness",
            "container": "webapl",
            "attempts": [_passed],
        }
    elif entry.get("condition") == "Ready" and entry["time"] == t(12):
        entry["cause"] = {**_kill, "attempts": _crossed[-1:]}

NOW = T0 + timedelta(seconds=18)

# What the endpoints controller adds when the pod is behind a Service (api/history.py).
ENDPOINTS: list[dict[str, Any]] = [
    {"kind": "Endpoint", "service": "webapl", "state": s, "time": t(at), "address": "172.18.0.2",
     "container": ""}
    for at, s in ((0.3, "notReady"), (5.04, "ready"), (12.03, "notReady"))
]  # fmt: skip
