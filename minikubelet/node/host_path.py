"""The hostPath volume plugin's SetUp (`pkg/volume/hostpath/host_path.go`): the `type` check.

An unset type checks nothing. `DirectoryOrCreate` and `FileOrCreate` make what is missing and
check nothing more (the kubelet returns at once from makeDir/makeFile); what exists is checked
as `Directory` or `File`. `FileOrCreate` does not make the parent directory. The errors are the
plugin's words, which the volume manager reports as `FailedMount` (`node/volumes.py`).
"""

from __future__ import annotations

import os
import stat

from minikubelet.api.gofmt import go_errno_text

__all__ = ["HostPathError", "set_up"]

# type -> (the file type it must be, its description in the error)
_EXPECTED = {
    "Directory": ("Directory", "directory"),
    "DirectoryOrCreate": ("Directory", "directory"),
    "File": ("File", "file"),
    "FileOrCreate": ("File", "file"),
    "Socket": ("Socket", "socket file"),
    "CharDevice": ("CharDevice", "character device"),
    "BlockDevice": ("BlockDevice", "block device"),
}


class HostPathError(Exception):
    """SetUp failed; str is the plugin's error."""


def _go_error(op: str, exc: OSError) -> str:
    """An OSError as Go's *PathError prints: `mkdir /a/b: permission denied`."""
    return f"{op} {exc.filename}: {go_errno_text(exc)}"


def _file_type(path: str) -> str:
    """hostutil's GetFileType (it follows symlinks)."""
    mode = os.stat(path).st_mode
    for check, name in (
        (stat.S_ISDIR, "Directory"),
        (stat.S_ISREG, "File"),
        (stat.S_ISSOCK, "Socket"),
        (stat.S_ISCHR, "CharDevice"),
        (stat.S_ISBLK, "BlockDevice"),
    ):
        if check(mode):
            return name
    raise HostPathError("only recognise file, directory, socket, block device and character device")


def _make(path: str, kind: str) -> None:
    """makeDir (MkdirAll 0755) or makeFile (O_CREATE 0644); an existing path is no error."""
    try:
        if kind == "DirectoryOrCreate":
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o644))
    except FileExistsError:
        pass
    except OSError as exc:
        op = "mkdir" if kind == "DirectoryOrCreate" else "open"
        raise HostPathError(_go_error(op, exc)) from None


def set_up(path: str, kind: str) -> None:
    """checkType for a hostPath of `type` `kind` (validation has refused any other value)."""
    if kind not in _EXPECTED:
        return  # "" (HostPathUnset): no check
    exists = os.path.exists(path)  # hostutil.PathExists: stat, following symlinks
    if kind.endswith("OrCreate") and not exists:
        _make(path, kind)
        return
    expected, description = _EXPECTED[kind]
    if not exists:
        raise HostPathError(f"hostPath {path} doesn't exist")
    try:
        found = _file_type(path)
    except (HostPathError, OSError) as exc:
        detail = _go_error("stat", exc) if isinstance(exc, OSError) else str(exc)
        raise HostPathError(
            f"hostPath type check failed, {path} is not a {description}, "
            f"unable to determine its type: {detail}"
        ) from None
    if found != expected:
        raise HostPathError(
            f"hostPath type check failed: {path} is not a {description}, it's a {found}"
        )
