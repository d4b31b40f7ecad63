"""Why, in words: a probe attempt's detail, and the cause of a kill, a restart or a Ready change
as the `timeline` command prints them under its chart (the shapes are in `api/history.py`).

    detail_text({"statusCode": 500, "headerBytes": 98, "body": "unhealthy"})
        -> 'HTTP 500, headers 98 B, body "unhealthy"'
    cause_lines(cause, start, indent) -> the summary, then each attempt of the run that crossed
        the threshold, how the container ended and the last lines it logged
    endpoint_changes(timeline) -> each move of the pod in or out of a Service's Endpoints
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from minikubelet.api.codec import parse_time
from minikubelet.api.raw import JSON

if TYPE_CHECKING:
    from minikubelet.printers.timeline import Timeline

__all__ = ["cause_lines", "detail_text", "endpoint_changes", "log_lines", "quote", "restarts"]

_SHOWN = 60  # characters of a body, stdout or stderr in one line


def quote(text: str, limit: int = _SHOWN) -> str:
    """A JSON string of the first `limit` characters (... when cut): control bytes and
    non-ASCII stay visible, and a piped chart stays ASCII."""
    return json.dumps(text[:limit]) + ("..." if len(text) > limit else "")


def detail_text(detail: JSON | None) -> str:
    """One line of what the handler saw (empty without a detail)."""
    if not detail:
        return ""
    parts: list[str] = []
    if "exitCode" in detail:
        parts.append(f"exit {detail['exitCode']}")
    if detail.get("timedOut"):
        parts.append("timed out")
    for stream in ("stdout", "stderr", "output"):
        if detail.get(stream):
            parts.append(f"{stream} {quote(str(detail[stream]))}")
    if "statusCode" in detail:
        parts.append(f"HTTP {detail['statusCode']}")
        parts.append(f"headers {detail.get('headerBytes', 0)} B")
        parts.append(f"body {quote(str(detail.get('body', '')))}")
    if detail.get("servingStatus"):
        parts.append(str(detail["servingStatus"]))
    if detail.get("connected"):
        parts.append("connected")
    if detail.get("error") and "statusCode" not in detail:
        parts.append(str(detail["error"]))
    return ", ".join(parts)


def _seconds(stamp: str | None, start: datetime) -> str:
    if not stamp:
        return "     -"
    return f"{(parse_time(stamp) - start).total_seconds():6.1f}s"


def attempt_line(attempt: JSON, start: datetime) -> str:
    """`  9.0s  liveness  failure 1 of 3  HTTP probe failed ...  (HTTP 500, ...)`."""
    message = " ".join(str(attempt.get("message") or "").split())
    if len(message) > 100:
        message = message[:100] + "..."
    extra = detail_text(attempt.get("detail"))
    parts = [
        _seconds(attempt.get("time"), start),
        str(attempt.get("probe", "")),
        str(attempt.get("count") or attempt.get("result", "")),
        message,
    ]
    line = "  ".join(p for p in parts if p)
    return f"{line}  ({extra})" if extra else line


def cause_lines(cause: JSON | None, start: datetime, indent: int = 13) -> list[str]:
    """The cause under its kill, restart or Ready change: `because ...`, then the details."""
    if not cause:
        return []
    pad = " " * indent
    out = [f"{pad}because {cause.get('summary', '')}"]
    for attempt in cause.get("attempts") or []:
        out.append(f"{pad}  {attempt_line(attempt, start)}")
    logs = cause.get("logs") or []
    if logs:
        out.append(f"{pad}  last lines logged:")
        out += [f"{pad}    {line}" for line in logs]
    return out


def log_lines(logs: list[str] | None, indent: int = 13) -> list[str]:
    """An exit's last lines logged."""
    if not logs:
        return []
    pad = " " * indent
    return [f"{pad}last lines logged:", *(f"{pad}  {line}" for line in logs)]


def restarts(timeline: Timeline) -> list[str]:
    """One line per kill, exit and restart: when, which instance, and why (the probe attempts
    that crossed the threshold, the last lines logged); then each Ready change and why."""
    start = timeline.started
    notes = []
    for row in timeline.containers:
        for mark in row.marks:
            instance = f"{row.container} #{mark.instance}"
            if mark.what == "Killed":
                notes.append(f"  {mark.at:6.1f}s  killed   {instance}: {mark.note}")
                notes += cause_lines(mark.cause, start)
            elif mark.what == "Exited":
                notes.append(f"  {mark.at:6.1f}s  exited   {instance}: {mark.note}")
                notes += log_lines(list(mark.logs))
            elif mark.what == "Started" and mark.instance > 0:
                notes.append(f"  {mark.at:6.1f}s  started  {instance} (restart {mark.instance})")
                if mark.cause:  # the attempts and lines are under the kill and the exit
                    notes += cause_lines({"summary": mark.cause.get("summary")}, start)
    out = ["restarts:", *notes] if notes else []
    changes = []
    for (at, value), cause in zip(timeline.ready, timeline.ready_causes, strict=False):
        if cause is not None and at >= timeline.origin:
            changes.append(f"  {at:6.1f}s  Ready={value}")
            changes += cause_lines(cause, start)
    return out + (["Ready changes:", *changes] if changes else [])


def endpoint_changes(timeline: Timeline) -> list[str]:
    """One line per move of the pod in or out of a Service's Endpoints."""
    words = {
        "ready": "ready: in addresses, new connections may reach it",
        "notReady": "not ready: in notReadyAddresses, no new connections",
        "removed": "removed from the Endpoints",
    }
    moves = sorted(
        (at, name, address, state)
        for name, changes in timeline.endpoints.items()
        for at, state, address in changes
        if at >= timeline.origin
    )
    lines = [
        f"  {at:6.1f}s  svc/{name}  {address}  {words.get(state, state)}"
        for at, name, address, state in moves
    ]
    return ["Service endpoints:", *lines] if lines else []
