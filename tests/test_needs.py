"""A missing tool skips a test on a developer's machine and fails it in CI."""

from __future__ import annotations

import pytest

from tests.needs import unavailable


@pytest.mark.parametrize("ci", ["true", "1", "yes", "TRUE"])
def test_ci_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="chromium is missing .CI=true"):
        unavailable("chromium is missing", "install it")


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_elsewhere_skips(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"chromium is missing \(install it\)"):
        unavailable("chromium is missing", "install it")
