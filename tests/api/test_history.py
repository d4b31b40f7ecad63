"""The probe history's entries: what the node writes reads back as the same JSON, and what a
printer reads is defaulted, not guessed at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.history import (
    ConditionEntry,
    ContainerEntry,
    HistoryEntry,
    ProbeEntry,
    entries_from_json,
    entry_from_json,
    history_list,
)

WRITTEN: list[dict[str, Any]] = [
    {
        "seq": 7,
        "kind": "Probe",
        "probe": "liveness",
        "container": "app",
        "instance": 1,
        "containerID": "docker://c2",
        "scheduled": "2026-01-01T00:00:01.000000Z",
        "time": "2026-01-01T00:00:01.002000Z",
        "durationMs": 2.5,
        "result": "failure",
        "message": "HTTP probe failed with statuscode: 500",
        "changed": True,
    },
    {
        "kind": "Container",
        "container": "app",
        "instance": 0,
        "event": "Exited",
        "time": "2026-01-01T00:00:20Z",
        "containerID": "docker://c1",
        "reason": "Error",
        "exitCode": 137,
    },
    {
        "kind": "Container",
        "container": "app",
        "instance": 0,
        "event": "Killed",
        "time": "2026-01-01T00:00:10.500000Z",
        "reason": "Killing",
        "message": "Container app failed liveness probe, will be restarted",
    },
    {
        "kind": "Condition",
        "condition": "Ready",
        "status": "False",
        "time": "2026-01-01T00:00:12Z",
        "container": "",
        "reason": "ContainersNotReady",
    },
]


@pytest.mark.parametrize("item", WRITTEN, ids=lambda i: str(i.get("event") or i["kind"]))
def test_what_is_written_reads_back_the_same(item: dict[str, Any]) -> None:
    entry = entry_from_json(item)
    assert entry is not None
    assert entry.to_json() == item


def test_missing_fields_are_defaulted_and_unknown_kinds_skipped() -> None:
    items = [{"kind": "Probe", "probe": "readiness", "container": "app"}, {"kind": "Later"}]
    (entry,) = entries_from_json(items)
    assert entry == ProbeEntry(probe="readiness", container="app", instance=0)
    assert (entry.result, entry.durationMs, entry.changed, entry.seq) == (
        "unknown",
        0.0,
        False,
        None,
    )


def test_the_history_object() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries: list[HistoryEntry] = [
        ContainerEntry(container="app", instance=0, event="Started", time=at, containerID="c"),
        ConditionEntry(condition="Ready", status="True", time=at),
    ]
    body = history_list({"name": "web", "resourceVersion": "2"}, entries)
    assert body["kind"] == "PodProbeHistory" and body["apiVersion"] == "minikubelet/v1"
    assert [i["kind"] for i in body["items"]] == ["Container", "Condition"]
    assert "reason" not in body["items"][1] and body["items"][1]["container"] == ""
