"""The hostPath plugin's SetUp (`pkg/volume/hostpath/host_path.go` `checkType`), on real files."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikubelet.node.host_path import HostPathError, set_up


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "link-to-dir").symlink_to(tmp_path / "dir")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    yield tmp_path
    sock.close()


@pytest.mark.parametrize(
    ("name", "kind", "error"),
    [
        pytest.param("missing", "", None, id="unset type: no check"),
        pytest.param("file", "", None, id="unset type: no check of a file"),
        pytest.param("dir", "Directory", None, id="a directory"),
        pytest.param("link-to-dir", "Directory", None, id="a symlink is followed"),
        pytest.param("file", "File", None, id="a file"),
        pytest.param("sock", "Socket", None, id="a socket"),
        pytest.param("missing", "Directory", "hostPath {p} doesn't exist", id="missing dir"),
        pytest.param("missing", "File", "hostPath {p} doesn't exist", id="missing file"),
        pytest.param("missing", "Socket", "hostPath {p} doesn't exist", id="missing socket"),
        pytest.param("dangling", "File", "hostPath {p} doesn't exist", id="dangling symlink"),
        pytest.param(
            "file",
            "Directory",
            "hostPath type check failed: {p} is not a directory, it's a File",
            id="a file as Directory",
        ),
        pytest.param(
            "dir",
            "File",
            "hostPath type check failed: {p} is not a file, it's a Directory",
            id="a directory as File",
        ),
        pytest.param(
            "dir",
            "Socket",
            "hostPath type check failed: {p} is not a socket file, it's a Directory",
            id="a directory as Socket",
        ),
        pytest.param(
            "sock",
            "CharDevice",
            "hostPath type check failed: {p} is not a character device, it's a Socket",
            id="a socket as CharDevice",
        ),
        pytest.param(
            "file",
            "BlockDevice",
            "hostPath type check failed: {p} is not a block device, it's a File",
            id="a file as BlockDevice",
        ),
        pytest.param(
            "file",
            "DirectoryOrCreate",
            "hostPath type check failed: {p} is not a directory, it's a File",
            id="DirectoryOrCreate over a file",
        ),
        pytest.param(
            "dir",
            "FileOrCreate",
            "hostPath type check failed: {p} is not a file, it's a Directory",
            id="FileOrCreate over a directory",
        ),
        pytest.param(
            "fifo",
            "File",
            "hostPath type check failed, {p} is not a file, unable to determine its type: "
            "only recognise file, directory, socket, block device and character device",
            id="a fifo",
        ),
    ],
)
def test_check_type(root: Path, name: str, kind: str, error: str | None) -> None:
    path = str(root / name)
    if error is None:
        set_up(path, kind)
        return
    with pytest.raises(HostPathError) as caught:
        set_up(path, kind)
    assert str(caught.value) == error.format(p=path)


def test_directory_or_create_makes_the_parents(root: Path) -> None:
    target = root / "a" / "b"
    set_up(str(target), "DirectoryOrCreate")
    assert target.is_dir()
    assert (target.stat().st_mode & 0o777) == 0o755 & ~_umask()


def test_file_or_create_makes_the_file_not_its_parent(root: Path) -> None:
    set_up(str(root / "new"), "FileOrCreate")
    assert (root / "new").is_file() and (root / "new").read_text() == ""
    deeper = root / "no" / "new"
    with pytest.raises(HostPathError) as caught:
        set_up(str(deeper), "FileOrCreate")
    assert str(caught.value) == f"open {deeper}: no such file or directory"
    assert not (root / "no").exists()


def test_a_make_that_fails_reports_go_s_path_error(root: Path) -> None:
    target = root / "file" / "sub"  # a parent that is a file
    with pytest.raises(HostPathError) as caught:
        set_up(str(target), "DirectoryOrCreate")
    assert str(caught.value) == f"mkdir {target}: not a directory"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
