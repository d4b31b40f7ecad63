"""`daemon start`'s word on the node it started: a NotReady node (no engine) is said."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minikubelet.cli import client as agent
from minikubelet.cli.daemon import _options, add_arguments, not_ready, run
from minikubelet.errors import MinikubeletError
from minikubelet.node.node_status import register_node
from minikubelet.store import Store

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_a_node_whose_engine_does_not_answer_is_said_not_ready(store: Store) -> None:
    register_node(store, "node1", "", None, NOW)
    with agent.connect() as client:
        assert not_ready(client) == "node node1 is NotReady: container runtime is down"


def test_a_ready_node_is_nothing_to_say(store: Store) -> None:
    register_node(store, "node1", "10.89.0.1", "docker://20.10.24", NOW)
    with agent.connect() as client:
        assert not_ready(client) is None


def test_the_daemon_flags_reach_the_agent_and_a_bad_one_is_refused_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["run", "--allowed-unsafe-sysctls=net.core.somaxconn,kernel.msg*"])
    assert _options(args) == ["--allowed-unsafe-sysctls=net.core.somaxconn,kernel.msg*"]
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path))
    started: list[object] = []
    monkeypatch.setattr("minikubelet.cli.daemon.os.execv", lambda *a: started.append(a))
    with pytest.raises(MinikubeletError) as caught:
        run(parser.parse_args(["run", "--allowed-unsafe-sysctls=vm.swappiness"]))
    assert str(caught.value) == (
        'invalid --allowed-unsafe-sysctls: the sysctl "vm.swappiness" are not known to be '
        "namespaced"
    )
    assert not started
