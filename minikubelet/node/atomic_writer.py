"""The kubelet's atomic writer (`pkg/volume/util/atomic_writer.go`): a volume's files, swapped
in one rename, so a container never reads half an update.

Layout of a volume directory after a write:

    ..2025_01_01_12_00_00.123456789/   the files, in a timestamped hidden directory (0755)
    ..data -> ..2025_01_01_12_00_00.123456789
    key -> ..data/key                   one symlink per top-level entry of the payload

A write (1) validates the paths, (2) reads where `..data` points, (3) works out which visible
paths the new payload drops, (4) does nothing when every file already holds the same bytes
and nothing is dropped, else (5) writes the payload into a new timestamped directory, (6)
points `..data_tmp` at it and renames that over `..data` (the atomic step), (7) adds missing
visible symlinks, removes dropped ones, and removes the old directory. Modes are set with
chmod, so the umask does not matter. Synchronous: the agent calls it in a worker thread.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from minikubelet.node.projection import FileProjection

__all__ = ["DATA_DIR", "PathError", "write_payload"]

DATA_DIR = "..data"
_NEW_DATA_DIR = "..data_tmp"
_MAX_PATH = 4096
_MAX_NAME = 255


class PathError(ValueError):
    """A payload path the writer refuses; str is its `invalid path: ...` message."""


def validate_path(target: str) -> None:
    """`validatePath`: relative, no `..` element, not starting with `..`, bounded lengths."""
    if not target:
        raise PathError(f'invalid path: must not be empty: "{target}"')
    if posixpath.isabs(target):
        raise PathError(f"invalid path: must be relative path: {target}")
    if len(target) > _MAX_PATH:
        raise PathError(f"invalid path: must be less than or equal to {_MAX_PATH} characters")
    items = target.split("/")
    for item in items:
        if item == "..":
            raise PathError(f"invalid path: must not contain '..': {target}")
        if len(item) > _MAX_NAME:
            raise PathError(
                f"invalid path: filenames must be less than or equal to {_MAX_NAME} characters"
            )
    if items[0].startswith("..") and len(items[0]) > 2:
        raise PathError(f"invalid path: must not start with '..': {target}")


def _clean(payload: Mapping[str, FileProjection]) -> dict[str, FileProjection]:
    out = {}
    for path, projection in payload.items():
        validate_path(path)
        out[posixpath.normpath(path)] = projection
    return out


def _old_paths(old_dir: Path) -> set[str]:
    """Every file and directory under the old timestamped directory, relative to it."""
    found: set[str] = set()
    for root, dirs, files in os.walk(old_dir):
        rel = os.path.relpath(root, old_dir)
        for name in [*dirs, *files]:
            found.add(name if rel == "." else f"{rel}/{name}")
    return found


def _new_paths(payload: Mapping[str, FileProjection]) -> set[str]:
    """The payload's files and every directory above them."""
    found: set[str] = set()
    for path in payload:
        parts = path.split("/")
        found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _unchanged(payload: Mapping[str, FileProjection], old_dir: Path) -> bool:
    for path, projection in payload.items():
        try:
            if (old_dir / path).read_bytes() != projection.data:
                return False
        except OSError:
            return False
    return True


def _timestamp_dir(target: Path, now: datetime) -> Path:
    """`os.MkdirTemp(dir, "..2006_01_02_15_04_05.")`, made 0755."""
    stamp = now.astimezone(UTC).strftime("..%Y_%m_%d_%H_%M_%S.")
    while True:
        path = target / f"{stamp}{secrets.randbelow(2**32)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        path.chmod(0o755)
        return path


def _write_files(payload: Mapping[str, FileProjection], directory: Path) -> None:
    for path, projection in payload.items():
        full = directory / path
        full.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        full.write_bytes(projection.data)
        full.chmod(projection.mode & 0o7777)


def write_payload(target: Path, payload: Mapping[str, FileProjection], now: datetime) -> bool:
    """Make `target` hold exactly `payload`; returns whether anything was written."""
    clean = _clean(payload)
    target.mkdir(parents=True, exist_ok=True)
    data_link = target / DATA_DIR
    try:
        old_name = os.readlink(data_link)
    except FileNotFoundError:
        old_name = ""
    old_dir = target / old_name if old_name else None
    dropped: set[str] = set()
    if old_dir is not None:
        dropped = _old_paths(old_dir) - _new_paths(clean)
        if not dropped and _unchanged(clean, old_dir):
            _link_visible(target, clean)
            return False
    new_dir = _timestamp_dir(target, now)
    try:
        _write_files(clean, new_dir)
        tmp_link = target / _NEW_DATA_DIR
        if tmp_link.is_symlink():
            tmp_link.unlink()
        os.symlink(new_dir.name, tmp_link)
        os.rename(tmp_link, data_link)
    except OSError:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    _link_visible(target, clean)
    for path in dropped:
        if "/" not in path:
            (target / path).unlink(missing_ok=True)
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)
    return True


def _link_visible(target: Path, payload: Mapping[str, FileProjection]) -> None:
    """`createUserVisibleFiles`: `name -> ..data/name` for each top-level entry."""
    for top in sorted({path.split("/")[0] for path in payload}):
        link = target / top
        if not link.is_symlink():
            os.symlink(f"{DATA_DIR}/{top}", link)
