"""apimachinery `duration.HumanDuration` at every boundary of its rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.printers.duration import age, human_duration

S, M, H, D = 1, 60, 3600, 86400
Y = 365 * D


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(-2.0, "<invalid>", id="-2s is beyond the tolerated skew"),
        pytest.param(-1.5, "0s", id="-1.5s truncates to -1: tolerated skew"),
        pytest.param(-1.0, "0s", id="-1s"),
        pytest.param(-0.5, "0s", id="-0.5s truncates toward zero"),
        pytest.param(0, "0s", id="0s"),
        pytest.param(1.999, "1s", id="fractions truncate"),
        pytest.param(59, "59s", id="59s"),
        pytest.param(119, "119s", id="119s: seconds up to 2m"),
        pytest.param(119.9, "119s", id="119.9s"),
        pytest.param(2 * M, "2m", id="2m"),
        pytest.param(2 * M + 1, "2m1s", id="2m1s"),
        pytest.param(5 * M + 3, "5m3s", id="5m3s"),
        pytest.param(9 * M + 59, "9m59s", id="9m59s"),
        pytest.param(10 * M, "10m", id="10m: seconds dropped"),
        pytest.param(10 * M + 59, "10m", id="10m59s shows 10m"),
        pytest.param(179 * M + 59, "179m", id="179m"),
        pytest.param(3 * H, "3h", id="3h"),
        pytest.param(3 * H + 2 * M, "3h2m", id="3h2m"),
        pytest.param(3 * H + 2 * M + 59, "3h2m", id="3h2m59s drops seconds"),
        pytest.param(7 * H + 59 * M, "7h59m", id="7h59m"),
        pytest.param(8 * H, "8h", id="8h: minutes dropped"),
        pytest.param(8 * H + 30 * M, "8h", id="8h30m"),
        pytest.param(47 * H + 59 * M, "47h", id="47h"),
        pytest.param(2 * D, "2d", id="2d"),
        pytest.param(2 * D + 3 * H, "2d3h", id="2d3h"),
        pytest.param(7 * D + 23 * H, "7d23h", id="7d23h"),
        pytest.param(8 * D, "8d", id="8d: hours dropped"),
        pytest.param(8 * D + 5 * H, "8d", id="8d5h"),
        pytest.param(729 * D + 23 * H, "729d", id="729d"),
        pytest.param(2 * Y, "2y", id="2y"),
        pytest.param(2 * Y + 3 * D, "2y3d", id="2y3d"),
        pytest.param(7 * Y + 364 * D, "7y364d", id="7y364d"),
        pytest.param(8 * Y, "8y", id="8y: days dropped"),
        pytest.param(8 * Y + 100 * D, "8y", id="8y100d"),
        pytest.param(100 * Y, "100y", id="100y"),
    ],
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == expected


def test_age_of_a_timestamp_and_of_none() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert age(now - timedelta(minutes=5, seconds=5), now) == "5m5s"
    assert age(now + timedelta(seconds=30), now) == "<invalid>"  # a creation in the future
    assert age(None, now) == "<unknown>"  # translateTimestampSince of a zero time
