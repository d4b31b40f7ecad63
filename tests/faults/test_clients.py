"""Many CLI clients at once against one agent: every one answered, no update lost.

Twenty `minikubelet` processes (applies, gets, watches bounded by a timeout, `logs -f` on pods
whose container exits) run together against one real agent. Then two clients update the same
pod with the same stale resourceVersion at the same moment: exactly one wins, the other gets
409 Conflict in the API server's words, and the winner's change is the one stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikubelet.cli.client import ApiClient
from minikubelet.cli.render import format_status_error
from minikubelet.errors import Conflict, StatusError
from tests.e2e.conftest import ROOT, Agent
from tests.e2e.pods import pod, sh, wait_phase

pytestmark = pytest.mark.e2e

APPLIES = 8
GETS = 4
WATCHES = 4
FOLLOWS = 4
WATCH_DEADLINE = 60.0  # a watch is stopped once it printed its table, at the latest then


def _cli(agent: Agent, *argv: str, timeout: float = 60.0) -> tuple[int | None, str, str]:
    """Run the CLI; a None exit code means it was still running at `timeout` and was stopped
    (how a watch ends)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "minikubelet", *argv],
        env={**os.environ, "MINIKUBELET_HOME": str(agent.paths.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        process.terminate()
        out, err = process.communicate(timeout=10)
        return None, out, err


def _watch(agent: Agent, *argv: str) -> tuple[int | None, str, str]:
    """Run a `get -w` until it has printed a row naming talk0 (its listed table), then stop it:
    on a loaded machine twenty CLIs starting at once may take many seconds to print, so the
    stop waits for what is checked rather than a fixed time."""
    process = subprocess.Popen(
        [sys.executable, "-m", "minikubelet", *argv],
        env={**os.environ, "MINIKUBELET_HOME": str(agent.paths.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = threading.Timer(WATCH_DEADLINE, process.terminate)
    deadline.start()
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "talk0" in line:
                break
    finally:
        deadline.cancel()
        still_running = process.poll() is None
        process.terminate()
        rest, err = process.communicate(timeout=10)
    return (None if still_running else process.returncode), "".join(lines) + rest, err


def test_twenty_clients_at_once_are_all_answered(agent: Agent, tmp_path: Path) -> None:
    for i in range(FOLLOWS):
        agent.apply(
            pod(
                f"talk{i}",
                sh("app", f"for n in 1 2 3; do echo line$n-{i}; sleep 1; done"),
                restartPolicy="Never",
            )
        )
    for i in range(FOLLOWS):  # `logs -f` of a container not started yet fails, as kubectl's does
        wait_phase(agent, f"talk{i}", "Running", timeout=40)
    files = []
    for i in range(APPLIES):
        path = tmp_path / f"busy{i}.yaml"
        path.write_text(yaml.safe_dump(pod(f"busy{i}", sh("app", "sleep 600"))))
        files.append(path)
    barrier = threading.Barrier(APPLIES + GETS + WATCHES + FOLLOWS)

    def together(*argv: str) -> tuple[int | None, str, str]:
        barrier.wait(timeout=60)
        return (_watch if "-w" in argv else _cli)(agent, *argv)

    with ThreadPoolExecutor(max_workers=barrier.parties) as pool:
        applies = [pool.submit(together, "apply", "-f", str(f)) for f in files]
        gets = [pool.submit(together, "get", "pods") for _ in range(GETS)]
        watches = [pool.submit(together, "get", "pods", "-w") for _ in range(WATCHES)]
        follows = [pool.submit(together, "logs", "-f", f"talk{i}") for i in range(FOLLOWS)]
        results = {
            "apply": [f.result() for f in applies],
            "get": [f.result() for f in gets],
            "watch": [f.result() for f in watches],
            "follow": [f.result() for f in follows],
        }
    for i, (code, out, err) in enumerate(results["apply"]):
        assert (code, out, err) == (0, f"pod/busy{i} created\n", "")
    for code, out, err in results["get"]:
        assert code == 0 and err == "", err
        assert out.startswith("NAME ") and "talk0" in out
    for code, out, err in results["watch"]:
        assert code is None, "a watch runs until stopped"
        assert out.startswith("NAME ") and "talk0" in out and err == ""
    for i, (code, out, err) in enumerate(results["follow"]):
        assert code == 0 and err == "", err
        assert out == "".join(f"line{n}-{i}\n" for n in (1, 2, 3))
    names = {p["metadata"]["name"] for p in agent.api.request("GET", "/api/v1/pods")["items"]}
    assert names == {f"busy{i}" for i in range(APPLIES)} | {f"talk{i}" for i in range(FOLLOWS)}
    code, out, err = _cli(agent, "get", "pods", "--no-headers")
    assert code == 0 and len(out.splitlines()) == APPLIES + FOLLOWS


def test_same_stale_resource_version_one_conflict_no_lost_update(agent: Agent) -> None:
    agent.apply(pod("shared", sh("app", "sleep 600")))
    wait_phase(agent, "shared", "Running", timeout=40)
    path = "/api/v1/namespaces/default/pods/shared"
    for round_ in range(5):
        stale = agent.pod("shared")
        barrier = threading.Barrier(2)

        def update(
            who: str, stale: dict[str, Any] = stale, barrier: threading.Barrier = barrier
        ) -> dict[str, Any] | StatusError:
            body = {k: v for k, v in stale.items() if k != "status"}
            body["metadata"] = {**stale["metadata"], "labels": {"writer": who}}
            with ApiClient(agent.paths) as client:  # one connection per client
                barrier.wait(timeout=30)
                try:
                    done: dict[str, Any] = client.request("PUT", path, body=body)
                except StatusError as err:
                    return err
                return done

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(update, (f"a{round_}", f"b{round_}")))
        won = [o for o in outcomes if isinstance(o, dict)]
        lost = [o for o in outcomes if not isinstance(o, dict)]
        assert len(won) == 1 and len(lost) == 1, (round_, outcomes)
        assert isinstance(lost[0], Conflict)
        assert str(lost[0]) == (
            'Operation cannot be fulfilled on pods "shared": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
        assert format_status_error(lost[0]).startswith("Error from server (Conflict): ")
        stored = agent.pod("shared")
        assert stored["metadata"]["labels"] == won[0]["metadata"]["labels"]
        assert int(stored["metadata"]["resourceVersion"]) >= int(
            won[0]["metadata"]["resourceVersion"]
        )
