"""The timeline and the probes table from a pinned history: exact text out (ASCII goldens),
each mark's column checked against its entry's time in decimal arithmetic (so a golden cannot
keep a placement bug), and an SVG that is well-formed XML with a mark per attempt."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from minikubelet.printers.timeline import Style, build_timeline, probe_table, render_text
from minikubelet.printers.timeline_svg import render_svg
from tests.printers.timeline_data import ENDPOINTS, ENTRIES, NOW, POD, T0

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_ascii_timeline() -> None:
    _golden("timeline.txt", render_text(build_timeline(POD, ENTRIES, NOW), 100))


def test_since_cuts_the_left_of_the_chart() -> None:
    _golden("timeline-since.txt", render_text(build_timeline(POD, ENTRIES, NOW, 8.0), 100))


def test_a_services_endpoints_get_a_row_and_their_changes() -> None:
    text = render_text(build_timeline(POD, ENTRIES + ENDPOINTS, NOW), 100)
    _golden("timeline-endpoints.txt", text)
    lines = text.splitlines()
    ready = next(line for line in lines if line.startswith("Ready "))
    svc = next(line for line in lines if line.startswith("svc/webapl "))
    assert len(svc) == len(ready), "in and out of the Endpoints as Ready went, here at once"
    assert lines[-3:] == [
        "     0.3s  svc/webapl  172.18.0.2  not ready: in notReadyAddresses, no new connections",
        "     5.0s  svc/webapl  172.18.0.2  ready: in addresses, new connections may reach it",
        "    12.0s  svc/webapl  172.18.0.2  not ready: in notReadyAddresses, no new connections",
    ]
    svg = ET.fromstring(render_svg(build_timeline(POD, ENTRIES + ENDPOINTS, NOW)))
    texts = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "svc/webapl" in texts


def _seconds(moment: datetime) -> Decimal:
    """Exact decimal seconds since the pod started (T0 in the data)."""
    delta = moment - T0
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


def _stamp(entry: dict[str, object]) -> Decimal:
    return _seconds(
        datetime.strptime(str(entry["time"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    )


PROBE_GLYPHS = {"success": "+", "unknown": "?", "failure": "x"}  # lowest rank first
EVENT_GLYPHS = {"Exited": "E", "Started": "S", "Killed": "K"}


def _expected_row(
    entries: list[dict[str, object]],
    key: str,
    glyphs: dict[str, str],
    origin: Decimal,
    step: Decimal,
) -> dict[int, str]:
    """Column -> glyph, each column floor((time - origin) / step) in exact decimals; where two
    entries share a column the higher-ranked one shows."""
    ranks = list(glyphs)
    cells: dict[int, str] = {}
    for entry in entries:
        at = _stamp(entry)
        if at < origin:
            continue
        column = int((at - origin) // step)
        what = str(entry[key])
        if column not in cells or ranks.index(what) >= ranks.index(cells[column]):
            cells[column] = what
    return {column: glyphs[what] for column, what in cells.items()}


def _drawn_row(line: str, left: int) -> dict[int, str]:
    return {i: c for i, c in enumerate(line[left:]) if c != " "}


@pytest.mark.parametrize("since", [None, Decimal(8)])
def test_every_mark_sits_in_the_column_its_time_gives(since: Decimal | None) -> None:
    text = render_text(
        build_timeline(POD, ENTRIES, NOW, None if since is None else float(since)), 100
    )
    lines = text.splitlines()
    step = Decimal(lines[0].rsplit("= ", 1)[1].removesuffix("s"))
    origin = _seconds(NOW) - since if since is not None else Decimal(0)
    left = len(lines[2]) - len(lines[2].lstrip())
    assert lines[2][left:].split()[0] == f"{origin:g}"
    rows = {line.split()[0]: line for line in lines[3:6]}
    for kind in ("liveness", "readiness"):
        entries = [r for r in ENTRIES if r["kind"] == "Probe" and r["probe"] == kind]
        want = _expected_row(entries, "result", PROBE_GLYPHS, origin, step)
        assert _drawn_row(rows[kind], left) == want, kind
    events = [r for r in ENTRIES if r["kind"] == "Container"]
    want = _expected_row(events, "event", EVENT_GLYPHS, origin, step)
    assert _drawn_row(rows["container"], left) == want
    if since is not None:
        assert step == Decimal("0.2")  # the step at which a float floor put 10.6 s one column early


def test_narrow_terminal_coarsens_the_scale() -> None:
    text = render_text(build_timeline(POD, ENTRIES, NOW), 60)
    assert "1 column = 2s" in text
    assert max(len(line) for line in text.splitlines()[2:6]) <= 60


def test_probes_table() -> None:
    _golden("probes.txt", probe_table(ENTRIES, POD))
    assert probe_table(ENTRIES, POD, tail=2).count("\n") == 3


@pytest.mark.parametrize("style", [Style(unicode=True), Style(unicode=True, color=True)])
def test_unicode_and_colour_keep_the_layout(style: Style) -> None:
    plain = render_text(build_timeline(POD, ENTRIES, NOW), 100).splitlines()
    fancy = render_text(build_timeline(POD, ENTRIES, NOW), 100, style).splitlines()
    strip = [line.replace("\x1b[0m", "") for line in fancy]
    for code in ("32", "31", "33", "1;36", "1;31", "2"):
        strip = [line.replace(f"\x1b[{code}m", "") for line in strip]
    assert [len(line) for line in strip] == [len(line) for line in plain]
    assert "●" in fancy[3] and "✗" in fancy[3]


def test_svg_is_standalone_and_has_every_mark() -> None:
    text = render_svg(build_timeline(POD, ENTRIES, NOW))
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    probes = [r for r in ENTRIES if r["kind"] == "Probe"]
    marks = sum(t.split()[0] in ("success", "failure", "unknown") for t in titles)
    assert marks == len(probes) + 3  # and the legend's three
    assert any(t.startswith("Killed at 11.55s") for t in titles)
