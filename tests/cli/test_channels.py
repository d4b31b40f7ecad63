"""The CLI's session query: encoded without urllib, read back by the agent's parser."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from minikubelet.cli.channels import query_string


def test_the_query_reads_back_as_written_and_as_urlencode_would_write_it() -> None:
    pairs = [
        ("command", "sh"),
        ("command", "-c"),
        ("command", "echo 'a b' && printf %s/?#=+& \u00e9\u2603 ~._-"),
        ("container", "app"),
        ("stdout", "true"),
    ]
    encoded = query_string(pairs)
    assert encoded == urlencode(pairs, quote_via=quote, safe="")
    assert parse_qsl(encoded, keep_blank_values=True) == pairs
