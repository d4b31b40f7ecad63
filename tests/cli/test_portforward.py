"""`minikubelet port-forward`'s port specs, as kubectl parses them."""

from __future__ import annotations

import pytest

from minikubelet.cli.portforward import parse_port
from minikubelet.errors import ManifestError


@pytest.mark.parametrize(
    "spec, pair", [("8080", (8080, 8080)), ("8000:80", (8000, 80)), (":80", (0, 80))]
)
def test_port_specs(spec: str, pair: tuple[int, int]) -> None:
    assert parse_port(spec) == pair


def test_bad_port_specs() -> None:
    with pytest.raises(ManifestError, match="Remote port must be > 0 and < 65536: 0"):
        parse_port("0")
    with pytest.raises(ManifestError, match="Error parsing local port 'x'"):
        parse_port("x:80")
