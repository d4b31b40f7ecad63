"""The timeline and the probes table from a pinned history: exact text out (ASCII goldens),
and an SVG that is well-formed XML with a mark per attempt."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from minikubelet.printers.timeline import Style, build_timeline, probe_table, render_text
from minikubelet.printers.timeline_svg import render_svg
from tests.printers.timeline_data import NOW, POD, RECORDS

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_ascii_timeline() -> None:
    _golden("timeline.txt", render_text(build_timeline(POD, RECORDS, NOW), 100))


def test_since_cuts_the_left_of_the_chart() -> None:
    _golden("timeline-since.txt", render_text(build_timeline(POD, RECORDS, NOW, 8.0), 100))


def test_narrow_terminal_coarsens_the_scale() -> None:
    text = render_text(build_timeline(POD, RECORDS, NOW), 60)
    assert "1 column = 2s" in text
    assert max(len(line) for line in text.splitlines()[2:6]) <= 60


def test_probes_table() -> None:
    _golden("probes.txt", probe_table(RECORDS, POD))
    assert probe_table(RECORDS, POD, tail=2).count("\n") == 3


@pytest.mark.parametrize("style", [Style(unicode=True), Style(unicode=True, color=True)])
def test_unicode_and_colour_keep_the_layout(style: Style) -> None:
    plain = render_text(build_timeline(POD, RECORDS, NOW), 100).splitlines()
    fancy = render_text(build_timeline(POD, RECORDS, NOW), 100, style).splitlines()
    strip = [line.replace("\x1b[0m", "") for line in fancy]
    for code in ("32", "31", "33", "1;36", "1;31", "2"):
        strip = [line.replace(f"\x1b[{code}m", "") for line in strip]
    assert [len(line) for line in strip] == [len(line) for line in plain]
    assert "●" in fancy[3] and "✗" in fancy[3]


def test_svg_is_standalone_and_has_every_mark() -> None:
    text = render_svg(build_timeline(POD, RECORDS, NOW))
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    probes = [r for r in RECORDS if r["kind"] == "Probe"]
    marks = sum(t.split()[0] in ("success", "failure", "unknown") for t in titles)
    assert marks == len(probes) + 3  # and the legend's three
    assert any(t.startswith("Killed at 11.55s") for t in titles)
