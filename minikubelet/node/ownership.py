"""`fsGroup` volume ownership (`pkg/volume/volume_linux.go` `SetVolumeOwnership`,
`changeFilePermission`): every file and directory of a volume gets the group, group read
(and write, unless the volume is read-only: configMap, secret, downwardAPI, projected) and
directories the setgid bit and group search, so what the pod creates there keeps the group.
Symlinks are re-owned, never chmod-ed (that would reach their target). Synchronous: run it in a
worker thread for large trees.
"""

from __future__ import annotations

import os
import stat

__all__ = ["set_volume_ownership"]

_RW = 0o660
_RO = 0o440
_EXEC = 0o110


def _change(path: str, fs_group: int, read_only: bool) -> None:
    info = os.lstat(path)
    os.lchown(path, -1, fs_group)
    if stat.S_ISLNK(info.st_mode):
        return
    mask = _RO if read_only else _RW
    if stat.S_ISDIR(info.st_mode):
        mask |= stat.S_ISGID | _EXEC
    os.chmod(path, stat.S_IMODE(info.st_mode) | mask)


def set_volume_ownership(root: str, fs_group: int, *, read_only: bool) -> None:
    """Walk `root` (itself included, symlinks not followed) and apply the group."""
    _change(root, fs_group, read_only)
    for parent, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            _change(os.path.join(parent, name), fs_group, read_only)
