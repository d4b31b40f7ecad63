"""The timeline as a standalone SVG (`timeline POD -o svg`): the same rows as the terminal chart,
drawn to scale, readable in any browser. Pure: a `Timeline` in, the document's text out."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from minikubelet.printers.causes import endpoint_changes, restarts
from minikubelet.printers.timeline import (
    Mark,
    Row,
    Timeline,
    endpoint_states,
    state_at,
)

__all__ = ["render_svg"]

_COLORS = {
    "success": "#2e9d4f",
    "failure": "#d2352b",
    "unknown": "#e0a100",
    "Started": "#1778c2",
    "Killed": "#d2352b",
    "Exited": "#8a6d00",
    "ready": "#2e9d4f",
    "unready": "#c9ccd1",
}
_ROW_H, _TOP, _LEFT, _PLOT_W = 34, 70, 360, 860
_TICKS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)


def _tick(span: float) -> float:
    for step in _TICKS:
        if span / step <= 12:
            return float(step)
    return float(math.ceil(span / 12))


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _mark(x: float, y: float, mark: Mark) -> str:
    color = _COLORS.get(mark.what, "#555")
    title = f"<title>{escape(mark.what)} at {mark.at:.2f}s (#{mark.instance})</title>"
    if mark.what == "success":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}">{title}</circle>'
    if mark.what == "failure":
        d = 5
        return (
            f'<path d="M{x - d:.1f},{y - d:.1f} L{x + d:.1f},{y + d:.1f} M{x - d:.1f},{y + d:.1f}'
            f' L{x + d:.1f},{y - d:.1f}" stroke="{color}" stroke-width="2.5">{title}</path>'
        )
    if mark.what == "unknown":
        return (
            f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y + 5:.1f} L{x - 6:.1f},{y + 5:.1f} Z"'
            f' fill="{color}">{title}</path>'
        )
    letter = {"Started": "S", "Killed": "K", "Exited": "E"}.get(mark.what, "?")
    return (
        f'<g>{title}<rect x="{x - 8:.1f}" y="{y - 9:.1f}" width="16" height="18" rx="3"'
        f' fill="{color}"/>'
        + _text(x, y + 5, letter, fill="#fff", text_anchor="middle", font_weight="bold")
        + "</g>"
    )


def render_svg(timeline: Timeline) -> str:
    """A self-contained SVG document of the timeline."""
    rows: list[Row] = [*timeline.probes, *timeline.containers]
    bars: list[tuple[str, Sequence[tuple[float, bool | None]]]] = [("Ready", timeline.ready)]
    bars += endpoint_states(timeline).items()
    span = max(timeline.end - timeline.origin, 1.0)
    notes = restarts(timeline) + endpoint_changes(timeline)
    height = _TOP + (len(rows) + len(bars)) * _ROW_H + 90 + 16 * len(notes)
    width = _LEFT + _PLOT_W + 40

    def x_of(at: float) -> float:
        return _LEFT + (at - timeline.origin) / span * _PLOT_W

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif"'
        ' font-size="13">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(
            20,
            28,
            f"Pod {timeline.name}: probes, readiness and restarts",
            font_size="18",
            font_weight="bold",
        ),
        _text(
            20,
            48,
            "x: seconds since the pod started at "
            + timeline.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            fill="#555",
        ),
    ]
    bottom = _TOP + (len(rows) + len(bars)) * _ROW_H
    limits_x = 36 + 8 * max([len(r.label) for r in rows] + [len(b[0]) for b in bars])
    step = _tick(span)
    tick = math.ceil(timeline.origin / step) * step
    while tick <= timeline.origin + span + 1e-9:
        x = x_of(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e5e8"/>'
        )
        out.append(_text(x, bottom + 16, f"{tick:g}", text_anchor="middle", fill="#555"))
        tick += step
    out.append(
        _text(
            _LEFT + _PLOT_W / 2,
            bottom + 34,
            "seconds since pod start",
            text_anchor="middle",
            fill="#555",
        )
    )
    for row in timeline.containers:
        for mark in row.marks:
            if mark.what in ("Killed", "Started") and mark.at >= timeline.origin:
                color = _COLORS[mark.what]
                out.append(
                    f'<line x1="{x_of(mark.at):.1f}" y1="{_TOP - 6}" x2="{x_of(mark.at):.1f}"'
                    f' y2="{bottom}" stroke="{color}" stroke-dasharray="4 3"'
                    ' stroke-opacity="0.6"/>'
                )
    for index, row in enumerate(rows):
        y = _TOP + index * _ROW_H + _ROW_H / 2
        out.append(_text(20, y + 4, row.label, font_weight="bold"))
        out.append(_text(limits_x, y + 4, row.thresholds, fill="#555", font_size="12"))
        out.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + _PLOT_W}" y2="{y:.1f}"'
            ' stroke="#f0f1f3"/>'
        )
        out += [_mark(x_of(m.at), y, m) for m in row.marks]
    for index, (label, changes) in enumerate(bars):
        y = _TOP + (len(rows) + index) * _ROW_H + _ROW_H / 2
        out.append(_text(20, y + 4, label, font_weight="bold"))
        out += _bars(timeline, changes, y, x_of, span)
    legend_y = bottom + 60
    x = 20.0
    for what, text in (
        ("success", "pass"),
        ("failure", "fail"),
        ("unknown", "unknown (errored)"),
        ("Started", "started"),
        ("Killed", "killed"),
        ("Exited", "exited"),
    ):
        out.append(_mark(x + 6, legend_y - 4, Mark(0, what)))
        out.append(_text(x + 18, legend_y, text))
        x += 40 + 8 * len(text)
    for what, text in (("ready", "Ready"), ("unready", "not Ready")):
        out.append(
            f'<rect x="{x:.1f}" y="{legend_y - 11}" width="22" height="12" fill="{_COLORS[what]}"/>'
        )
        out.append(_text(x + 28, legend_y, text))
        x += 46 + 8 * len(text)
    for n, note in enumerate(notes):
        out.append(_text(20, legend_y + 24 + 16 * n, note.strip(), fill="#333", font_size="12"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _bars(
    timeline: Timeline,
    changes: Sequence[tuple[float, bool | None]],
    y: float,
    x_of: Callable[[float], float],
    span: float,
) -> list[str]:
    """Spans of Ready (or of a ready endpoint) as bars: green when ready, grey when not, none
    when unknown (or out of the Endpoints)."""
    edges = sorted(
        {timeline.origin, timeline.origin + span}
        | {at for at, _ in changes if timeline.origin < at < timeline.end}
    )
    out = []
    for start, end in zip(edges, edges[1:], strict=False):
        state = state_at(changes, start + 1e-9)
        if state is None:
            continue
        color = _COLORS["ready" if state else "unready"]
        x0, x1 = x_of(start), x_of(end)
        out.append(
            f'<rect x="{x0:.1f}" y="{y - 7:.1f}" width="{max(x1 - x0, 0.5):.1f}"'
            f' height="14" fill="{color}"><title>{"Ready" if state else "not Ready"}'
            f" {start:.1f}s–{end:.1f}s</title></rect>"
        )
    return out
