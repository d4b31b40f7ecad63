"""The crash-loop and image-pull back-off in virtual time (client-go flowcontrol numbers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.node.backoff import (
    Backoff,
    BackoffEntry,
    CrashLoopView,
    crash_key,
    image_pull_key,
)

KEY = "web_default_u1_app_busybox"


def crash_loop(runs: list[float]) -> list[float | None]:
    """Each crash happens `run` seconds after the last (re)start; returns the delay waited
    before each restart (None = restarted at once), restarting when the window expires."""
    backoff, now, waits = Backoff(), 0.0, []
    for run in runs:
        finished = now + run
        delay = backoff.in_backoff(KEY, finished, finished)
        waits.append(delay)
        now = finished + (delay or 0.0)
        assert backoff.in_backoff(KEY, finished, now) is None
        backoff.next(KEY, now, event_time=finished)
    return waits


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param([1.0], [None], id="first crash restarts immediately"),
        pytest.param(
            [1.0] * 9,
            [None, 10, 20, 40, 80, 160, 300, 300, 300],
            id="doubling to the 300s cap",
        ),
        pytest.param([1.0, 1.0, 1.0, 601.0], [None, 10, 20, None], id="reset after 600s running"),
        pytest.param([1.0, 1.0, 600.0], [None, 10, 20], id="600s exactly is not yet stable"),
        pytest.param(
            [1.0, 1.0, 700.0, 1.0], [None, 10, None, 10], id="after a reset it doubles again"
        ),
    ],
)
def test_crash_loop_delays(runs: list[float], expected: list[float | None]) -> None:
    assert crash_loop(runs) == expected


def test_in_backoff_window_and_remaining() -> None:
    backoff = Backoff()
    backoff.next(KEY, 100.0)
    backoff.next(KEY, 101.0)  # 20s now
    assert backoff.get(KEY) == BackoffEntry(delay=20.0, last_update=101.0)
    assert backoff.in_backoff(KEY, 105.0, 110.0) == 20.0
    assert backoff.remaining(KEY, 105.0, 110.0) == 15.0
    assert backoff.in_backoff(KEY, 105.0, 125.0) is None
    assert backoff.remaining(KEY, 105.0, 125.0) is None


@pytest.mark.parametrize(
    ("updates", "now", "expected"),
    [
        pytest.param([], 0.0, None, id="never failed: pull"),
        pytest.param([0.0], 5.0, 10.0, id="1st failure: 10s back-off"),
        pytest.param([0.0], 10.0, None, id="window over: pull again"),
        pytest.param([0.0, 12.0], 25.0, 20.0, id="2nd failure: 20s"),
        pytest.param([0.0, 12.0], 32.0, None, id="2nd window over"),
        pytest.param([0.0, 12.0], 700.0, None, id="expired"),
    ],
)
def test_image_pull_backoff(updates: list[float], now: float, expected: float | None) -> None:
    backoff = Backoff()
    for at in updates:
        backoff.next("u1_example.invalid/app:1", at)
    assert backoff.in_backoff_since_update("u1_example.invalid/app:1", now) == expected


def test_gc_drops_stale_entries() -> None:
    backoff = Backoff()
    backoff.next("old", 0.0)
    backoff.next("new", 500.0)
    backoff.gc(601.0)
    assert list(backoff) == ["new"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(10, "10s"), (20, "20s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s"), (3600, "1h0m0s")]
    + [(1.5, "1.5s"), (0.5, "500ms"), (0, "0s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_keys_and_view() -> None:
    pod = Pod(
        metadata=ObjectMeta(name="web", namespace="default", uid="u1"),
        spec=PodSpec(containers=[Container(name="app", image="busybox")]),
    )
    assert crash_key(pod, "app", "busybox") == KEY
    assert image_pull_key(pod, "busybox") == "u1_busybox"
    backoff = Backoff()
    backoff.next(KEY, 100.0)
    wall = datetime(2026, 1, 1, tzinfo=UTC)
    view = CrashLoopView(backoff, pod, now=103.0, wall_now=wall)
    assert view("app", wall - timedelta(seconds=2)) == 10.0
    assert view("app", wall - timedelta(seconds=20)) is None
    assert view("app", None) is None
