"""Reading manifests as `kubectl apply -f` does: files, directories, stdin; YAML, JSON, Lists.

A file is read as kubectl's stream visitor reads it, one document after another, each parsed
(api/goyaml.py, or api/gojson.py when the stream starts with `{`) and then checked as kubectl's
validation checks it before anything is sent: an object, apiVersion and kind set and strings
(`[apiVersion not set, kind not set]`), a v1 List's items too. The first failure ends the
read, in document order, with kubectl's words; every failure is one `ManifestError` whose text
is what kubectl prints after `error: `. Bytes are taken as kubectl takes them: a UTF-8 BOM
dropped, a UTF-16 one obeyed, each invalid UTF-8 byte read as U+FFFD.

Where the node refuses what kubectl would pass on (to the API server): NUL-free binary junk is
refused as go-yaml refuses it; nesting deeper than goyaml.MAX_DEPTH levels and files over
MAX_FILE_BYTES are refused here, in words of the node's own.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minikubelet.api.gojson import GoJSONError, json_values
from minikubelet.api.goyaml import MAX_DEPTH, DepthError, GoYAMLError, go_string, yaml_to_json
from minikubelet.api.raw import MAX_OBJECT_BYTES
from minikubelet.errors import ManifestError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_OBJECT_BYTES",
    "VALIDATE_HINT",
    "Manifest",
    "json_type",
    "load_paths",
    "load_text",
    "object_kind_errors",
]

# A file may hold many objects, but not unboundedly many bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
_EXTENSIONS = (".yaml", ".yml", ".json")
_JSON_SNIFF = 4096  # bytes kubectl looks at for a leading `{`
VALIDATE_HINT = "if you choose to ignore these errors, turn validation off with --validate=false"


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
    """One file's objects in order, `kind: List` flattened, empty and null documents skipped."""
    manifests: list[Manifest] = []
    for document in _documents(_text(data), source):
        errors = object_kind_errors(document)
        if errors:
            detail = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
            raise ManifestError(
                f'error validating "{source}": error validating data: {detail}; {VALIDATE_HINT}'
            )
        for item in _flatten(document):
            manifests.append(Manifest(source, item))
    return manifests


def _text(data: bytes | str) -> str:
    """The bytes as kubectl's file reader hands them on: BOMs obeyed, bad UTF-8 as U+FFFD."""
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return go_string(data[len(codecs.BOM_UTF8) :])
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    return go_string(data)


def _documents(text: str, source: str) -> Iterator[Any]:
    """Each non-empty document's JSON value, in order."""
    head = text.encode()[:_JSON_SNIFF].decode(errors="ignore")
    try:
        if head.lstrip().startswith("{"):
            for value in json_values(text.encode()):
                if value is not None:
                    yield value
            return
        for chunk in _yaml_chunks(text, source):
            value = yaml_to_json(chunk)
            if value is not None:
                yield value
    except DepthError:
        raise ManifestError(
            f"error parsing {source}: nesting deeper than {MAX_DEPTH} levels is refused by "
            "this node (kubectl would send the document to the API server)"
        ) from None
    except GoYAMLError as exc:
        raise ManifestError(
            f"error parsing {source}: error converting YAML to JSON: {exc}"
        ) from None
    except GoJSONError as exc:
        raise ManifestError(f"error parsing {source}: {exc}") from None


def _yaml_chunks(text: str, source: str) -> Iterator[str]:
    """apimachinery's YAMLReader: documents split at lines starting `---`, line by line (a
    line's `\r\n` read as `\n`); after `---` only spaces and a comment may follow."""
    raws = text.split("\n")
    if text.endswith("\n") or not text:
        raws.pop()  # what follows the last newline is no line
    lines: list[str] = []
    for raw in raws:
        line = raw.removesuffix("\r") + "\n"
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise ManifestError(
                    f"error parsing {source}: invalid Yaml document separator: {rest}"
                )
            if lines:
                yield "".join(lines)
                lines = []
            continue
        lines.append(line)
    if lines:
        yield "".join(lines)


def object_kind_errors(document: Any) -> list[str]:
    """kubectl's client-side validation of one document (getObjectKind, and a v1 List's
    items): what it reports, in its words; empty when it would go on to the server."""
    if not isinstance(document, dict):
        return ["invalid object to validate"]
    errors = []
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if api_version is None:
        errors.append("apiVersion not set")
    elif not isinstance(api_version, str):
        errors.append("apiVersion isn't string type")
    elif api_version.count("/") > 1:
        errors.append(f"unexpected GroupVersion string: {api_version}")
    if kind is None:
        errors.append("kind not set")
    elif not isinstance(kind, str):
        errors.append("kind isn't string type")
    if errors or (api_version, kind) != ("v1", "List"):
        return errors
    items = document.get("items")
    if not isinstance(items, list):
        return ["invalid object to validate"]
    return [error for item in items for error in object_kind_errors(item)]


def _flatten(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if str(document.get("kind", "")).endswith("List") and isinstance(document.get("items"), list):
        for item in document["items"]:
            if isinstance(item, dict):
                yield from _flatten(item)
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
