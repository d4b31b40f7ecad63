"""The seed's command list, end to end through the CLI as a user types it.

`minikubelet` runs as a subprocess with its own MINIKUBELET_HOME; the first command starts the
node agent (as it does for a user). At the end the agent is stopped and everything its
instance made on the engine is removed. Waits have deadlines; nothing sleeps a fixed time.
The liveness failure after 40 s is left to tests/e2e/test_probes.py: this test ends well before.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from minikubelet.paths import StatePaths
from tests.e2e.conftest import _cleanup_engine

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = "manifests/webapl-pod.yaml"
CLI = [sys.executable, "-m", "minikubelet"]
COMMAND_TIMEOUT = 60.0


class Seed:
    def __init__(self, paths: StatePaths) -> None:
        self.paths = paths
        self.env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*CLI, *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(f"minikubelet {' '.join(argv)}: exit {done.returncode}\n{done.stderr}")
        return done

    def eventually(self, what: str, check: Callable[[], str | None], timeout: float) -> str:
        """Call `check` until it returns text; fail with the last output at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.25)


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[Seed]:
    paths = StatePaths(tmp_path / "home")
    user = Seed(paths)
    try:
        yield user
    finally:
        user.run("daemon", "stop", check=False)
        if paths.instance.exists():
            _cleanup_engine(paths.instance.read_text().strip())


def test_the_seed_command_list(seed: Seed) -> None:
    applied = seed.run("apply", "-f", MANIFEST)
    assert applied.stdout == "pod/webapl created\n"

    def row(out: str) -> list[str] | None:
        for line in out.splitlines()[1:]:
            if line.split()[:1] == ["webapl"]:
                return line.split()
        return None

    def running() -> str | None:
        out = seed.run("get", "pod").stdout
        cells = row(out)
        return out if cells and cells[2] == "Running" else None

    table = seed.eventually("webapl Running in `get pod`", running, 60.0)
    assert table.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    cells = row(table)
    assert cells is not None
    # not Ready before ~20 s (the readiness probe's /ready answers 503 until then)
    assert cells[:4] == ["webapl", "0/1", "Running", "0"]

    wide = seed.run("get", "pod", "-o", "wide").stdout
    header = wide.splitlines()[0].split()
    assert header[:8] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED"]
    wide_cells = row(wide)
    assert wide_cells is not None
    assert re.fullmatch(r"10\.\d+\.\d+\.\d+", wide_cells[5])
    assert wide_cells[6] not in ("", "<none>")

    def probed() -> str | None:
        out = seed.run("logs", "webapl").stdout
        return out if "GET /healthz 200" in out else None

    # the first liveness probe: initialDelaySeconds 3, then every 5 s
    seed.eventually("`GET /healthz 200` in the logs", probed, 30.0)

    def described() -> str | None:
        out = seed.run("describe", "pod", "webapl").stdout
        return out if "Started" in out.partition("\nEvents:")[2] else None

    describe = seed.eventually("the Started event in describe", described, 30.0)
    assert (
        "    Liveness:       http-get http://:3000/healthz delay=3s timeout=1s period=5s "
        "#success=1 #failure=3\n" in describe
    )
    assert (
        "    Readiness:      http-get http://:3000/ready delay=15s timeout=1s period=6s "
        "#success=1 #failure=3\n" in describe
    )
    events = describe.partition("\nEvents:\n")[2]
    assert events.splitlines()[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    reasons = [line.split()[1] for line in events.splitlines()[2:] if line.strip()]
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert reason in reasons, events
    assert reasons.index("Scheduled") < reasons.index("Started")

    deleted = seed.run("delete", "-f", MANIFEST)
    assert deleted.stdout == 'pod "webapl" deleted\n'
    gone = seed.run("get", "pod", "webapl", check=False)
    assert gone.returncode == 1
    assert gone.stderr == 'Error from server (NotFound): pods "webapl" not found\n'
