"""`_nsexec.fork_into`: where the kernel refuses clone3's CLONE_INTO_CGROUP, the process moves
itself into the cgroup (`cgroup.procs`, "0") and forks as before; other errors are reported.
Each case runs in its own interpreter: it forks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import ctypes, errno, os, sys
sys.path.insert(0, {root!r})
from minikubelet.runtime import _nsexec

class Refusing:
    def syscall(self, *args):
        ctypes.set_errno(errno.{errno})
        return -1

_nsexec._pylibc = Refusing()
directory = sys.argv[1]
open(os.path.join(directory, "cgroup.procs"), "w").close()
fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
try:
    pid = _nsexec.fork_into(fd)
except OSError as exc:
    print("error:", exc)
    raise SystemExit(0)
if pid == 0:
    os._exit(7)
_, status = os.waitpid(pid, 0)
print(os.WEXITSTATUS(status), open(os.path.join(directory, "cgroup.procs")).read())
"""


def _run(tmp_path: Path, code: str) -> str:
    script = SCRIPT.format(root=str(ROOT), errno=code)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_a_kernel_without_clone3_gets_the_move_then_a_fork(tmp_path: Path) -> None:
    assert _run(tmp_path, "ENOSYS") == "7 0\n"  # the child ran; "0" went to cgroup.procs


def test_a_refused_flag_gets_the_move_then_a_fork(tmp_path: Path) -> None:
    assert _run(tmp_path, "EINVAL") == "7 0\n"


def test_any_other_error_is_reported_and_nothing_moved(tmp_path: Path) -> None:
    out = _run(tmp_path, "EAGAIN")
    assert out == "error: [Errno 11] clone3: resource temporarily unavailable\n"
    assert (tmp_path / "cgroup.procs").read_text() == ""
