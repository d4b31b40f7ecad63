"""What a test needs from the machine (the engine, chromium, kubectl): when it is missing the
test skips on a developer's machine and fails under CI=true, so CI cannot go green without it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(problem: str, hint: str) -> NoReturn:
    """Fail under CI, skip elsewhere (`hint` says how to get what is missing)."""
    if in_ci():
        pytest.fail(f"{problem} (CI=true: this test must run)", pytrace=False)
    pytest.skip(f"{problem} ({hint})")
