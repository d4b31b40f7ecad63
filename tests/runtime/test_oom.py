"""The agent's own OOM watch (what Podman does not report): which memory cgroup a process is
in, and a cgroup v2 `memory.events` whose `oom_kill` count goes up marks its container; a
`max` event alone does not. (cgroup v1's eventfd is the kernel's: the Podman e2e run proves
it.)"""

from __future__ import annotations

from pathlib import Path

from minikubelet.clock import poll
from minikubelet.runtime._cgroup import memory_cgroup_of
from minikubelet.runtime._oom import OomWatch

EVENTS = "low 0\nhigh 0\nmax {max}\noom {oom}\noom_kill {kill}\n"


def fake_host(tmp_path: Path, cgroup: str) -> tuple[Path, Path]:
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "cgroup").write_text(cgroup)
    return root, proc


def test_memory_cgroup_of_v1_hybrid_and_v2(tmp_path: Path) -> None:
    root, proc = fake_host(tmp_path, "5:devices:/x\n4:memory:/libpod_parent/libpod-ab\n0::/\n")
    assert memory_cgroup_of(42, root, proc) == (root / "memory/libpod_parent/libpod-ab", 1)
    (proc / "42" / "cgroup").write_text("0::/machine.slice/libpod-ab.scope\n")
    assert memory_cgroup_of(42, root, proc) == (root / "machine.slice/libpod-ab.scope", 2)


def test_v2_oom_kill_count_marks_the_container(tmp_path: Path) -> None:
    root, proc = fake_host(tmp_path, "0::/pods/ctr\n")
    (proc / "43").mkdir()
    (proc / "43" / "cgroup").write_text("0::/pods/other\n")
    events, other = root / "pods/ctr/memory.events", root / "pods/other/memory.events"
    for path in (events, other):
        path.parent.mkdir(parents=True)
        path.write_text(EVENTS.format(max=0, oom=0, kill=0))
    watch = OomWatch(root, proc)
    try:
        assert watch.watch("c1", 42) and watch.watch("c2", 43)
        assert not watch.watch("c3", 7), "no such process: no watch"
        events.write_text(EVENTS.format(max=3, oom=0, kill=0))  # at the limit, reclaimed
        other.write_text(EVENTS.format(max=1, oom=1, kill=1))  # seen after c1's change
        assert poll(lambda: watch.killed("c2"), 5.0, 0.01)
        assert not watch.killed("c1"), "a max event is no OOM kill"
        events.write_text(EVENTS.format(max=4, oom=1, kill=1))
        assert poll(lambda: watch.killed("c1"), 5.0, 0.01)
        watch.forget("c1")
        assert not watch.killed("c1")
    finally:
        watch.close()
    assert watch.watch("c4", 42), "a closed watch starts again"
    watch.close()
