"""PATCH bodies applied to a stored Pod: strategic merge, JSON merge (RFC 7386), JSON patch
(RFC 6902), as the API server applies them before its update rules.

`kubectl apply` on an existing pod sends a strategic merge patch; `label`/`annotate` send a
merge patch; `kubectl patch --type json` a JSON patch. The strategic merge follows
apimachinery's `strategicpatch`: lists with a `patchMergeKey` (containers by name, ports by
containerPort, volumeMounts by mountPath...) merge item by item, other lists are replaced,
`null` deletes, and the `$patch` (replace/delete), `$setElementOrder/`, `$retainKeys` and
`$deleteFromPrimitiveList/` directives are honoured. The merge keys come from `openapi`, so
the patch kubectl computes from our schema is the one we apply.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request

from minikubelet.errors import BadRequest, Invalid, RequestEntityTooLarge, StatusError
from minikubelet.server.openapi import MERGE_KEYS, PRIMITIVE_MERGE
from minikubelet.server.responses import MAX_BODY, loads_body

__all__ = ["PATCH_TYPES", "apply_patch", "json_patch", "merge_patch", "read_patch"]
__all__ += ["strategic_merge"]

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (STRATEGIC, MERGE, JSON_PATCH)

_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


class UnsupportedMediaType(StatusError):
    reason = "UnsupportedMediaType"
    code = 415


@cache
def _table() -> dict[str, dict[str, Any]]:
    text = resources.files("minikubelet.api").joinpath("pod_schema.json").read_text()
    table: dict[str, dict[str, Any]] = json.loads(text)
    return table


async def read_patch(request: Request) -> Any:
    """The JSON of a PATCH body (an object, or a list for a JSON patch), within 3 MiB; a
    media type this node does not apply is refused before the body is read."""
    _check_media(request.headers.get("content-type", ""))
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
    return loads_body(data)


def _check_media(content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media == APPLY:
        raise UnsupportedMediaType(
            "server-side apply is not supported by this node; use client-side `kubectl apply`"
        )
    if media not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(PATCH_TYPES)}"
        )
    return media


def apply_patch(
    content_type: str, original: dict[str, Any], patch: Any, kind: str = "Pod"
) -> dict[str, Any]:
    """The object after the patch, before any validation; raises the API server's errors.
    A strategic merge follows `kind`'s schema where the schema knows it (lists of a kind
    without one are replaced whole, as for a type without patch strategies)."""
    media = _check_media(content_type)
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        patched = json_patch(original, patch)
    elif media in (STRATEGIC, MERGE):
        if not isinstance(patch, dict):
            raise BadRequest("the body of the request was in an unknown format: not an object")
        if media == STRATEGIC:
            patched = strategic_merge(original, patch, kind)
        else:
            patched = merge_patch(original, patch)
    if not isinstance(patched, dict):
        raise BadRequest("the patch made the object something other than an object")
    return patched


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(
    original: dict[str, Any], patch: dict[str, Any], kind: str = "Pod"
) -> dict[str, Any]:
    """A strategic merge patch over an object of `kind`."""
    merged = _merge_map(original, patch, kind if kind in _table() else None)
    return merged if merged is not None else {}


def _child_type(type_name: str | None, key: str) -> Any:
    if type_name is None:
        return None
    return _table().get(type_name, {}).get(key)


def _object_type(kind: Any) -> str | None:
    """The schema type of a field if it is an object type, else None (maps, scalars, any)."""
    return kind if isinstance(kind, str) and kind in _table() else None


def _merge_map(
    original: dict[str, Any] | None, patch: dict[str, Any], type_name: str | None
) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        cleaned: dict[str, Any] = _clean(patch)
        return cleaned
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE) and isinstance(value, list):
            field = key.removeprefix(_DELETE_PRIMITIVE)
            kept = [v for v in result.get(field) or [] if v not in value]
            result[field] = kept
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        kind = _child_type(type_name, key)
        merged = _merge_value(result.get(key), value, type_name, key, kind)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    for key, order in patch.items():
        if key.startswith(_ORDER) and isinstance(order, list):
            field = key.removeprefix(_ORDER)
            if isinstance(result.get(field), list):
                key_name = MERGE_KEYS.get((type_name or "", field))
                result[field] = _ordered(result[field], order, key_name)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_value(current: Any, value: Any, owner: str | None, key: str, kind: Any) -> Any:
    if isinstance(value, dict):
        inner = _object_type(kind)
        if isinstance(kind, dict) and "map" in kind:
            inner = None  # a map of scalars or objects: plain key-by-key merge
        return _merge_map(current, value, inner)
    if isinstance(value, list):
        merge_key = MERGE_KEYS.get((owner or "", key))
        if merge_key is not None and isinstance(kind, dict):
            return _merge_list(current, value, merge_key, _object_type(kind.get("list")))
        if (owner or "", key) in PRIMITIVE_MERGE:
            merged = list(current) if isinstance(current, list) else []
            return merged + [v for v in value if v not in merged]
        return [_clean(v) if isinstance(v, dict) else v for v in value]
    return value


def _merge_list(current: Any, patch: list[Any], key: str, item_type: str | None) -> list[Any]:
    """Items matched by their merge key; `{"$patch": "delete", key: v}` removes one and a
    `{"$patch": "replace"}` item makes the list exactly the patch's other items."""
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_clean(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = copy.deepcopy(current) if isinstance(current, list) else []
    for item in patch:
        if not isinstance(item, dict):
            if item not in result:
                result.append(item)
            continue
        wanted = item.get(key)
        index = next(
            (n for n, r in enumerate(result) if isinstance(r, dict) and r.get(key) == wanted), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        merged = _merge_map(result[index] if index is not None else None, item, item_type)
        if index is None:
            result.append(merged)
        elif merged is None:
            del result[index]
        else:
            result[index] = merged
    return result


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """`$setElementOrder`: the listed items in the listed order, then the others as they were."""

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    listed = sorted((i for i in items if ident(i) in wanted), key=lambda i: wanted.index(ident(i)))
    return listed + [i for i in items if ident(i) not in wanted]


def _clean(value: Any) -> Any:
    """A patch value with its directives removed, for where it replaces what was there."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise Invalid(f'the server rejected our request due to an error in our request: '
                      f'invalid JSON pointer "{path}"')  # fmt: skip
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _fail(message: str) -> Invalid:
    return Invalid(f"the server rejected our request due to an error in our request: {message}")


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    if not parts:
        raise _fail(f"cannot operate on the whole document at {path!r}")
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _fail(f"doc is missing path: {path}")
    return node, parts[-1]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _fail(f"doc is missing path: {path}")
    return node


def _remove(doc: Any, path: str) -> Any:
    node, last = _parent(doc, _pointer(path), path)
    if isinstance(node, dict) and last in node:
        return node.pop(last)
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node.pop(int(last))
    raise _fail(f"unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, path: str, value: Any, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return copy.deepcopy(value)
    node, last = _parent(doc, parts, path)
    if isinstance(node, dict):
        if replace and last not in node:
            raise _fail(f"replace operation does not apply: doc is missing key: {path}")
        node[last] = copy.deepcopy(value)
    elif isinstance(node, list):
        index = len(node) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(node) - (1 if replace else 0):
            raise _fail(f"invalid index {last!r} for {path}")
        if replace:
            node[index] = copy.deepcopy(value)
        else:
            node.insert(index, copy.deepcopy(value))
    else:
        raise _fail(f"doc is missing path: {path}")
    return doc


def json_patch(original: dict[str, Any], operations: list[Any]) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, in order, all or nothing."""
    doc: Any = copy.deepcopy(original)
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise _fail(f"invalid operation {json.dumps(op)}")
        name, path = op.get("op"), op["path"]
        if name in ("add", "replace", "test") and "value" not in op:
            raise _fail(f"{name} operation has no value")
        if name == "add":
            doc = _add(doc, path, op["value"], replace=False)
        elif name == "replace":
            doc = _add(doc, path, op["value"], replace=True)
        elif name == "remove":
            _remove(doc, path)
        elif name in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise _fail(f"{name} operation has no from")
            value = _remove(doc, source) if name == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value, replace=False)
        elif name == "test":
            if _get(doc, path) != op["value"]:
                raise _fail(f"testing value {path} failed: test failed")
        else:
            raise _fail(f"Unexpected kind: {name}")
    return doc
