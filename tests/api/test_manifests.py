"""Reading manifests: files, directories, stdin, multi-document YAML, JSON, Lists, hostile input.

Every error text here is what kubectl 1.32 prints for the same bytes (checked with it pointed at
an address where nothing listens: all of these fail before it would connect)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from minikubelet.api.manifests import MAX_FILE_BYTES, load_paths, load_text
from minikubelet.errors import ManifestError

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
    "spec:\n  containers:\n  - name: a\n    image: x:1\n"
)


def names(text: str | bytes) -> list[str]:
    return [m.name for m in load_text(text, "f.yaml")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(POD.format(name="a"), ["a"], id="one document"),
        pytest.param(POD.format(name="a") + "---\n" + POD.format(name="b"), ["a", "b"], id="two"),
        pytest.param("---\n---\n" + POD.format(name="a") + "---\n", ["a"], id="empty docs skipped"),
        pytest.param("", [], id="empty file"),
        pytest.param("# only a comment\n", [], id="comment only"),
        pytest.param("null\n---\n~\n", [], id="null documents skipped"),
        pytest.param(
            '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}}', ["j"], id="json"
        ),
        pytest.param(
            "apiVersion: v1\nkind: List\nitems:\n"
            "- {kind: Pod, apiVersion: v1, metadata: {name: a}}\n"
            "- {kind: Pod, apiVersion: v1, metadata: {name: b}}\n",
            ["a", "b"],
            id="kind List flattened",
        ),
        pytest.param(
            "kind: PodList\napiVersion: v1\nitems:\n"
            "- {kind: Pod, apiVersion: v1, metadata: {name: c}}\n",
            ["c"],
            id="kind PodList flattened",
        ),
    ],
)
def test_documents(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_times_stay_text_and_yaml11_scalars_resolve_as_kubernetes_does() -> None:
    (m,) = load_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: 2024-05-01T12:00:00Z\n"
        "  labels: {a: on, y: n, b: 0777, c: 09, d: 1e3}\n",
        "f",
    )
    assert m.body["metadata"]["creationTimestamp"] == "2024-05-01T12:00:00Z"
    # go-yaml v2: on, y, n are booleans (a key too), 0777 octal, 09 a float, 1e3 sent as 1000
    assert m.body["metadata"]["labels"] == {"a": True, "true": False, "b": 511, "c": 9, "d": 1000}


def test_invalid_utf8_reads_as_replacement_characters() -> None:
    (m,) = load_text(b'apiVersion: v1\nkind: Pod\nmetadata: {name: "a\xff\xfe"}\n', "f")
    assert m.name == "a\ufffd\ufffd"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b"a: [1, 2\nb: 3\n",
            "error parsing f.yaml: error converting YAML to JSON: yaml: line 1: "
            "did not find expected ',' or ']'",
            id="yaml syntax with line",
        ),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            "error parsing f.yaml: error converting YAML to JSON: yaml: "
            "control characters are not allowed",
            id="binary junk",
        ),
        pytest.param(
            b"just text",
            'error validating "f.yaml": error validating data: invalid object to validate; '
            "if you choose to ignore these errors, turn validation off with --validate=false",
            id="scalar document",
        ),
        pytest.param(
            b"- a\n- b\n",
            'error validating "f.yaml": error validating data: invalid object to validate; '
            "if you choose to ignore these errors, turn validation off with --validate=false",
            id="list document",
        ),
        pytest.param(
            b"{}\n",
            'error validating "f.yaml": error validating data: [apiVersion not set, kind not '
            "set]; if you choose to ignore these errors, turn validation off with --validate=false",
            id="empty object",
        ),
        pytest.param(
            b'{"kind": "Pod",}',
            "error parsing f.yaml: json: offset 16: invalid character '}' looking for beginning "
            "of object key string",
            id="json syntax",
        ),
        pytest.param(b'{"kind": "Pod"', "error parsing f.yaml: unexpected EOF", id="json cut"),
        pytest.param(
            b"a: &m [*m]\n",
            "error parsing f.yaml: error converting YAML to JSON: yaml: anchor 'm' value "
            "contains itself",
            id="recursive alias",
        ),
        pytest.param(
            b"apiVersion: v1\nkind: Pod\n---\nkind: Pod\n--- x\n",
            "error parsing f.yaml: invalid Yaml document separator: x",
            id="a separator ends the document before it is checked",
        ),
    ],
)
def test_bad_input_is_refused_with_kubectl_words(data: bytes, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_text(data, "f.yaml")
    assert str(caught.value) == message


def billion_laughs(levels: int = 9) -> bytes:
    lines = [b'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels + 1):
        refs = b",".join(b"*l%d" % (n - 1) for _ in range(9))
        lines.append(b"l%d: &l%d [%s]" % (n, n, refs))
    return b"\n".join(lines) + b"\n"


def test_alias_bomb_is_refused_at_once() -> None:
    started = time.perf_counter()
    with pytest.raises(ManifestError, match="document contains excessive aliasing"):
        load_text(billion_laughs(), "bomb.yaml")
    # Refused by counting, not by expanding: a generous bound that an expansion would never meet.
    assert time.perf_counter() - started < 5


def test_modest_aliases_are_fine() -> None:
    (m,) = load_text(b"a: &x {k: v}\nb: *x\nkind: Pod\napiVersion: v1\n", "f")
    assert m.body["b"] == {"k": "v"}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"[" * 5000 + b"]" * 5000, id="flow"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="json"),
        pytest.param(b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 400)), id="block"),
    ],
)
def test_deep_nesting_is_refused(data: bytes) -> None:
    with pytest.raises(ManifestError, match="nesting deeper than 100 levels is refused by this"):
        load_text(data, "deep.yaml")


def test_paths_directories_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(POD.format(name="b"))
    (tmp_path / "a.yml").write_text(POD.format(name="a"))
    (tmp_path / "c.json").write_text('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    single = tmp_path / "single.yaml"
    single.write_text(POD.format(name="s"))
    stdin = io.BytesIO(POD.format(name="in").encode())
    found = load_paths([str(tmp_path), "-", str(tmp_path / "b.yaml")], stdin=stdin)
    assert [(m.name, Path(m.source).name) for m in found] == [
        ("a", "a.yml"),
        ("b", "b.yaml"),
        ("c", "c.json"),
        ("s", "single.yaml"),
        ("in", "STDIN"),
        ("b", "b.yaml"),
    ]


def test_missing_path() -> None:
    with pytest.raises(ManifestError) as caught:
        load_paths(["/nonexistent.yaml"])
    assert str(caught.value) == 'the path "/nonexistent.yaml" does not exist'


def test_oversized_input_is_refused_without_reading_it_all() -> None:
    class Endless(io.RawIOBase):
        read_bytes = 0

        def read(self, size: int = -1) -> bytes:
            self.read_bytes += size
            return b"#" * size

    stream = Endless()
    with pytest.raises(ManifestError, match="larger than"):
        load_paths(["-"], stdin=stream)
    assert stream.read_bytes <= MAX_FILE_BYTES + 1


def test_seed_manifests_load() -> None:
    found = load_paths([str(MANIFESTS / "nginx-pod.yml"), str(MANIFESTS / "webapl-pod.yaml")])
    assert [(m.kind, m.name) for m in found] == [("Pod", "nginx"), ("Pod", "webapl")]


def test_duplicate_keys_keep_the_last_value_as_kubectls_yaml_conversion_does() -> None:
    # sigs.k8s.io/yaml converts YAML to JSON with go-yaml's non-strict Unmarshal: a repeated
    # key overwrites the earlier one, so the JSON kubectl sends has no duplicate to refuse.
    (m,) = load_text(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: first\n  name: second\n", "f")
    assert m.name == "second"
