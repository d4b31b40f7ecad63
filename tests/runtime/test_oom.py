"""The agent's own OOM watch (what Podman does not report, and Docker can miss): which memory
cgroup a process is in, and a cgroup v2 `memory.events` whose `oom_kill` count goes up marks its
container (also one counted before the watch was set); a `max` event alone does not. (cgroup
v1's eventfd is the kernel's: the Podman e2e run proves it.)"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from minikubelet.clock import poll
from minikubelet.runtime._cgroup import memory_cgroup_of
from minikubelet.runtime._oom import KernelLog, OomWatch

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
    watch = OomWatch(root, proc, kmsg=None)
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


def _open_files(target: str) -> int:
    """How many of this process's descriptors point at `target` (a path, or an anon inode)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}") == target
    return count


def test_a_kill_counted_before_the_watch_marks_the_container_at_once(tmp_path: Path) -> None:
    root, proc = fake_host(tmp_path, "0::/pods/ctr\n")
    events = root / "pods/ctr/memory.events"
    events.parent.mkdir(parents=True)
    events.write_text(EVENTS.format(max=1, oom=1, kill=1))  # killed in its first second
    watch = OomWatch(root, proc, kmsg=None)
    try:
        assert watch.watch("c1", 42)
        assert watch.killed("c1"), "no inotify event will come for a count already up"
        assert _open_files(str(events)) == 0, "a container marked needs no watch"
    finally:
        watch.close()


def test_one_inotify_instance_for_every_container_and_none_left_by_removal(
    tmp_path: Path,
) -> None:
    """The kernel gives root 128 inotify instances in all, the engine's OOM watches among
    them: the agent's watches share one. A container removed drops its watch and its file
    (a cgroup's removal sends no event while the file is held)."""
    root, proc = fake_host(tmp_path, "0::/pods/c0\n")
    paths = []
    for n in range(5):
        (proc / str(100 + n)).mkdir()
        (proc / str(100 + n) / "cgroup").write_text(f"0::/pods/c{n}\n")
        paths.append(root / f"pods/c{n}/memory.events")
        paths[-1].parent.mkdir(parents=True)
        paths[-1].write_text(EVENTS.format(max=0, oom=0, kill=0))
    before = _open_files("anon_inode:inotify")
    watch = OomWatch(root, proc, kmsg=None)
    try:
        assert all(watch.watch(f"c{n}", 100 + n) for n in range(5))
        assert _open_files("anon_inode:inotify") == before + 1
        assert all(_open_files(str(path)) == 1 for path in paths)
        assert not watch.watch("again", 100), "a cgroup watched already gets no second watch"
        watch.forget("c0")  # removed
        assert _open_files(str(paths[0])) == 0
        paths[1].write_text(EVENTS.format(max=1, oom=1, kill=1))
        assert poll(lambda: watch.killed("c1"), 5.0, 0.01)
        assert _open_files(str(paths[1])) == 0, "a container marked needs its watch no more"
        paths[0].write_text(EVENTS.format(max=1, oom=1, kill=1))
        assert not watch.killed("c0")
    finally:
        watch.close()
    assert _open_files("anon_inode:inotify") == before
    assert all(_open_files(str(path)) == 0 for path in paths)


KMSG = (
    "6,42440,17007100000,-;br-a77689873402: port 5(veth9188840) entered disabled state\n"
    "4,42441,17007166000,-;python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0\n"
    "6,42442,17007166071,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={a},"
    "mems_allowed=0,oom_memcg=/minikubelet/{a},task_memcg=/minikubelet/{a},task=python3,"
    "pid=10460,uid=0\n"
    "3,42443,17007166080,-;Memory cgroup out of memory: Killed process 10460 (python3)\n"
    "6,42444,17007227245,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,"
    "mems_allowed=0,oom_memcg=/machine.slice/libpod-{b}.scope,"
    "task_memcg=/machine.slice/libpod-{b}.scope,task=stress,pid=77,uid=0\n"
    " SUBSYSTEM=cgroup\n"
    # another CPU's message split the line: the rest is a record of its own
    "6,42445,17007300000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=y\n"
    "6,42446,17007300001,-;br-a77689873402: port 3(veth1) entered disabled state\n"
    "6,42447,17007300002,c;,oom_memcg=/docker/{d},task_memcg=/docker/{d},task=sh,pid=8\n"
    # before kernel 4.19
    "3,42448,17007400000,-;Task in /docker/{e} killed as a result of limit of /docker/{e}\n"
)
A, B, C, D, E = "a" * 64, "0123456789abcdef" * 4, "c" * 64, "d" * 64, "e" * 64


def test_the_kernel_log_names_each_killed_container_by_its_cgroup(tmp_path: Path) -> None:
    """cAdvisor's source: the `oom-kill:` record of each kill, whose `task_memcg` is the
    killed process's cgroup (Docker's `/minikubelet/<id>`, Podman's `libpod-<id>.scope`),
    also when split across records; before 4.19, `Task in <cgroup> killed`."""
    log = tmp_path / "kmsg"
    log.write_text(KMSG.format(a=A, b=B, d=D, e=E))
    reader = KernelLog(log)
    try:
        assert reader.killed() == {A, B, D, E}
        assert reader.killed() == set(), "read on from where it stopped"
    finally:
        reader.close()


def test_a_container_killed_before_its_start_returned_reads_oomkilled(tmp_path: Path) -> None:
    """The kill Docker missed: the container and its cgroup are gone before anyone looked,
    and no watch was ever set; the kernel's log still names it."""
    log = tmp_path / "kmsg"
    log.write_text(KMSG.format(a=A, b=B, d=D, e=E))
    watch = OomWatch(tmp_path / "no-cgroups", tmp_path / "no-proc", kmsg=log)
    try:
        assert watch.watch(A, 10460), "the log needs no watch"
        assert watch.killed(A) and watch.killed(B)
        assert not watch.killed(C)
        with log.open("a") as fh:  # a kill written later is read on the next question
            fh.write(f"6,42450,17008000000,-;oom-kill:task_memcg=/docker/{C},task=x\n")
        assert watch.killed(C)
    finally:
        watch.close()


def test_without_the_kernel_log_the_cgroups_are_watched(tmp_path: Path) -> None:
    root, proc = fake_host(tmp_path, "0::/pods/ctr\n")
    events = root / "pods/ctr/memory.events"
    events.parent.mkdir(parents=True)
    events.write_text(EVENTS.format(max=0, oom=0, kill=0))
    watch = OomWatch(root, proc, kmsg=tmp_path / "unreadable")  # no such file: EPERM alike
    try:
        assert watch.watch("c1", 42)
        events.write_text(EVENTS.format(max=1, oom=1, kill=1))
        assert poll(lambda: watch.killed("c1"), 5.0, 0.01)
    finally:
        watch.close()
