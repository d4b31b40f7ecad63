"""`logs` as the kubelet serves it, on either engine: stdout and stderr as lines, a line
written in pieces as one line, a line longer than the engines' 16 KiB pieces whole, the
timestamp once per line where it starts (Podman 4.3's API gives seconds, Docker's
nanoseconds), `tailLines`, which counts the engine's pieces (Docker's 16 KiB, Podman's every
write) as the kubelet's tail counts a runtime's log entries."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import logs, pod, sh, wait_running

pytestmark = pytest.mark.e2e

SCRIPT = (
    "echo out1; echo err1 >&2; sleep 0.5; printf partial; sleep 1; echo ' end';"
    " python3 -c 'print(\"x\" * 20000)'; echo done; sleep 600"
)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"


def test_lines_pieces_long_lines_and_timestamps(agent: Agent) -> None:
    agent.apply(pod("talker", sh("c", SCRIPT)))
    wait_running(agent, "talker", "c")

    def whole() -> str | None:
        text = logs(agent, "talker")
        return text if text.endswith("done\n") else None

    plain = agent.wait_for(whole, 60, "its log")
    lines = plain.splitlines()
    assert sorted(lines[:2]) == ["err1", "out1"], "two pipes: either may come first"
    assert lines[2:] == ["partial end", "x" * 20000, "done"], [line[:60] for line in lines]
    stamped = logs(agent, "talker", timestamps="true").splitlines()
    assert len(stamped) == 5, [line[:60] for line in stamped]
    for line in stamped:
        stamp, _, rest = line.partition(" ")
        assert re.fullmatch(STAMP, stamp) and rest in lines, line[:80]
    # the engine's pieces count as lines (as the kubelet's tail counts CRI log entries)
    assert logs(agent, "talker", tailLines="1") == "done\n"
