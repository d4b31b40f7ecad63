"""A pod's probe history as `probes` rows and as a terminal timeline: pure functions of the pod,
its history entries (as served: JSON, read once with `api/history.py`) and `now`.

    build_timeline(pod, items, now, since) ─▶ Timeline ─┬─ render_text(…, width, style)
                                                        └─ timeline_svg.render_svg(…)
    probe_table(items, …)                   ─▶ the `probes` command's lines (TabWriter(6, 3))

Time runs on x in seconds since the pod started (`status.startTime`). One row per (container,
probe kind), its thresholds beside it; one row per container for its starts, kills and exits;
one row for Ready; one per Service whose Endpoints listed the pod (`svc/NAME`: ready there, or
not), so the chart shows when a readiness change reached the traffic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from minikubelet.api.codec import parse_time
from minikubelet.api.history import (
    ConditionEntry,
    ContainerEntry,
    EndpointEntry,
    HistoryEntry,
    ProbeEntry,
    entries_from_json,
    entry_from_json,
)
from minikubelet.api.raw import JSON
from minikubelet.printers.causes import detail_text, endpoint_changes, restarts
from minikubelet.printers.duration import human_duration
from minikubelet.printers.tabwriter import TabWriter

__all__ = [
    "Style",
    "Timeline",
    "build_timeline",
    "endpoint_states",
    "format_latency",
    "micros",
    "probe_line",
    "probe_lines",
    "probe_table",
    "render_text",
    "state_at",
]

KINDS = ("startup", "liveness", "readiness")
_RANK = {"success": 0, "unknown": 1, "failure": 2}
_EVENT_RANK = {"Exited": 0, "Started": 1, "Killed": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STEPS = (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_MICROS = 1_000_000


def micros(seconds: float) -> int:
    """Seconds as whole microseconds, the resolution of the entries' times (each `at` is a
    timedelta's total_seconds(), so this recovers its exact count). Columns are placed in these
    integers: in binary floating point 4.6 // 0.2 is 22.0, one column early."""
    return round(seconds * _MICROS)


@dataclass(frozen=True)
class Mark:
    at: float  # seconds since the pod started
    what: str  # success | failure | unknown (probes); Started | Killed | Exited (containers)
    instance: int = 0
    note: str = ""
    cause: JSON | None = None  # kills and restarts: why (api/history.py)
    logs: tuple[str, ...] = ()  # exits: the last lines logged


@dataclass
class Row:
    label: str
    thresholds: str = ""
    container: str = ""
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Timeline:
    name: str
    started: datetime
    origin: float  # the first second shown (--since moves it)
    end: float
    probes: list[Row]
    containers: list[Row]
    ready: list[tuple[float, bool]]  # (since, ready) transitions of the Ready condition
    ready_causes: list[JSON | None] = field(default_factory=list)  # beside `ready`
    # per Service (by name): (since, state, address), state ready | notReady | removed
    endpoints: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)


def _order(entry: HistoryEntry) -> tuple[datetime, int]:
    return (parse_time(entry.time) if entry.time else _EPOCH), entry.seq or 0


def _seconds(stamp: str | None, start: datetime) -> float | None:
    return None if not stamp else (parse_time(stamp) - start).total_seconds()


def thresholds(probe: JSON) -> str:
    """`period=5s #failure=3`, with the delay, timeout and #success when not the defaults."""
    parts = []
    if probe.get("initialDelaySeconds"):
        parts.append(f"delay={probe['initialDelaySeconds']}s")
    if (probe.get("timeoutSeconds") or 1) != 1:
        parts.append(f"timeout={probe['timeoutSeconds']}s")
    parts.append(f"period={probe.get('periodSeconds') or 10}s")
    if (probe.get("successThreshold") or 1) != 1:
        parts.append(f"#success={probe['successThreshold']}")
    parts.append(f"#failure={probe.get('failureThreshold') or 3}")
    return " ".join(parts)


