"""OOM kills the engine does not report, seen by the agent itself.

Podman 4.3 never sets `State.OOMKilled` and sends no `oom` event: a container the kernel killed
for memory is only `exited (137)` there (measured; reading conmon's OOM file came to Podman
later, containers/podman#21523). Docker 20.10 misses kills in a container's first moments:
12 pods whose process allocates past its limit at once, beside two busy loops, gave 3
`exited (137)` with `OOMKilled: false`, each with its kill in the kernel's log (the oldest
three; containerd's watch, set after the start, came too late, or dockerd took the exit before
the OOM event). On a node, containerd's shim watches the cgroup before the process starts, so
the kubelet reports `OOMKilled` for all of them. The agent reads the kill where the kernel
writes it:

- the kernel's log (`/dev/kmsg`, as cAdvisor's OOM parser reads it for the kubelet): every OOM
  kill writes `oom-kill:...,task_memcg=/PATH,...` (kernel 4.19 and later; before, `Task in
  /PATH killed as a result of limit of ...`), whose path names the killed process's cgroup,
  and so its container (Docker's `/minikubelet/<id>`, `docker-<id>.scope`, Podman's
  `libpod-<id>`). Read when a container's state is asked, up to what the kernel has written,
  so a kill that came before the exit is seen, unless the kernel's ring overwrote its record
  before the node read it. No race with the start: the log keeps the kill after the container
  and its cgroup are gone.
- where the log cannot be read (no CAP_SYSLOG: a rootless or confined agent), the containers'
  memory cgroups, watched from the start on (the host's /proc: the agent shares the engine's
  PID namespace): on cgroup v1 an eventfd registered on `memory.oom_control` through
  `cgroup.event_control`, signalled on OOM and once more when the group is removed; on cgroup
  v2 `memory.events`, whose `oom_kill` count goes up with each kill, through one inotify
  instance for all (root has 128 in all, which the engine's own OOM watches need too); a
  cgroup's removal sends no inotify event while its file is held open, so a v2 watch ends when
  the container is removed (`forget`). The count is read once the watch is set, so a kill
  before it is seen while the cgroup stands.

A container the kernel OOM-killed in is OOMKilled, as containerd reports it (an OOM kill in its
cgroup, whichever process was killed). Best effort: an engine whose cgroups and log the agent
cannot see (remote) keeps what the engine says.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from minikubelet.runtime._cgroup import CGROUP_ROOT, PROC, memory_cgroup_of

__all__ = ["KernelLog", "OomWatch"]

KMSG = Path("/dev/kmsg")
_CONTAINER_ID = re.compile(r"[0-9a-f]{64}")
# The killed process's cgroup: `task_memcg=/PATH,` since 4.19 (in a record of its own when
# another CPU's message split the line), `Task in /PATH killed as a result of ...` before.
_KILLED_IN = re.compile(r"task_memcg=([^,\s]*)|Task in (\S+) killed as a result of limit")


class KernelLog:
    """The OOM kills in the kernel's log: the ids in the killed process's cgroup path.

    Read without blocking, from the oldest record the kernel still holds (a container started
    before the agent may have been killed before it looked), then on from where it stopped.
    `/dev/kmsg` gives one record per read; records the kernel overwrote before we read them
    (EPIPE) are skipped."""

    def __init__(self, path: Path = KMSG) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def killed(self) -> set[str]:
        """The ids of containers killed since the last call."""
        found: set[str] = set()
        while True:
            try:
                record = os.read(self._fd, 8192)
            except BrokenPipeError:
                continue  # overwritten before we read it: on with the oldest left
            except OSError:  # EAGAIN: all read (8192 bytes hold the longest record)
                return found
            if not record:
                return found  # a plain file (tests) at its end
            for match in _KILLED_IN.finditer(record.decode(errors="replace")):
                found.update(_CONTAINER_ID.findall(match.group(1) or match.group(2)))

    def close(self) -> None:
        os.close(self._fd)


_IN_MODIFY = 0x2
_IN_Q_OVERFLOW = 0x4000  # events were dropped: look at every watch
_IN_IGNORED = 0x8000  # the watch was removed (by us: the cgroup's removal sends none)
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
_libc = ctypes.CDLL(None, use_errno=True)


def _kills(state: int) -> int | None:
    """The `oom_kill` count of a `memory.events` (v2) or `memory.oom_control` (v1, kernel 4.13
    and later) held open; 0 where the file has none, None once the cgroup is gone."""
    try:
        text = os.pread(state, 4096, 0).decode()
    except OSError:
        return None
    counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
    return int(counts.get("oom_kill", "0"))


@dataclass
class _Watch:
    container_id: str
    version: int
    state: int  # memory.oom_control (v1) or memory.events (v2), kept open
    wake: int = -1  # v1: the eventfd the thread polls
    wd: int = -1  # v2: the watch descriptor in the shared inotify instance

    def fired(self) -> bool | None:
        """After a wake-up: True on an OOM kill, None once the cgroup is gone, else False."""
        if self.version == 1:
            with contextlib.suppress(BlockingIOError):
                os.read(self.wake, 8)  # the eventfd's count
            # The eventfd fires on OOM, and once more on removal (the files are gone then).
            return None if _kills(self.state) is None else True
        kills = _kills(self.state)
        return None if kills is None else kills > 0

    def close(self) -> None:
        for fd in (self.wake, self.state):
            if fd >= 0:
                os.close(fd)


def _open_v1(container_id: str, directory: Path) -> _Watch:
    state = os.open(directory / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
    try:
        wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        try:
            (directory / "cgroup.event_control").write_text(f"{wake} {state}")
        except OSError:
            os.close(wake)
            raise
    except OSError:
        os.close(state)
        raise
    return _Watch(container_id, 1, state, wake=wake)


def _errno_error() -> OSError:
    code = ctypes.get_errno()
    return OSError(code, os.strerror(code))


class OomWatch:
    """Containers' OOM kills as the kernel reports them; one thread polls every watch."""

    def __init__(
        self, root: Path = CGROUP_ROOT, proc: Path = PROC, kmsg: Path | None = KMSG
    ) -> None:
        self._root, self._proc = root, proc
        self._kmsg_path = kmsg
        self._log: KernelLog | None = None
        self._lock = threading.Lock()
        self._new: list[_Watch] = []  # v1 watches for the thread to poll
        self._by_wd: dict[int, _Watch] = {}  # v2 watches, by watch descriptor
        self._v2: dict[str, _Watch] = {}  # the same, by container id
        self._killed: set[str] = set()
        self._thread: threading.Thread | None = None
        self._pipe: tuple[int, int] | None = None
        self._inotify = -1
        self._closed = False

    def watch(self, container_id: str, pid: int) -> bool:
        """Watch the memory cgroup of `pid` for `container_id`; False when it cannot be. A
        kill the cgroup already counts marks the container at once. Nothing to do where the
        kernel's log can be read: every kill is there."""
        with self._lock:
            if self._kernel_log() is not None:
                return True
        try:
            directory, version = memory_cgroup_of(pid, self._root, self._proc)
            events = directory / "memory.events"
            if version == 1:
                watch = _open_v1(container_id, directory)
            else:
                watch = _Watch(container_id, 2, os.open(events, os.O_RDONLY | os.O_CLOEXEC))
        except (OSError, ValueError):
            return False
        with self._lock:
            try:
                self._start()
                if version == 2:
                    self._add_v2(watch, bytes(events))
            except OSError:
                watch.close()
                return False
            if (_kills(watch.state) or 0) > 0:  # killed before the watch was set
                self._killed.add(container_id)
                if version == 2:
                    self._drop_v2(watch)
                else:
                    watch.close()
            elif version == 1:
                self._new.append(watch)
                assert self._pipe is not None
                os.write(self._pipe[1], b"+")
        return True

    def _start(self) -> None:
        """The polling thread and the shared inotify instance, once (under the lock)."""
        if self._closed:
            raise OSError("the OOM watch is closing")
        if self._pipe is not None:
            return
        inotify = int(_libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
        if inotify < 0:
            raise _errno_error()
        self._inotify, self._pipe = inotify, os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(
            target=self._run, args=(self._pipe[0], inotify), name="oom-watch", daemon=True
        )
        self._thread.start()

    def _add_v2(self, watch: _Watch, target: bytes) -> None:
        wd = int(_libc.inotify_add_watch(self._inotify, target, _IN_MODIFY))
        if wd < 0:
            raise _errno_error()
        if wd in self._by_wd:  # a cgroup watched already (a pid reused): no second watch
            raise OSError(f"{target!r} is watched already")
        if watch.container_id in self._v2:
            self._drop_v2(self._v2[watch.container_id])
        watch.wd = wd
        self._by_wd[wd] = self._v2[watch.container_id] = watch

    def _drop_v2(self, watch: _Watch, removed: bool = False) -> None:
        """Under the lock: forget a v2 watch and close its file; `removed` when the kernel
        already removed it (IN_IGNORED)."""
        del self._by_wd[watch.wd]
        del self._v2[watch.container_id]
        if not removed:
            _libc.inotify_rm_watch(self._inotify, watch.wd)
        watch.close()

    def _kernel_log(self) -> KernelLog | None:
        """The kernel's log, opened at the first need; None where it cannot be read."""
        if self._log is None and self._kmsg_path is not None:
            try:
                self._log = KernelLog(self._kmsg_path)
            except OSError:
                self._kmsg_path = None  # not for us: the cgroups' watches then
        return self._log

    def killed(self, container_id: str) -> bool:
        with self._lock:
            log = self._kernel_log()
            if log is not None:
                self._killed |= log.killed()
            return container_id in self._killed

    def forget(self, container_id: str) -> None:
        """The container was removed: its mark, and its cgroup v2 watch (no event says when
        the cgroup goes)."""
        with self._lock:
            self._killed.discard(container_id)
            watch = self._v2.get(container_id)
            if watch is not None:
                self._drop_v2(watch)

    def close(self) -> None:
        """Stop the thread and drop every watch; a later `watch` starts again (as the
        runtime's clients are made again after its `close`)."""
        with self._lock:
            self._closed = True
            pipe, thread = self._pipe, self._thread
            if pipe is not None:
                os.write(pipe[1], b"x")
        if thread is not None:
            thread.join(5.0)
        with self._lock:
            for watch in self._new:  # handed over after the thread's last look
                watch.close()
            self._closed, self._thread, self._new = False, None, []
            if self._log is not None:
                self._log.close()
                self._log = None

    def _v2_events(self, inotify: int) -> None:
        try:
            data = os.read(inotify, 65536)
        except BlockingIOError:
            return
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size + length
            with self._lock:  # a watch's files are closed under the lock
                if mask & _IN_Q_OVERFLOW:
                    for each in list(self._by_wd.values()):
                        self._look(each)
                    continue
                found = self._by_wd.get(wd)
                if found is None:
                    continue
                if mask & _IN_IGNORED:
                    self._drop_v2(found, removed=True)
                    continue
                self._look(found)

    def _look(self, watch: _Watch) -> None:
        """Under the lock: a v2 watch's count read; killed or gone, it is dropped."""
        fired = watch.fired()
        if fired:
            self._killed.add(watch.container_id)
        if fired is not False:
            self._drop_v2(watch)

    def _run(self, wakeup: int, inotify: int) -> None:
        poller = select.poll()
        poller.register(wakeup, select.POLLIN)
        poller.register(inotify, select.POLLIN)
        watches: dict[int, _Watch] = {}  # v1, by eventfd
        try:
            while True:
                for fd, _ in poller.poll():
                    if fd == inotify:
                        self._v2_events(inotify)
                        continue
                    if fd == wakeup:
                        os.read(wakeup, 4096)
                        with self._lock:
                            if self._closed:
                                return
                            new, self._new = self._new, []
                        for watch in new:
                            watches[watch.wake] = watch
                            poller.register(watch.wake, select.POLLIN)
                        continue
                    watch = watches[fd]
                    fired = watch.fired()
                    if fired:
                        with self._lock:
                            self._killed.add(watch.container_id)
                    if fired is not False:
                        poller.unregister(fd)
                        del watches[fd]
                        watch.close()
        finally:
            for watch in watches.values():
                watch.close()
            with self._lock:
                for watch in list(self._by_wd.values()):
                    self._drop_v2(watch)
                pipe, self._pipe, self._inotify = self._pipe, None, -1
            os.close(inotify)
            if pipe is not None:
                os.close(pipe[0])
                os.close(pipe[1])
