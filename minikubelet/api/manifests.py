"""Reading manifests as `kubectl apply -f` does: files, directories, stdin; YAML, JSON, Lists.

Hostile input is refused early and cheaply: non-UTF-8 and binary junk by the YAML reader, alias
bombs by measuring the expanded size of the node graph before anything is built from it, deep
nesting by a depth limit, and oversized files by their byte count. Every failure is one
`ManifestError` whose text is what kubectl prints after `error: `.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from minikubelet.errors import ManifestError

__all__ = ["MAX_OBJECT_BYTES", "Manifest", "json_type", "load_paths", "load_text"]

# The API server's request body limit; an object above it is refused as it would be (413).
MAX_OBJECT_BYTES = 3 * 1024 * 1024
# A file may hold many objects, but not unboundedly many bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Nodes a document may expand to through aliases (go-yaml refuses "excessive aliasing").
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 100
_EXTENSIONS = (".yaml", ".yml", ".json")

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type, misc]
    """Safe loading with YAML 1.1 scalars as Kubernetes resolves them, but times kept as text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object read from a source (a path as the user typed it, or `STDIN`)."""

    source: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""


def load_paths(paths: Iterable[str], stdin: Any = None) -> list[Manifest]:
    """Every object in `paths` (`-` is stdin), directories read in lexical order."""
    found: list[Manifest] = []
    for given in paths:
        if given == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            found.extend(load_text(_read_limited(stream), "STDIN"))
            continue
        path = Path(given)
        if not path.exists():
            raise ManifestError(f'the path "{given}" does not exist')
        files = _files_in(path) if path.is_dir() else [path]
        for file in files:
            with file.open("rb") as stream:
                found.extend(load_text(_read_limited(stream), str(file)))
    return found


def _files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in _EXTENSIONS)


def _read_limited(stream: Any) -> bytes:
    data: bytes = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ManifestError(f"input is larger than {MAX_FILE_BYTES} bytes")
    return data


def load_text(data: bytes | str, source: str) -> list[Manifest]:
    """One file's objects: `kind: List` flattened, empty documents skipped."""
    manifests: list[Manifest] = []
    for document in _documents(data, source):
        for item in _flatten(document, source):
            manifests.append(Manifest(source, item))
    return manifests


def _documents(data: bytes | str, source: str) -> Iterator[Any]:
    if isinstance(data, bytes) and b"\x00" in data:
        raise _parse_error(source, "yaml: control characters are not allowed")
    try:
        for node in yaml.compose_all(data, Loader=_Loader):
            if node is None:
                continue
            _check_expansion(node, source)
            loader = _Loader("")
            yield _to_json(loader.construct_document(node), source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise _parse_error(source, f"yaml: {line}{exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise _parse_error(source, f"yaml: {getattr(exc, 'reason', exc)}") from exc
    except RecursionError as exc:
        raise _parse_error(source, "yaml: exceeded max depth of 10000") from exc


def _parse_error(source: str, detail: str) -> ManifestError:
    return ManifestError(f"error parsing {source}: error converting YAML to JSON: {detail}")


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases expand past MAX_EXPANDED_NODES or past MAX_DEPTH.

    Sizes are memoised per node, so a billion-laughs graph costs time linear in its text.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH or key in active:
            raise _parse_error(source, "yaml: exceeded max depth of 100")
        total = 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            active.add(key)
            children: list[yaml.Node] = (
                node.value
                if isinstance(node, yaml.SequenceNode)
                else [n for pair in node.value for n in pair]
            )
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_EXPANDED_NODES:
                    raise _parse_error(source, "yaml: document contains excessive aliasing")
            active.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def _to_json(value: Any, source: str) -> Any:
    """YAML to JSON as Kubernetes does it: map keys become strings, other tags are refused."""
    if isinstance(value, dict):
        return {_key(k): _to_json(v, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v, source) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _parse_error(source, f"yaml: unsupported value of type {type(value).__name__}")


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _flatten(document: Any, source: str) -> Iterator[dict[str, Any]]:
    if document is None:
        return
    if not isinstance(document, dict):
        text = json.dumps(document)[:60]
        raise ManifestError(
            f"error parsing {source}: error unmarshaling JSON: json: cannot unmarshal "
            f"{json_type(document)} into Go value of type map[string]interface {{}} ({text})"
        )
    if not document:
        return
    if str(document.get("kind", "")).endswith("List") and isinstance(document.get("items"), list):
        for item in document["items"]:
            yield from _flatten(item, source)
        return
    yield document


def json_type(value: Any) -> str:
    """Go's name for a JSON value's type in `cannot unmarshal <type> into ...` messages."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "object" if isinstance(value, dict) else "number"