def pod_start(pod: JSON, items: list[JSON]) -> datetime:
    status, meta = pod.get("status") or {}, pod.get("metadata") or {}
    stamp = status.get("startTime") or meta.get("creationTimestamp")
    if stamp:
        return parse_time(str(stamp))
    times = [parse_time(e.time) for e in entries_from_json(items) if e.time]
    return min(times) if times else _EPOCH


def build_timeline(
    pod: JSON, items: list[JSON], now: datetime, since: float | None = None
) -> Timeline:
    """The picture's data: rows in spec order, marks in time order, x from the pod's start (or
    `since` seconds before `now`) to `now`."""
    start = pod_start(pod, items)
    end = max((now - start).total_seconds(), 1.0)
    origin = max(0.0, end - since) if since else 0.0
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    probes: dict[tuple[str, str], Row] = {}
    lifecycle: dict[str, Row] = {}
    many = len(containers) > 1
    for c in containers:
        label = f"{c['name']} container" if many else "container"
        lifecycle[c["name"]] = Row(label, container=c["name"])
        for kind in KINDS:
            if c.get(f"{kind}Probe"):
                label = f"{c['name']} {kind}" if many else kind
                probes[(c["name"], kind)] = Row(label, thresholds(c[f"{kind}Probe"]))
    ready: list[tuple[float, bool]] = []
    ready_causes: list[JSON | None] = []
    endpoints: dict[str, list[tuple[float, str, str]]] = {}
    for entry in sorted(entries_from_json(items), key=_order):
        at = _seconds(entry.time, start)
        if at is None:
            continue
        name = entry.container
        if isinstance(entry, ProbeEntry):
            row = probes.get((name, entry.probe))
            if row is not None and at >= origin:
                row.marks.append(Mark(at, entry.result, entry.instance))
        elif isinstance(entry, ContainerEntry) and name in lifecycle and at >= origin:
            note = entry.message or entry.reason or ""
            if entry.event == "Exited":
                reason = entry.reason or "Exited"
                note = f"{reason} (exit code {entry.exitCode or 0})"
            logs = tuple(entry.logs or ())
            mark = Mark(at, entry.event, entry.instance, note, entry.cause, logs)
            lifecycle[name].marks.append(mark)
        elif isinstance(entry, ConditionEntry) and entry.condition == "Ready":
            ready.append((at, entry.status == "True"))
            ready_causes.append(entry.cause)
        elif isinstance(entry, EndpointEntry):
            endpoints.setdefault(entry.service, []).append((at, entry.state, entry.address))
    return Timeline(
        str((pod.get("metadata") or {}).get("name", "")),
        start,
        origin,
        end,
        list(probes.values()),
        list(lifecycle.values()),
        ready,
        ready_causes,
        endpoints,
    )


def state_at(changes: Sequence[tuple[float, bool | None]], t: float) -> bool | None:
    """The state (Ready, or a ready endpoint) at `t`, None before the first change."""
    state: bool | None = None
    for at, value in changes:
        if at > t:
            break
        state = value
    return state


def _state_before(changes: Sequence[tuple[float, bool | None]], end_us: int) -> bool | None:
    """The state a column ends with: the last change before `end_us` (None: none yet)."""
    state: bool | None = None
    for at, value in changes:
        if micros(at) >= end_us:
            break
        state = value
    return state


def endpoint_states(timeline: Timeline) -> dict[str, list[tuple[float, bool | None]]]:
    """Per `svc/NAME` row: (since, True when a ready address, False when a not-ready one,
    None when out of the Endpoints)."""
    states = {"ready": True, "notReady": False}
    return {
        f"svc/{name}": [(at, states.get(state)) for at, state, _ in changes]
        for name, changes in timeline.endpoints.items()
    }


