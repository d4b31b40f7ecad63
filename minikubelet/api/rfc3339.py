"""RFC 3339 times as the API writes them, read without the codec (`describe` needs only this)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_time"]


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time (`Z` or an offset) into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
