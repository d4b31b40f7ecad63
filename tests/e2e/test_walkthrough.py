"""`make demo-short`'s walkthrough runs end to end and tells the seed's story."""

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
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    # the walkthrough's timeline says why it restarted, and it ends with the live view's URL
    assert "because liveness probe: failure 3 of 3" in out, out
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=\S+", out.splitlines()[-1]), out
    rows = [line.split() for line in out.splitlines() if line.startswith("webapl ")]
    assert rows, out
    assert ["webapl", "0/1", "Running", "0"] == rows[0][:4]
    assert any(row[1] == "1/1" for row in rows)
    assert rows[-1][3] == "1"  # RESTARTS 1 after the liveness kill
