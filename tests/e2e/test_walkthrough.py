"""`make demo-short`'s walkthrough runs end to end and tells the seed's story, `exec` seeing
what the liveness probe sees and webapl behind a Service included: requests through it refused
until the pod is Ready, answered while it is (the killed container's grace period too: it stays
Ready, as on a 1.32 node), refused from its exit until the restarted container is Ready,
answered again; `get endpoints -w` shows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, _cleanup_engine
from tests.e2e.test_nginx import MIRROR, _engine_mirrors

pytestmark = pytest.mark.e2e


def test_short_walkthrough(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "MINIKUBELET_HOME": str(home)}
    try:
        done = subprocess.run(
            [sys.executable, "tools/walkthrough.py", "--short"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=330,
            check=False,
        )
    finally:
        subprocess.run(
            [sys.executable, "-m", "minikubelet", "daemon", "stop"],
            env=env,
            check=False,
            capture_output=True,
            timeout=60,
        )
        if (home / "instance-id").exists():
            _cleanup_engine((home / "instance-id").read_text().strip())
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    nginx = (
        ["HTTP 200: Welcome to nginx!", 'Pulling image "nginx:latest"', 'pod "nginx" deleted']
        if any(MIRROR in m for m in _engine_mirrors())
        else ["nginx   0/1     ", 'Failed to pull image "nginx:latest"', 'pod "nginx" deleted']
    )
    for expected in (
        "pod/nginx created",
        *nginx,
        "pod/webapl created",
        "Container webapl failed liveness probe, will be restarted",
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        "Exit Code:    137",
        "GET /healthz 500",
        'pod "webapl" deleted',
        "pod/webapl labeled",
        "service/webapl exposed",
        'service "webapl" deleted',
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    # exec sees what the probe sees: /healthz from inside the pod, answered as the probe is
    at = out.index("$ minikubelet exec webapl -- python3 -c ")
    assert out[at:].splitlines()[1] == "200 OK", out[at:]
    # the walkthrough's timeline says why it restarted, and it ends with the live view's URL
    assert "because liveness probe: failure 3 of 3" in out, out
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=\S+", out.splitlines()[-1]), out
    _service_part(out)
    rows = [line.split() for line in out.splitlines() if line.startswith("webapl ")]
    rows = [row for row in rows if re.fullmatch(r"\d+/\d+", row[1])]  # pods, not the Service
    assert rows, out
    assert ["webapl", "0/1", "Running", "0"] == rows[0][:4]
    assert any(row[1] == "1/1" for row in rows)
    assert rows[-1][3] == "1"  # RESTARTS 1 after the liveness kill


def _service_part(out: str) -> None:
    lines = out.splitlines()
    # curl through the NodePort at each turn: refused, answered, answered in the grace period,
    # refused after the exit, answered once the new container is Ready
    curls = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("$ curl ")]
    hello = "HTTP 200: Hello from Node.js"
    assert curls == ["connection refused", hello, hello, "connection refused", hello], out
    # the watch: empty, the pod's IP:3000, empty after the exit, the IP again
    watched = [line.split("] ", 1)[1] for line in lines if "[get endpoints -w," in line]
    cells = [row.split()[1] if len(row.split()) == 3 else "" for row in watched[1:]]
    cells = ["" if cell == "<none>" else cell for cell in cells]  # no subsets yet: no pod IP
    ip_port = next(cell for cell in cells if cell)
    assert re.fullmatch(r"10\.\d+\.\d+\.\d+:3000", ip_port), watched
    assert [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]] == [
        "",
        ip_port,
        "",
        ip_port,
    ], watched
    # the client's one request a second, as runs: refused, answered, then (after some that
    # met the exited container before the endpoint went) refused, answered
    start = lines.index(next(line for line in lines if "One request a second" in line))
    runs = []
    for line in lines[start + 1 :]:
        if not re.match(r"\s+\d+\.\d+s - ", line):
            break
        runs.append(line.split()[3])
    assert [r for r in runs if r != "failed"] == ["refused", "answered", "refused", "answered"]
    assert runs.count("failed") <= 1, runs
    # the timeline has the Service's row and its endpoint changes
    assert re.search(r"^svc/webapl +_+#+_+#+$", out, re.M), out
    assert "Service endpoints:" in out
