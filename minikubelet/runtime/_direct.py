"""Exec without the engine: a process started in a running container as `runc exec` would.

`docker exec` costs ~35 ms of wall time and ~65 ms of CPU per process on this project's bench
machine (`bench/README.md`), most of it dockerd, containerd and a `runc exec` started per exec;
the kubelet's exec probes and `kubectl exec` pay it every time. The agent runs as root beside
the engine and shares its PID namespace, so it can do runc's part itself: `target_of` reads
the container's OCI spec (the `config.json` in the bundle its containerd shim runs in) and the
host's /proc into what runc would apply (`plan_from_spec`), and `_nsexec` (a small helper
process, `Helper`) applies it.

Only where the result is runc's to the bit: Docker (not Podman), a root agent, a running
container whose spec has no seccomp filter (the kubelet's default is Unconfined), no AppArmor
or SELinux label, no user namespace and no terminal of its own. Anywhere else, or when the
helper could not enter, the engine's exec runs as before (`Unsupported` says why).

The process's stdio are pipes, as the shim gives an engine exec; with `tty` a terminal opened
inside the container. What the plan takes, field by field, from where:
- user (uid, gid, additionalGids), cwd, env (with `TERM=xterm` after `HOSTNAME` for `-t`, as
  dockerd's `CreateDaemonEnvironment`), capabilities, noNewPrivileges, oomScoreAdj, the
  listed rlimits and the umask: the spec's process, as dockerd hands it to `runc exec`;
- the rest of the rlimits and the umask when the spec names none: the shim's, which a runc it
  started would inherit;
- the namespaces the spec lists and the cgroups: the container's init process's.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import termios
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from minikubelet.runtime import _nsexec
from minikubelet.runtime._exec_stream import STDERR, STDOUT
from minikubelet.runtime._proc import kill_tree, stat_fields

__all__ = ["DirectExec", "Helper", "Target", "plan_from_spec", "target_of"]

PROC = Path("/proc")

CAPABILITIES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
    "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
    "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
    "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
    "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
    "CHECKPOINT_RESTORE"
).split()  # in bit order, <linux/capability.h>
_BIT = {f"CAP_{name}": bit for bit, name in enumerate(CAPABILITIES)}
_NAMESPACES = {"ipc": "ipc", "uts": "uts", "network": "net", "pid": "pid", "cgroup": "cgroup",
               "mount": "mnt"}  # fmt: skip
_RLIMITS = {name: getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")}


class Unsupported(Exception):
    """What keeps a container on the engine's exec (for the log, and the tests)."""


def _mask(names: Iterable[str]) -> int:
    mask = 0
    for name in names:
        if name not in _BIT:
            raise Unsupported(f"capability {name}")
        mask |= 1 << _BIT[name]
    return mask


def plan_from_spec(
    spec: dict[str, Any],
    *,
    pid: int,
    cgroups: list[str],
    inherited_rlimits: dict[int, tuple[int, int]],
    inherited_umask: int,
) -> dict[str, Any]:
    """What runc would apply to a process exec'd into the container of this OCI spec, as
    `_nsexec` reads it (argv, tty and env's terminal are the caller's: `with_command`).
    Unsupported when the result could differ from runc's."""
    process = spec.get("process") or {}
    linux = spec.get("linux") or {}
    if linux.get("seccomp"):
        raise Unsupported("a seccomp filter")
    for label in ("apparmorProfile", "selinuxLabel"):
        if process.get(label):
            raise Unsupported(label)
    if process.get("terminal"):
        raise Unsupported("a container with its own terminal")
    namespaces = []
    for entry in linux.get("namespaces") or []:
        kind = _NAMESPACES.get(entry.get("type", ""))
        if kind is None:
            raise Unsupported(f"a {entry.get('type')} namespace")
        namespaces.append(kind)
    rlimits = dict(inherited_rlimits)
    for limit in process.get("rlimits") or []:
        which = _RLIMITS.get(limit.get("type", ""))
        if which is None:
            raise Unsupported(f"rlimit {limit.get('type')}")
        rlimits[which] = (int(limit["soft"]), int(limit["hard"]))
    user = process.get("user") or {}
    caps = process.get("capabilities") or {}
    umask = user.get("umask")
    return {
        "pid": pid,
        "namespaces": namespaces,
        "cgroups": cgroups,
        "rlimits": [[which, soft, hard] for which, (soft, hard) in sorted(rlimits.items())],
        "oom_score_adj": process.get("oomScoreAdj"),
        "uid": int(user.get("uid", 0)),
        "gid": int(user.get("gid", 0)),
        "groups": [int(g) for g in user.get("additionalGids") or []],
        "umask": inherited_umask if umask is None else int(umask),
        "caps": {
            kind: _mask(caps.get(kind) or [])
            for kind in ("bounding", "effective", "permitted", "inheritable", "ambient")
        },  # fmt: skip
        "no_new_privs": bool(process.get("noNewPrivileges")),
        "cwd": process.get("cwd") or "/",
        "env": list(process.get("env") or []),
    }


