"""`-o jsonpath=` and `-o custom-columns=` parsing and value rendering (client-go jsonpath,
kubectl customcolumn.go); texts checked against kubectl 1.32 where marked [run]."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.printers.jsonpath import (
    JsonPathError,
    custom_columns,
    go_json,
    go_sprint,
    jsonpath,
    select,
)

LIST: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "List",
    "metadata": {"resourceVersion": ""},
    "items": [
        {
            "metadata": {"name": "a", "labels": {"app": "web", "tier": "fe"}},
            "spec": {"containers": [{"name": "c1", "image": "nginx"}, {"name": "c2"}]},
            "status": {"podIPs": [{"ip": "10.0.0.1"}], "ready": True, "empty": ""},
        },
        {"metadata": {"name": "b", "annotations": {"x": "<b>&"}}, "spec": {}, "status": None},
    ],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("{.items[*].metadata.name}", "a b", id="[*] joined by a space [run]"),
        pytest.param("{.items[0].metadata.name}", "a", id="index"),
        pytest.param("{.items[-1].metadata.name}", "b", id="negative index"),
        pytest.param("{.items[5].metadata.name}", "", id="index out of range prints nothing"),
        pytest.param("{.items[0].metadata.nope}", "", id="missing key prints nothing [run]"),
        pytest.param("{.items[1].status}", "null", id="null prints null [run]"),
        pytest.param("{.items[0].status.ready}", "true", id="bool"),
        pytest.param("{.items[0].status.empty}", "", id="empty string"),
        pytest.param(
            "{.items[0].metadata.labels}",
            '{"app":"web","tier":"fe"}',
            id="map as compact JSON, keys sorted [run]",
        ),
        pytest.param(
            "{.items[1].metadata.annotations}",
            '{"x":"\\u003cb\\u003e\\u0026"}',
            id="Go json escapes <>& [run]",
        ),
        pytest.param("{.items[0].spec.containers[1]}", '{"name":"c2"}', id="list element as JSON"),
        pytest.param("{.items[0].metadata.labels['app']}", "web", id="quoted key"),
        pytest.param("{..image}", "nginx", id="recursive descent"),
        pytest.param(
            '{range .items[*]}{.metadata.name}{"\\n"}{end}', "a\nb\n", id="range with a literal"
        ),
        pytest.param("{range .items[*]}[{.metadata.name}]{end}", "[a][b]", id="range with text"),
        pytest.param("name={.items[0].metadata.name}", "name=a", id="text around"),
        pytest.param("{.items[0].spec.containers[*].name}", "c1 c2", id="nested [*]"),
    ],
)
def test_jsonpath(template: str, expected: str) -> None:
    assert jsonpath(LIST, template) == expected


def test_unclosed_action_is_an_error() -> None:
    with pytest.raises(JsonPathError):
        jsonpath(LIST, "{.items")


@pytest.mark.parametrize(
    ("spec", "columns"),
    [
        pytest.param(
            "NAME:.metadata.name,IP:.status.podIP",
            [("NAME", ".metadata.name"), ("IP", ".status.podIP")],
            id="dotted",
        ),
        pytest.param(
            "a:metadata.name,b:{.metadata.name},c:{metadata.name}",
            [("a", ".metadata.name"), ("b", ".metadata.name"), ("c", ".metadata.name")],
            id="RelaxedJSONPathExpression forms",
        ),
        pytest.param("Name Here:.x", [("Name Here", ".x")], id="header kept as written"),
        pytest.param("E:", [("E", "")], id="empty path selects nothing"),
        pytest.param("T:.a:b", [("T", ".a:b")], id="split at the first colon only"),
    ],
)
def test_custom_columns_spec(spec: str, columns: list[tuple[str, str]]) -> None:
    assert custom_columns(spec) == columns


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("", "custom-columns format specified but no custom columns given", id="empty"),
        pytest.param(
            "NAME",
            "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>",
            id="no colon [run]",
        ),
        pytest.param(
            "N:{.a}{.b}",
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'",
            id="two expressions [run]",
        ),
    ],
)
def test_custom_columns_errors(spec: str, message: str) -> None:
    with pytest.raises(JsonPathError) as caught:
        custom_columns(spec)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(None, "<nil>", id="nil"),
        pytest.param(True, "true", id="bool"),
        pytest.param(3, "3", id="int"),
        pytest.param(2.0, "2", id="integral float"),
        pytest.param(1.5, "1.5", id="float"),
        pytest.param("", "", id="empty string"),
        pytest.param({"b": 1, "a": {"c": None}}, "map[a:map[c:<nil>] b:1]", id="map, sorted"),
        pytest.param(["x", 1, True], "[x 1 true]", id="slice"),
    ],
)
def test_go_sprint(value: Any, text: str) -> None:
    assert go_sprint(value) == text


def test_go_json() -> None:
    assert go_json({"b": "é<", "a": [1, None]}) == '{"a":[1,null],"b":"é\\u003c"}'


def test_select_star_over_a_map_and_missing_paths() -> None:
    assert sorted(select(LIST, ".items[0].metadata.labels[*]")) == ["fe", "web"]
    assert select(LIST, ".items[*].status.podIPs[*].ip") == ["10.0.0.1"]
    assert select(LIST, ".nope.deeper") == []
    assert select(LIST, "") == [LIST]
