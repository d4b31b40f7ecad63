"""fsGroup volume ownership (`SetVolumeOwnership`): group, group bits, setgid directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from minikubelet.node.ownership import set_volume_ownership

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another group needs root")
GROUP = 4321


def _tree(root: Path) -> None:
    (root / "..2026_01_01").mkdir(parents=True, mode=0o755)
    (root / "..2026_01_01" / "key").write_text("v")
    (root / "..2026_01_01" / "key").chmod(0o400)
    (root / "..data").symlink_to("..2026_01_01")
    (root / "key").symlink_to("..data/key")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_read_only_volume_gets_group_read_and_setgid_dirs(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    root.mkdir(mode=0o755)
    _tree(root)
    set_volume_ownership(str(root), GROUP, read_only=True)
    data = root / "..2026_01_01"
    assert all(os.lstat(p).st_gid == GROUP for p in (root, data, data / "key", root / "key"))
    assert _mode(data / "key") == 0o440  # a secret's 0400 becomes readable by the group
    assert _mode(data) == 0o2755 and _mode(root) == 0o2755


def test_writable_volume_gets_group_write(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    root.chmod(0o777)
    (root / "f").write_text("x")
    (root / "f").chmod(0o644)
    set_volume_ownership(str(root), GROUP, read_only=False)
    assert _mode(root) == 0o2777 and _mode(root / "f") == 0o664
    assert os.stat(root / "f").st_gid == GROUP