def with_command(plan: dict[str, Any], argv: list[str], tty: bool) -> dict[str, Any]:
    """The plan for one exec: dockerd builds an exec's environment as the container's, with
    `TERM=xterm` right after HOSTNAME when the exec has a terminal and the env names none."""
    env = list(plan["env"])
    if tty and not any(entry.startswith("TERM=") for entry in env):
        at = next((i + 1 for i, e in enumerate(env) if e.startswith("HOSTNAME=")), len(env))
        env.insert(at, "TERM=xterm")
    return {**plan, "argv": argv, "tty": tty, "env": env}


# -- reading the host -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A container's init process as planned: the plan holds while that process lives."""

    pid: int
    started: int  # /proc/<pid>/stat's starttime: a reused PID is another process
    plan: dict[str, Any]

    def alive(self, proc: Path = PROC) -> bool:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return _starttime(self.pid, proc) == self.started
        return False


def _starttime(pid: int, proc: Path) -> int:
    return int(stat_fields((proc / str(pid) / "stat").read_bytes())[19])


def _status(pid: int, proc: Path) -> dict[str, str]:
    lines = (proc / str(pid) / "status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


def cgroup_dirs(pid: int, proc: Path = PROC) -> list[str]:
    """The directories of every cgroup hierarchy `pid` is in, found where this host mounts
    them (v1 hierarchies by their controllers or name, the unified one by its type)."""
    mounts: dict[frozenset[str], str] = {}
    unified = ""
    for line in (proc / "self" / "mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        fstype, options, point = fields[sep + 1], fields[sep + 3], fields[4]
        if fstype == "cgroup2":
            unified = unified or point
        elif fstype == "cgroup":
            wanted = {o for o in options.split(",") if o not in ("rw", "ro")}
            mounts.setdefault(frozenset(wanted), point)
    dirs = []
    for line in (proc / str(pid) / "cgroup").read_text().splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and not controllers:
            base = unified
        else:
            names = set(controllers.split(","))
            base = next((point for opts, point in mounts.items() if names <= opts), "")
        if not base:
            raise Unsupported(f"cgroup hierarchy {line!r} is not mounted here")
        dirs.append(os.path.join(base, path.lstrip("/")))
    return dirs


def target_of(pid: int, proc: Path = PROC) -> Target:
    """The plan for the container whose init process is `pid`, from its shim's bundle."""
    if os.geteuid() != 0:
        raise Unsupported("an agent that is not root")
    shim = int(_status(pid, proc)["PPid"])
    if not (proc / str(shim) / "comm").read_text().startswith("containerd-shim"):
        raise Unsupported("a container not run by a containerd shim")
    spec = json.loads((proc / str(shim) / "cwd" / "config.json").read_text())
    limits = {which: resource.prlimit(shim, which) for which in _RLIMITS.values()}
    plan = plan_from_spec(
        spec,
        pid=pid,
        cgroups=cgroup_dirs(pid, proc),
        inherited_rlimits=limits,
        inherited_umask=int(_status(shim, proc).get("Umask", "0022"), 8),
    )
    return Target(pid=pid, started=_starttime(pid, proc), plan=plan)


# -- the helper and its sessions ------------------------------------------------------------


class Helper:
    """The `_nsexec` process, started on first use and again if it died; it ends when the
    agent does (its control socket closes)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._sending = anyio.Lock()  # one task waits on the control socket at a time

    def _ensure(self) -> socket.socket:
        if self._process is not None and self._process.poll() is None and self._control:
            return self._control
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", _nsexec.__file__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        ours.setblocking(False)
        self._control = ours
        return ours

    async def _send(self, plan: dict[str, Any], fds: list[int]) -> None:
        async with self._sending:
            control = self._ensure()
            message = [json.dumps(plan).encode()]
            while True:
                try:
                    socket.send_fds(control, message, fds)
                    return
                except BlockingIOError:
                    await anyio.wait_writable(control)

    async def start(self, plan: dict[str, Any], *, stdin: bool) -> DirectExec | None:
        """The process started (None when the helper could not enter: nothing ran)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        pipes: list[tuple[int, int]] = []
        try:
            if plan["tty"]:
                passed = [theirs.fileno()]
            else:
                pipes = [os.pipe() if stdin else _null_pipe(), os.pipe(), os.pipe()]
                passed = [theirs.fileno(), pipes[0][0], pipes[1][1], pipes[2][1]]
            await self._send(plan, passed)
        except BaseException as exc:
            ours.close()
            if pipes:  # our ends; the helper's are closed below either way
                _close(pipes[0][1], pipes[1][0], pipes[2][0])
            if isinstance(exc, OSError):  # the helper just died: the engine's exec this time
                return None
            raise
        finally:
            theirs.close()
            if pipes:
                _close(pipes[0][0], pipes[1][1], pipes[2][1])
        session = DirectExec(ours, tty=plan["tty"])
        if pipes:
            session.attach(stdin=pipes[0][1] if stdin else -1, out=pipes[1][0], err=pipes[2][0])
        try:
            if not await session.started():
                await session.aclose()
                return None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await session.kill()
                await session.aclose()
            raise
        return session

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1)
            self._process = None


def _null_pipe() -> tuple[int, int]:
    """stdin for an exec without one: /dev/null, as the shim gives it (a pair to close)."""
    return os.open(os.devnull, os.O_RDONLY), -1


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


class DirectExec:
    """`runtime.types.ExecStream` of a process `_nsexec` started: its pipes (or terminal)
    read and written on the event loop; its PID, exit code and terminal on its socket."""

    def __init__(self, sock: socket.socket, *, tty: bool) -> None:
        self._sock = sock
        self._tty = tty
        self._stdin = -1
        self._outputs: dict[int, int] = {}  # fd -> STDOUT | STDERR, while open
        self._master = -1
        self._muted = False  # a terminal whose stdin ended: its output dropped, not relayed
        self.pid = 0
        self.exited: int | None = None
        self._code: int | None = None
        self._socket_ended = False

    def attach(self, *, stdin: int, out: int, err: int) -> None:
        self._stdin = stdin
        self._outputs = {out: STDOUT, err: STDERR}
        for fd in (stdin, out, err):
            if fd >= 0:
                os.set_blocking(fd, False)

    async def _message(self) -> dict[str, Any] | None:
        """The next message on the process's socket (a terminal's master taken in passing)."""
        while not self._socket_ended:
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, 4096, 1)
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
                continue
            except OSError:
                data, fds = b"", []
            if not data:
                self._socket_ended = True
                return None
            message: dict[str, Any] = json.loads(data)
            if fds:
                self._master = fds[0]
                os.set_blocking(self._master, False)
                self._stdin = self._master
                self._outputs = {self._master: STDOUT}
            return message
        return None

    async def started(self) -> bool:
        """True once the process runs (and its terminal is here, with `tty`)."""
        while not self.pid or (self._tty and self._master < 0):
            message = await self._message()
            if message is None or "error" in message:
                return False
            if "exit" in message:
                self._code = int(message["exit"])
                return self._master >= 0 or not self._tty
            self.pid = int(message.get("pid") or self.pid)
        return True

    async def read(self) -> tuple[int, bytes] | None:
        while self._outputs:
            for fd, kind in list(self._outputs.items()):
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: a terminal whose every slave closed
                    data = b""
                if data:
                    return kind, data
                del self._outputs[fd]
                if fd != self._master:
                    _close(fd)
            if self._outputs:
                try:
                    await _readable(list(self._outputs))
                except anyio.ClosedResourceError:  # the terminal closed under us
                    return None
        return None

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._stdin >= 0:
            try:
                view = view[os.write(self._stdin, view) :]
            except BlockingIOError:
                await anyio.wait_writable(self._stdin)
            except OSError:  # the process closed its stdin: drop the rest, as a pipe would
                return

    async def close_stdin(self) -> None:
        """A pipe's EOF. A terminal has no half-close, and the CRI does not hang it up: when a
        TTY exec's stdin ends, containerd's ExecIO (as Docker's attach) closes the session's
        output instead and leaves the process running to its exit code. So does this: the
        output ends here, and what the process prints afterwards is read and dropped."""
        if self._tty and self._master >= 0:
            if self._outputs:
                anyio.notify_closing(self._master)  # a read waiting on it ends
            self._stdin, self._outputs, self._muted = -1, {}, True
        elif self._stdin >= 0:
            _close(self._stdin)
            self._stdin = -1

    async def resize(self, width: int, height: int) -> None:
        if self._master >= 0 and width and height:
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    async def wait(self) -> int | None:
        while self._code is None:
            if self._muted and self._master >= 0:
                await self._drop_output()
            message = await self._message()
            if message is None:
                break
            if "exit" in message:
                self._code = int(message["exit"])
        self.exited = self._code
        return self._code

    async def _drop_output(self) -> None:
        """Until the process's socket has a message: what the muted terminal shows is read and
        dropped, so the process never blocks on a full terminal."""
        sock = self._sock.fileno()
        while not select.select([sock], [], [], 0)[0]:
            try:
                os.read(self._master, 1 << 16)
                continue
            except BlockingIOError:
                pass
            except OSError:  # EIO: every slave closed, nothing more to drop
                return
            await _readable([sock, self._master])

    async def kill(self) -> None:
        if self.pid > 0 and self._code is None:
            await anyio.to_thread.run_sync(kill_tree, self.pid)

    async def aclose(self) -> None:
        if self._stdin >= 0 and self._stdin != self._master:
            _close(self._stdin)
        for fd in self._outputs:
            if fd != self._master:
                _close(fd)
        _close(self._master)
        self._stdin, self._outputs, self._master = -1, {}, -1
        self._sock.close()


async def _readable(fds: list[int]) -> None:
    if len(fds) == 1:
        await anyio.wait_readable(fds[0])
        return
    async with anyio.create_task_group() as tg:

        async def one(fd: int) -> None:
            await anyio.wait_readable(fd)
            tg.cancel_scope.cancel()

        for fd in fds:
            tg.start_soon(one, fd)
