"""The files of a configMap, secret, downwardAPI or projected volume (`pkg/volume/*` MakePayload).

A volume's payload is `{relative path: FileProjection(bytes, mode)}`, computed from the pod and
the objects it names; `node/atomic_writer.py` puts it on disk. Without `items` every key is a
file (a ConfigMap's `data` and `binaryData`, a Secret's `data`); with `items` only those, at
their `path`, with their `mode`. A missing object fails the mount with the managers' NotFound
(`configmap "x" not found`) unless `optional`, when the volume is empty; a missing item key
fails it (`configmap references non-existent config key: k`) unless `optional`. A projected
volume collects every source and fails with all their errors, as an aggregate prints them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from minikubelet.api.gobase64 import decode
from minikubelet.api.models import Pod
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.node.downward import DownwardError, field_value, resource_value
from minikubelet.node.envvars import ObjectSource, not_found

__all__ = ["CONFIG_VOLUMES", "FileProjection", "VolumeError", "payload"]

Payload = dict[str, "FileProjection"]
CONFIG_VOLUMES = ("configMap", "secret", "downwardAPI", "projected")
_DEFAULT_MODE = 0o644


@dataclass(frozen=True, slots=True)
class FileProjection:
    data: bytes
    mode: int


class VolumeError(Exception):
    """SetUp failed; str is the error after `MountVolume.SetUp failed for volume "v" : `."""


def _aggregate(errors: list[str]) -> str:
    """`utilerrors.NewAggregate(...).Error()`: one message alone, several as `[a, b]`."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _object_files(obj: JSON, kind: str) -> dict[str, bytes]:
    files = {k: decode(v) for k, v in (obj.get("binaryData") or {}).items()}
    if kind == "Secret":
        files.update({k: decode(v) for k, v in (obj.get("data") or {}).items()})
    else:
        files.update({k: str(v).encode() for k, v in (obj.get("data") or {}).items()})
    return files


def _key_payload(
    files: dict[str, bytes], kind: str, items: list[JSON] | None, mode: int, optional: bool
) -> Payload:
    """MakePayload of the configmap and secret plugins."""
    if not items:
        return {key: FileProjection(data, mode) for key, data in files.items()}
    out: Payload = {}
    for item in items:
        key = str(item.get("key") or "")
        if key not in files:
            if optional:
                continue
            what = "config key" if kind == "ConfigMap" else "secret key"
            noun = "configmap" if kind == "ConfigMap" else "secret"
            raise VolumeError(f"{noun} references non-existent {what}: {key}")
        item_mode = item.get("mode")
        out[str(item.get("path") or "")] = FileProjection(
            files[key], int(item_mode) if item_mode is not None else mode
        )
    return out


def _object_payload(
    pod: Pod, source: ObjectSource, kind: str, name: str, spec: JSON, mode: int
) -> Payload:
    optional = bool(spec.get("optional"))
    obj = source.get_object(kind, pod.metadata.namespace or "default", name)
    if obj is None and not optional:
        raise VolumeError(not_found(kind, name))
    files = _object_files(obj, kind) if obj is not None else {}
    return _key_payload(files, kind, spec.get("items"), mode, optional)


def _downward_payload(
    pod: Pod, items: list[JSON], mode: int, allocatable: Mapping[str, Quantity]
) -> Payload:
    """`downwardapi.CollectData`: every item, errors aggregated."""
    out: Payload = {}
    errors: list[str] = []
    for item in items:
        item_mode = item.get("mode")
        data = b""
        try:
            if item.get("fieldRef") is not None:
                data = field_value(pod, str(item["fieldRef"].get("fieldPath") or "")).encode()
            elif item.get("resourceFieldRef") is not None:
                ref = item["resourceFieldRef"]
                data = resource_value(ref, pod, None, allocatable).encode()
        except DownwardError as exc:
            errors.append(str(exc))
        path = posixpath.normpath(str(item.get("path") or ""))
        out[path] = FileProjection(data, int(item_mode) if item_mode is not None else mode)
    if errors:
        raise VolumeError(_aggregate(errors))
    return out


def payload(
    pod: Pod,
    volume: JSON,
    source: ObjectSource,
    allocatable: Mapping[str, Quantity] | None = None,
) -> Payload:
    """The files of one volume (its JSON, as in `spec.volumes[]`); raises VolumeError."""
    allocatable = allocatable or {}
    if volume.get("configMap") is not None:
        spec = volume["configMap"]
        mode = _mode(spec)
        return _object_payload(pod, source, "ConfigMap", str(spec.get("name") or ""), spec, mode)
    if volume.get("secret") is not None:
        spec = volume["secret"]
        name = str(spec.get("secretName") or "")
        return _object_payload(pod, source, "Secret", name, spec, _mode(spec))
    if volume.get("downwardAPI") is not None:
        spec = volume["downwardAPI"]
        return _downward_payload(pod, spec.get("items") or [], _mode(spec), allocatable)
    if volume.get("projected") is not None:
        return _projected(pod, volume["projected"], source, allocatable)
    raise VolumeError(f"volume {volume.get('name')!r} is not a config volume")


def _mode(spec: JSON) -> int:
    value = spec.get("defaultMode")
    return int(value) if value is not None else _DEFAULT_MODE


def _projected(
    pod: Pod, spec: JSON, source: ObjectSource, allocatable: Mapping[str, Quantity]
) -> Payload:
    """`projectedVolumeMounter.collectData`: sources in order, later paths win."""
    mode = _mode(spec)
    out: Payload = {}
    errors: list[str] = []
    for item in spec.get("sources") or []:
        try:
            if item.get("configMap") is not None:
                ref = item["configMap"]
                name = str(ref.get("name") or "")
                out.update(_object_payload(pod, source, "ConfigMap", name, ref, mode))
            elif item.get("secret") is not None:
                ref = item["secret"]
                name = str(ref.get("name") or "")
                out.update(_object_payload(pod, source, "Secret", name, ref, mode))
            elif item.get("downwardAPI") is not None:
                items = item["downwardAPI"].get("items") or []
                out.update(_downward_payload(pod, items, mode, allocatable))
            else:
                kind = next(iter(item), "unknown")
                errors.append(f"projected source {kind} is not supported by minikubelet")
        except VolumeError as exc:
            errors.append(str(exc))
    if errors:
        raise VolumeError(_aggregate(errors))
    return out
