"""A corrupt or newer-schema state store: one clear line, a non-zero exit, no traceback, no
crash loop, from `minikubelet daemon run` and from a CLI command that starts the agent.

No engine is needed: the agent refuses the store before it touches Docker (checked here by
asserting that nothing labelled with its instance id exists, when an engine is present).
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from minikubelet.cli.client import START_TIMEOUT
from minikubelet.paths import StatePaths
from minikubelet.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


def _corrupt(db: Path) -> None:
    db.write_bytes(random.Random(7).randbytes(16384))


def _corrupt_header(db: Path) -> None:
    """A real store whose pages were overwritten after the header: opens, then fails."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 100)
    conn.commit()
    conn.close()
    data = bytearray(db.read_bytes())
    data[100:4096] = random.Random(8).randbytes(3996)
    db.write_bytes(bytes(data))


def _newer(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    conn.commit()
    conn.close()


STORES: dict[str, tuple[Callable[[Path], None], str]] = {
    "random-bytes": (_corrupt, "is unreadable or corrupt"),
    "damaged-pages": (_corrupt_header, "is unreadable or corrupt"),
    "newer-schema": (_newer, f"was written by a newer minikubelet (schema {SCHEMA_VERSION + 7} >"),
}


def _home(tmp_path: Path, kind: str) -> StatePaths:
    paths = StatePaths(tmp_path / "home")
    paths.ensure()
    STORES[kind][0](paths.database)
    return paths


@pytest.mark.parametrize("kind", sorted(STORES))
def test_daemon_run_refuses_the_store_in_one_line(tmp_path: Path, kind: str) -> None:
    paths = _home(tmp_path, kind)
    before = paths.database.read_bytes()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "minikubelet", "daemon", "run", "--node-name", "faults"],
        env={**os.environ, "MINIKUBELET_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0] == f"error: state store {paths.database} {STORES[kind][1]}" or (
        lines[0].startswith(f"error: state store {paths.database} {STORES[kind][1]}")
    )
    assert time.monotonic() - started < 20
    assert paths.database.read_bytes() == before, "a refused store is left as it was"
    assert not paths.socket.exists() and not paths.pid.exists()


_CLI = (
    "import sys; from minikubelet.cli import client; client.START_TIMEOUT = 4.0; "
    "from minikubelet.cli.main import main; sys.exit(main(['get', 'pods']))"
)


def _cli_start(tmp_path: Path, kind: str) -> tuple[StatePaths, int, str, float]:
    """`minikubelet get pods` in its own process (the agent it starts is its child), with the
    start timeout cut from 30 s to 4 s to keep the suite quick."""
    paths = _home(tmp_path, kind)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CLI],
        env={**os.environ, "MINIKUBELET_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    elapsed = time.monotonic() - started
    assert done.stdout == ""
    return paths, done.returncode, done.stderr, elapsed


@pytest.mark.parametrize("kind", sorted(STORES))
def test_a_cli_command_reports_the_agent_failed_and_points_at_the_log(
    tmp_path: Path,
    kind: str,
) -> None:
    paths, code, err, _ = _cli_start(tmp_path, kind)
    lines = err.splitlines()
    assert code == 1
    assert "Traceback" not in err
    assert lines[0] == f"Starting the minikubelet node agent (log: {paths.log})"
    assert lines[-1].startswith("error: ") and str(paths.log) in lines[-1]
    # the agent tried once and stopped: its log holds the one line, not a crash loop
    log = paths.log.read_text()
    assert log.count(STORES[kind][1]) == 1, log
    assert "Traceback" not in log
    assert not paths.socket.exists() and not paths.pid.exists()


@pytest.mark.parametrize("kind", ["newer-schema"])
def test_a_cli_command_notices_the_agent_exited_at_once(
    tmp_path: Path,
    kind: str,
) -> None:
    _, code, err, elapsed = _cli_start(tmp_path, kind)
    assert code == 1
    # At once means without waiting out the start timeout; half of it leaves a loaded machine
    # all the room it needs and still tells the two apart.
    assert elapsed < START_TIMEOUT / 2, f"waited {elapsed:.1f}s for an agent that had exited"
    assert "did not start within" not in err