# -- the terminal picture ----------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    unicode: bool = False
    color: bool = False

    def glyph(self, what: str) -> str:
        ascii_ = {"success": "+", "failure": "x", "unknown": "?", "ready": "#", "unready": "_"}
        fancy = {"success": "●", "failure": "✗", "unknown": "?", "ready": "█", "unready": "▁"}
        letters = {"Started": "S", "Killed": "K", "Exited": "E"}
        text = letters.get(what) or (fancy if self.unicode else ascii_)[what]
        return self.paint(what, text)

    def paint(self, what: str, text: str) -> str:
        codes = {
            "success": "32",
            "ready": "32",
            "failure": "31",
            "Killed": "1;31",
            "unknown": "33",
            "Exited": "33",
            "Started": "1;36",
            "unready": "2",
            "dim": "2",
        }
        if not self.color or what not in codes:
            return text
        return f"\x1b[{codes[what]}m{text}\x1b[0m"


def _step(span: float, columns: int) -> float:
    for step in _STEPS:
        if micros(span) <= columns * micros(step):
            return float(step)
    return float(math.ceil(span / columns))


def _fmt_seconds(value: float) -> str:
    return f"{value:g}"


def render_text(timeline: Timeline, width: int = 100, style: Style | None = None) -> str:
    """The chart, `width` columns wide at most; ends with a newline."""
    style = style or Style()
    rows = [*timeline.probes, *timeline.containers]
    services = endpoint_states(timeline)
    labels = [r.label for r in rows] + ["Ready", *services]
    label_w = max(len(x) for x in labels)
    limits_w = max([len(r.thresholds) for r in rows] + [0])
    left = label_w + 2 + (limits_w + 2 if limits_w else 0)
    columns = max(10, width - left - 1)
    span = max(timeline.end - timeline.origin, 1.0)
    step = _step(span, columns)
    origin_us, step_us = micros(timeline.origin), micros(step)
    used = min(columns, -(-micros(span) // step_us) + 1)

    def column(at: float) -> int | None:
        index = (micros(at) - origin_us) // step_us
        return index if 0 <= index < used else None

    out = [
        f"POD {timeline.name}   x: seconds since the pod started "
        f"({timeline.started.strftime('%Y-%m-%dT%H:%M:%SZ')}), 1 column = "
        f"{_fmt_seconds(step)}s",
        "",
        " " * left + _axis(timeline.origin, step, used),
    ]
    for row in timeline.probes:
        out.append(_head(row, label_w, limits_w) + _cells(row, column, used, style, _RANK))
    for row in timeline.containers:
        out.append(_head(row, label_w, limits_w) + _cells(row, column, used, style, _EVENT_RANK))
    ends = [origin_us + (index + 1) * step_us for index in range(used)]
    series: list[tuple[str, Sequence[tuple[float, bool | None]]]] = [("Ready", timeline.ready)]
    for label, changes in series + list(services.items()):
        states = [_state_before(changes, end) for end in ends]
        cells = [" " if s is None else style.glyph("ready" if s else "unready") for s in states]
        out.append(_head(Row(label), label_w, limits_w) + "".join(cells).rstrip())
    out.append("")
    legend = [
        ("success", "pass"),
        ("failure", "fail"),
        ("unknown", "unknown (errored)"),
        ("Started", "started"),
        ("Killed", "killed"),
        ("Exited", "exited"),
        ("ready", "Ready"),
        ("unready", "not Ready"),
    ]
    out.append("legend: " + "  ".join(f"{style.glyph(k)} {text}" for k, text in legend))
    if services:
        ready, unready = style.glyph("ready"), style.glyph("unready")
        out.append(
            f"        svc/NAME: {ready} ready in the Service's Endpoints (gets new connections)"
            f"  {unready} not ready there"
        )
    out += restarts(timeline) + endpoint_changes(timeline)
    return "\n".join(out) + "\n"


def _head(row: Row, label_w: int, limits_w: int) -> str:
    head = row.label.ljust(label_w + 2)
    if limits_w:
        head += row.thresholds.ljust(limits_w + 2)
    return head


def _cells(row: Row, column: Any, used: int, style: Style, rank: dict[str, int]) -> str:
    cells: dict[int, str] = {}
    for mark in row.marks:
        index = column(mark.at)
        if index is None:
            continue
        if index not in cells or rank.get(mark.what, 0) >= rank.get(cells[index], 0):
            cells[index] = mark.what
    return "".join(style.glyph(cells[i]) if i in cells else " " for i in range(used)).rstrip()


def _axis(origin: float, step: float, used: int) -> str:
    """Tick labels every 10 columns, each written from its column."""
    line = [" "] * (used + 8)
    for index in range(0, used, 10):
        text = _fmt_seconds(round(origin + index * step, 3))
        for offset, char in enumerate(text):
            if index + offset < len(line):
                line[index + offset] = char
    return "".join(line).rstrip()


# -- the `probes` table ------------------------------------------------------------------------


def format_latency(ms: float) -> str:
    return f"{ms:.0f}ms" if ms < 1000 else f"{ms / 1000:.2f}s"


def _since(seconds: float) -> str:
    if seconds < 100:
        return f"{max(seconds, 0.0):.1f}s"
    return human_duration(timedelta(seconds=seconds))


def container_starts(items: list[JSON]) -> dict[tuple[str, int], datetime]:
    """When each (container, instance) started, from the history's Started entries."""
    starts: dict[tuple[str, int], datetime] = {}
    for e in entries_from_json(items):
        if isinstance(e, ContainerEntry) and e.event == "Started" and e.time:
            starts[(e.container, e.instance)] = parse_time(e.time)
    return starts


def probe_line(
    item: JSON, starts: dict[tuple[str, int], datetime], fallback: datetime, wide: bool = False
) -> str:
    """One tab-separated row: TIME CONTAINER PROBE RESULT COUNT LATENCY MESSAGE [DETAIL]."""
    entry = entry_from_json(item)
    assert isinstance(entry, ProbeEntry), "probe_line takes probe attempts"
    return _probe_line(entry, starts, fallback, wide)


def _probe_line(
    entry: ProbeEntry, starts: dict[tuple[str, int], datetime], fallback: datetime, wide: bool
) -> str:
    name, instance = entry.container, entry.instance
    began = starts.get((name, instance), fallback)
    at = (parse_time(entry.time) - began).total_seconds()
    result = entry.result.capitalize()
    if entry.changed:
        result += " (changed)"
    shown = name if instance == 0 else f"{name}#{instance}"
    message = " ".join(entry.message.split())
    latency = format_latency(entry.durationMs)
    cells = [_since(at), shown, entry.probe, result, entry.count or "-", latency, message]
    if wide:
        cells.append(detail_text(entry.detail) or "-")
    return "\t".join(cells)


HEADER = "TIME\tCONTAINER\tPROBE\tRESULT\tCOUNT\tLATENCY\tMESSAGE"


def probe_lines(items: list[JSON], pod: JSON, tail: int = -1, *, wide: bool = False) -> str:
    """The header and the attempts in time order (the last `tail` if ≥ 0), tab-separated;
    `wide` adds what the handler saw (DETAIL)."""
    probes = [e for e in entries_from_json(items) if isinstance(e, ProbeEntry)]
    attempts = sorted(probes, key=_order)
    if tail >= 0:
        attempts = attempts[len(attempts) - tail :] if tail else []
    starts, fallback = container_starts(items), pod_start(pod, items)
    header = HEADER + ("\tDETAIL" if wide else "")
    lines = [header, *(_probe_line(e, starts, fallback, wide) for e in attempts)]
    return "\n".join(lines) + "\n"


def probe_table(items: list[JSON], pod: JSON, tail: int = -1) -> str:
    """The `probes` command's output, laid out by kubectl's TabWriter(6, 3)."""
    return TabWriter(6, 3).format(probe_lines(items, pod, tail))
