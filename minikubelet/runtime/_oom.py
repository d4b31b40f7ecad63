"""OOM kills the engine does not report: the kernel's OOM events, watched by the agent itself.

Podman 4.3 never sets `State.OOMKilled` and sends no `oom` event: a container the kernel killed
for memory is only `exited (137)` there (measured; reading conmon's OOM file came to Podman
later, containers/podman#21523). Docker's containerd watches each container's memory cgroup for
OOM events and marks the container; the agent does the same for the containers it starts on
Podman, from the cgroup their init process is in (the host's /proc: the agent shares the
engine's PID namespace):

- cgroup v1 (a `memory` line in /proc/PID/cgroup): an eventfd registered on
  `memory.oom_control` through `cgroup.event_control`; the kernel signals it when the group
  goes out of memory, and once more when the group is removed (its files are gone by then);
- cgroup v2: inotify on `memory.events`, whose `oom_kill` count goes up with each kill.

A container the kernel OOM-killed in while it ran is OOMKilled, as containerd reports it.
Best effort: an engine whose cgroups the agent cannot see (rootless, remote), a process that
runs out of memory in the very first milliseconds (before the watch is set), and an agent
restarted since, keep what the engine says.
"""

from __future__ import annotations

import ctypes
import os
import select
import threading
from dataclasses import dataclass
from pathlib import Path

from minikubelet.runtime._cgroup import CGROUP_ROOT, PROC, memory_cgroup_of

__all__ = ["OomWatch"]

_IN_MODIFY = 0x2
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class _Watch:
    container_id: str
    version: int
    wake: int  # the eventfd (v1) or the inotify descriptor (v2) the thread polls
    state: int  # memory.oom_control (v1) or memory.events (v2), kept open

    def fired(self) -> bool | None:
        """After a wake-up: True on an OOM kill, None once the cgroup is gone, else False."""
        try:
            os.read(self.wake, 65536)  # the eventfd's count, or the inotify events
        except BlockingIOError:
            pass
        try:
            text = os.pread(self.state, 4096, 0).decode()
        except OSError:
            return None  # removed: the eventfd's last signal, or inotify's IN_IGNORED
        if self.version == 1:
            return True  # the eventfd fires on OOM (and removal, handled above)
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def close(self) -> None:
        for fd in (self.wake, self.state):
            os.close(fd)


def _open(container_id: str, directory: Path, version: int) -> _Watch:
    if version == 1:
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
        return _Watch(container_id, 1, wake, state)
    state = os.open(directory / "memory.events", os.O_RDONLY | os.O_CLOEXEC)
    wake = int(_libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC))
    target = bytes(directory / "memory.events")
    if wake < 0 or _libc.inotify_add_watch(wake, target, _IN_MODIFY) < 0:
        code = ctypes.get_errno()
        os.close(state)
        if wake >= 0:
            os.close(wake)
        raise OSError(code, os.strerror(code))
    return _Watch(container_id, 2, wake, state)


class OomWatch:
    """Containers' OOM kills as the kernel reports them; one thread polls every watch."""

    def __init__(self, root: Path = CGROUP_ROOT, proc: Path = PROC) -> None:
        self._root, self._proc = root, proc
        self._lock = threading.Lock()
        self._new: list[_Watch] = []
        self._killed: set[str] = set()
        self._thread: threading.Thread | None = None
        self._pipe: tuple[int, int] | None = None
        self._closed = False

    def watch(self, container_id: str, pid: int) -> bool:
        """Watch the memory cgroup of `pid` for `container_id`; False when it cannot be."""
        try:
            directory, version = memory_cgroup_of(pid, self._root, self._proc)
            watch = _open(container_id, directory, version)
        except (OSError, ValueError):
            return False
        with self._lock:
            if self._closed:
                watch.close()
                return False
            if self._pipe is None:
                self._pipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
                self._thread = threading.Thread(
                    target=self._run, args=(self._pipe[0],), name="oom-watch", daemon=True
                )
                self._thread.start()
            self._new.append(watch)
            os.write(self._pipe[1], b"+")
        return True

    def killed(self, container_id: str) -> bool:
        with self._lock:
            return container_id in self._killed

    def forget(self, container_id: str) -> None:
        with self._lock:
            self._killed.discard(container_id)

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

    def _run(self, wakeup: int) -> None:
        poller = select.poll()
        poller.register(wakeup, select.POLLIN)
        watches: dict[int, _Watch] = {}
        try:
            while True:
                for fd, _ in poller.poll():
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
                    if fired is None or (fired and watch.version == 1):
                        poller.unregister(fd)
                        del watches[fd]
                        watch.close()
        finally:
            for watch in watches.values():
                watch.close()
            with self._lock:
                pipe, self._pipe = self._pipe, None
            if pipe is not None:
                os.close(pipe[0])
                os.close(pipe[1])
