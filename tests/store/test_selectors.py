"""Label and field selectors: parse and match, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.errors import BadRequest
from minikubelet.store.selectors import (
    FieldSelector,
    field_value,
    matches_fields,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "env": ""}

MATCH_CASES = [
    ("empty selects all", "", True),
    ("blank selects all", "  ", True),
    ("equals", "app=web", True),
    ("equals other value", "app=db", False),
    ("double equals", "app==web", True),
    ("spaces around operator", "app = web", True),
    ("not equals", "app!=db", True),
    ("not equals same", "app!=web", False),
    ("not equals missing label", "zone!=a", True),
    ("exists", "tier", True),
    ("exists missing", "zone", False),
    ("does not exist", "!zone", True),
    ("does not exist present", "!app", False),
    ("in", "app in (db,web)", True),
    ("in with spaces", "app in ( db , web )", True),
    ("in miss", "app in (db)", False),
    ("in missing label", "zone in (a)", False),
    ("notin", "app notin (db)", True),
    ("notin hit", "app notin (web,db)", False),
    ("notin missing label", "zone notin (a)", True),
    ("empty value", "env=", True),
    ("AND all hold", "app=web,tier=front", True),
    ("AND one fails", "app=web,tier=back", False),
    ("AND with set", "app in (web,db),!zone,tier", True),
    ("prefixed key", "app.kubernetes.io/name!=x", True),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES]
)
def test_label_selector_matches(text: str, expected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is expected


def test_no_selector_and_no_labels() -> None:
    assert parse_label_selector(None).matches(None)
    assert not parse_label_selector("app").matches(None)
    assert parse_label_selector("!app").matches_object({"metadata": {}})


@pytest.mark.parametrize("text", ["app=(x)", "app in ()", "app in (a,)", "=x", "a b", "app in x"])
def test_malformed_selector_is_bad_request(text: str) -> None:
    with pytest.raises(BadRequest, match="unable to parse requirement"):
        parse_label_selector(text)


POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"nodeName": "n1", "hostNetwork": False},
    "status": {"phase": "Running"},
}

FIELD_CASES = [
    ("metadata.name", "web"),
    ("spec.nodeName", "n1"),
    ("spec.hostNetwork", "false"),
    ("status.podIP", ""),
    ("spec.nodeName.deeper", ""),
]


@pytest.mark.parametrize(("path", "expected"), FIELD_CASES)
def test_field_value(path: str, expected: str) -> None:
    assert field_value(POD, path) == expected


def test_matches_fields() -> None:
    assert matches_fields(POD, None)
    assert matches_fields(POD, {"metadata.name": "web", "status.phase": "Running"})
    assert not matches_fields(POD, {"metadata.name": "web", "status.phase": "Pending"})
    assert matches_fields(POD, {"status.podIP": ""})


def test_field_selectors_with_not_equal_as_kubectl_describe_node_sends() -> None:
    """`kubectl describe node` lists the node's pods with
    `spec.nodeName=N,status.phase!=Succeeded,status.phase!=Failed`."""
    raw = "metadata.name=web,status.phase!=Succeeded,status.phase!=Failed"
    selector = FieldSelector.parse(raw)
    assert selector.get("metadata.name") == "web" and selector.get("status.phase") is None
    assert matches_fields(POD, selector)
    assert not matches_fields(POD, FieldSelector.parse("status.phase!=Running"))
    assert matches_fields(POD, FieldSelector.parse("status.phase==Running"))
    assert matches_fields(POD, FieldSelector.parse("spec.nodeName!=n2"))


def test_a_field_selector_term_without_an_operator_is_refused() -> None:
    with pytest.raises(BadRequest) as caught:
        FieldSelector.parse("metadata.name=web,status.phase")
    assert str(caught.value) == (
        "invalid selector: 'metadata.name=web,status.phase'; can't understand 'status.phase'"
    )
