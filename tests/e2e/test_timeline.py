"""Issue 10 on the real engine: the short webapl's history reads readiness fail…pass, liveness
pass…fail×3, kill, restart, readiness fail again; the CLI draws it, and its SVG renders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Agent
from tests.e2e.pods import WEBAPL, pod

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
PATH = "/minikubelet/v1/namespaces/default/pods/webapl/probes"


def _webapl() -> JSON:
    http = {"port": 3000, "path": ""}
    container = {
        "name": "webapl",
        "image": WEBAPL,
        "env": [
            {"name": "WEBAPL_READY_AFTER", "value": "3"},
            {"name": "WEBAPL_LIVENESS_FAIL_AFTER", "value": "8"},
        ],
        "livenessProbe": {"httpGet": {**http, "path": "/healthz"}, "periodSeconds": 1},
        "readinessProbe": {"httpGet": {**http, "path": "/ready"}, "periodSeconds": 1},
    }
    return pod("webapl", container, terminationGracePeriodSeconds=2)


def _runs(records: list[JSON], keep: Any) -> list[str]:
    """The kept records' steps in time order, runs of the same step collapsed."""
    out: list[str] = []
    for r in sorted(records, key=lambda r: str(r["time"])):
        if not keep(r):
            continue
        if r["kind"] == "Probe":
            step = f"{r['instance']}:{r['probe']}:{r['result']}"
        else:
            step = f"{r['instance']}:{r['event']}"
        if not out or out[-1] != step:
            out.append(step)
    return out


def _cli(agent: Agent, *argv: str) -> str:
    env = {**os.environ, "MINIKUBELET_HOME": str(agent.paths.home), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "minikubelet", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_webapl_timeline(agent: Agent, tmp_path: Path) -> None:
    agent.apply(_webapl())

    def restarted_and_unready() -> list[JSON] | None:
        items: list[JSON] = agent.api.request("GET", PATH)["items"]
        again = [
            r
            for r in items
            if r["kind"] == "Probe" and r["instance"] == 1 and r["probe"] == "readiness"
        ]
        return items if again else None

    records = agent.wait_for(restarted_and_unready, 60, why="a restart and a new readiness probe")
    readiness = _runs(records, lambda r: r.get("probe") == "readiness")
    assert readiness[:2] == ["0:readiness:failure", "0:readiness:success"], readiness
    assert "1:readiness:failure" in readiness, readiness  # the new instance: not ready yet
    liveness = _runs(records, lambda r: r.get("probe") == "liveness" and r["instance"] == 0)
    assert liveness == ["0:liveness:success", "0:liveness:failure"], liveness
    failures = [r for r in records if r.get("probe") == "liveness" and r["instance"] == 0]
    assert [r["result"] for r in failures[-3:]] == ["failure"] * 3
    assert failures[-1]["changed"] is True
    lifecycle = _runs(records, lambda r: r["kind"] == "Container")
    assert lifecycle[:4] == ["0:Started", "0:Killed", "0:Exited", "1:Started"], lifecycle
    kill = next(r for r in records if r.get("event") == "Killed")
    assert kill["message"] == "Container webapl failed liveness probe, will be restarted"
    assert kill["time"] >= failures[-1]["time"]
    ready = [r["status"] for r in records if r.get("condition") == "Ready"]
    assert ready[:3] == ["False", "True", "False"], ready

    text = _cli(agent, "timeline", "webapl", "--width", "110")
    print(text)
    assert "liveness   period=1s #failure=3" in text
    assert "killed   webapl #0: Container webapl failed liveness probe" in text
    assert "started  webapl #1 (restart 1)" in text
    table = _cli(agent, "probes", "webapl", "--tail", "5")
    assert table.startswith("TIME    CONTAINER   PROBE")
    svg = tmp_path / "webapl.svg"
    svg.write_text(_cli(agent, "timeline", "webapl", "-o", "svg"))
    _renders(svg, tmp_path / "webapl.png")


def _renders(svg: Path, png: Path) -> None:
    """Headless Chromium draws the SVG: a PNG of the window's size with more than a few colours."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--screenshot={png}",
            "--window-size=1300,500",
            svg.as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1300
    assert len(data) > 20_000  # a blank page compresses to a few KiB
