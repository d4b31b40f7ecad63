"""`logs --timestamps`: a line is stamped once, where it starts, as the kubelet stamps it;
the engine's stamp on a piece that continues a line (Podman stamps every write) goes."""

from __future__ import annotations

from minikubelet.runtime._streams import continued


def test_a_continuing_piece_loses_the_engines_stamp() -> None:
    assert continued(b"2026-12-03T14:48:55Z partial", b"2026-12-03T14:48:56Z  end\n") == b" end\n"
    nano = b"2026-12-03T14:49:15.051509381Z xx\n"
    assert continued(b"2026-12-03T14:49:14.9Z x", nano) == b"xx\n"
    assert continued(b"x", b"2026-12-03T14:48:56+01:00 y\n") == b"y\n"


def test_a_piece_that_starts_a_line_keeps_it() -> None:
    frame = b"2026-12-03T14:48:56Z done\n"
    assert continued(b"", frame) == frame
    assert continued(b"partial", b"not a stamp 2026-12-03T14:48:56Z \n") == (
        b"not a stamp 2026-12-03T14:48:56Z \n"
    )
