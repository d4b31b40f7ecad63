"""Volumes and volume mounts (`ValidateVolumes`, `validateVolumeSource`, `ValidateVolumeMounts`).

Sources other than emptyDir and hostPath are kept as raw JSON in `Volume.extra`; the few whose
required fields the reference lists (secret, configMap, persistentVolumeClaim) are checked from
those dicts, the others only take part in the one-source rule.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Container, HostPathVolumeSource, Volume
from minikubelet.api.raw import go_objects
from minikubelet.api.validation.field import (
    FieldError,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    required,
)
from minikubelet.api.validation.names import is_dns1123_label

__all__ = ["validate_volume_mounts", "validate_volumes"]

# (JSON key, path segment) in `validateVolumeSource`'s order; the segment differs for cephfs and
# carries upstream's `downwarAPI` typo.
_SOURCES = (
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
)

_HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"
_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")


def validate_volumes(volumes: list[Volume] | None, path: Path) -> tuple[set[str], list[FieldError]]:
    """Return the names of the volumes that passed, and the errors.

    A volume with any error stays out of the returned set, so mounts of it are `Not found` too;
    source errors come before name errors, as upstream appends them.
    """
    known: set[str] = set()
    errs: list[FieldError] = []
    for i, volume in enumerate(volumes or []):
        vol_path = path.index(i)
        name_path = vol_path.child("name")
        found = _validate_source(volume, vol_path)
        if not volume.name:
            found.append(required(name_path))
        else:
            found += [invalid(name_path, volume.name, m) for m in is_dns1123_label(volume.name)]
        if volume.name in known:
            found.append(duplicate(name_path, volume.name))
        if found:
            errs += found
        else:
            known.add(volume.name)
    return known, errs


def _source_body(volume: Volume, key: str) -> Any:
    if key == "emptyDir":
        return volume.emptyDir
    if key == "hostPath":
        return volume.hostPath
    return volume.extra.get(key)


def _validate_source(volume: Volume, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for key, segment in _SOURCES:
        body = _source_body(volume, key)
        if body is None:
            continue
        if count:
            errs.append(forbidden(path.child(segment), "may not specify more than 1 volume type"))
            continue
        count += 1
        errs += _validate_first_source(key, body, path.child(segment))
    if not count:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _validate_first_source(key: str, body: Any, path: Path) -> list[FieldError]:
    if key == "emptyDir":
        limit = body.sizeLimit
        if limit is not None and limit.sign < 0:
            detail = "SizeLimit field must be a valid resource quantity"
            return [forbidden(path.child("sizeLimit"), detail)]
        return []
    if key == "hostPath":
        return _validate_host_path(body, path)
    if not isinstance(body, dict):
        return []
    if key == "secret":
        return _validate_projection(body, "secretName", path)
    if key == "configMap":
        return _validate_projection(body, "name", path)
    if key == "persistentVolumeClaim" and not body.get("claimName"):
        return [required(path.child("claimName"))]
    return []


def _validate_host_path(source: HostPathVolumeSource, path: Path) -> list[FieldError]:
    if not source.path:
        return [required(path.child("path"))]
    errs = _no_backsteps(source.path, path.child("path"))
    if source.type is not None and source.type not in _HOST_PATH_TYPES:
        errs.append(not_supported(path.child("type"), source.type, _HOST_PATH_TYPES))
    return errs


def _validate_projection(body: dict[str, Any], name_key: str, path: Path) -> list[FieldError]:
    """Secret and configMap volumes: the name, `defaultMode` and each `items[]` entry."""
    errs: list[FieldError] = []
    if not body.get(name_key):
        errs.append(required(path.child(name_key)))
    errs += _mode(body.get("defaultMode"), path.child("defaultMode"))
    for i, item in enumerate(go_objects(body.get("items"))):
        item_path = path.child("items").index(i)
        if not item.get("key"):
            errs.append(required(item_path.child("key")))
        target = item.get("path") or ""
        if not target:
            errs.append(required(item_path.child("path")))
        errs += _local_non_reserved(target, item_path.child("path"))
        errs += _mode(item.get("mode"), item_path.child("mode"))
    return errs


def _mode(mode: Any, path: Path) -> list[FieldError]:
    if isinstance(mode, int) and not 0 <= mode <= 0o777:
        return [invalid(path, mode, _FILE_MODE_MSG)]
    return []


def _no_backsteps(target: str, path: Path) -> list[FieldError]:
    if ".." in target.split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def local_descending(target: str, path: Path) -> list[FieldError]:
    """`ValidateLocalDescendingPath`: relative, with no `..` element."""
    errs = [invalid(path, target, "must be a relative path")] if target.startswith("/") else []
    return errs + _no_backsteps(target, path)


def _local_non_reserved(target: str, path: Path) -> list[FieldError]:
    errs = local_descending(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def validate_volume_mounts(container: Container, known: set[str], path: Path) -> list[FieldError]:
    """One container's mounts; subPath, subPathExpr and mountPropagation errors use the list
    path WITHOUT the index, a quirk of upstream kept because clients see it."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, mount in enumerate(container.volumeMounts or []):
        mount_path = path.index(i)
        if not mount.name:
            errs.append(required(mount_path.child("name")))
        if mount.name not in known:
            errs.append(not_found(mount_path.child("name"), mount.name))
        if not mount.mountPath:
            errs.append(required(mount_path.child("mountPath")))
        if mount.mountPath in seen:
            errs.append(invalid(mount_path.child("mountPath"), mount.mountPath, "must be unique"))
        seen.add(mount.mountPath)
        sub_path = mount.subPath or ""
        if sub_path:
            errs += local_descending(sub_path, path.child("subPath"))
        expr = mount.extra.get("subPathExpr") or ""
        if expr:
            if sub_path:
                detail = "subPathExpr and subPath are mutually exclusive"
                errs.append(invalid(mount_path.child("subPathExpr"), expr, detail))
            errs += local_descending(expr, path.child("subPathExpr"))
        propagation = mount.extra.get("mountPropagation")
        if propagation is not None:
            errs += _propagation(propagation, container, path.child("mountPropagation"))
    return errs


def _propagation(mode: Any, container: Container, path: Path) -> list[FieldError]:
    errs = [] if mode in _PROPAGATIONS else [not_supported(path, mode, _PROPAGATIONS)]
    context = container.extra.get("securityContext")
    privileged = isinstance(context, dict) and context.get("privileged") is True
    if mode == "Bidirectional" and not privileged:
        detail = "Bidirectional mount propagation is available only to privileged containers"
        errs.append(forbidden(path, detail))
    return errs
