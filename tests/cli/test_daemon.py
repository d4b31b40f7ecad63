"""`daemon start`'s word on the node it started: a NotReady node (no engine) is said."""

from __future__ import annotations

from datetime import UTC, datetime

from minikubelet.cli import client as agent
from minikubelet.cli.daemon import not_ready
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
