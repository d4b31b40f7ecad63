"""apimachinery's `HumanDuration`: the AGE, LAST SEEN and `(3s ago)` of every kubectl table."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["age", "human_duration"]


def human_duration(d: timedelta) -> str:
    seconds = int(d.total_seconds())  # truncated toward zero, as Go's int(d.Seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 2 * 8760:
        return f"{hours // 24}d"
    years = hours // 24 // 365
    if hours < 8 * 8760:
        days = (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{years}y"


def age(since: datetime | None, now: datetime) -> str:
    """`HumanDuration(now − since)`, or `<unknown>` without a time."""
    return "<unknown>" if since is None else human_duration(now - since)
