"""The node's own `runc exec`: enter a running container and start a process in it.

`docker exec` goes dockerd -> containerd -> shim -> `runc exec` (a Go binary started per exec,
which re-executes itself to enter the namespaces): ~40 ms and ~65 ms of CPU on the machine
`bench/` runs on, most of an exec probe's cost and of `kubectl exec`'s. This process does what
`runc exec` does with the container's own OCI spec (`_direct.plan`): join the container's
cgroups, copy the rlimits and oom_score_adj, enter its namespaces (the PID namespace's by a
second fork, as runc's nsexec), start a session, open the terminal inside the container for
`-t`, bound the capabilities, switch to the spec's user, set them, `no_new_privs`, umask, the
working directory, resolve the command on the spec's PATH as Go's `exec.LookPath` does, and
execve it with the spec's environment. A start that fails prints runc's words and exits 126,
as the engine's exec does.

It runs as its own small single-threaded process (`python -I -S _nsexec.py FD`), started once
by the agent: forking the agent itself (threads, an event loop) between fork and exec is not
safe. Standard library only, so it starts in ~15 ms and imports nothing of the agent.

The wire, on the control socket (AF_UNIX, SOCK_SEQPACKET) the agent passes as FD: one message
per exec, a JSON plan with file descriptors: the exec's own socket, then stdin, stdout and
stderr (none with `tty`). On the exec's socket this process answers `{"pid": N}` once the
process runs (or `{"error": "..."}` when it could not enter: nothing ran, the caller may use
the engine instead), then `{"exit": CODE}` (128 + the signal for a killed one, as containerd
reports); with `tty` the process itself sends the terminal's master as `{"pty": true}` with
the descriptor. The process is a child of this one (a subreaper), reaped here.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import resource
import selectors
import signal
import socket
import stat
import sys
import termios
from typing import Any

CLONE = {
    "ipc": 0x08000000,
    "uts": 0x04000000,
    "net": 0x40000000,
    "pid": 0x20000000,
    "cgroup": 0x02000000,
    "mnt": 0x00020000,
}
ORDER = ("ipc", "uts", "net", "pid", "cgroup", "mnt")  # the mount namespace last: /proc stays ours
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAP_VERSION_3 = 0x20080522
EXEC_FAILED = 126
RUNC_FAILED = "OCI runtime exec failed: exec failed: unable to start container process"
MAX_FDS = 4

CLONE_INTO_CGROUP = 0x200000000
SYS_CLONE3 = 435  # the same number on every architecture

_libc = ctypes.CDLL(None, use_errno=True)
_pylibc = ctypes.PyDLL(None, use_errno=True)  # keeps the GIL across the call: clone3 forks
_pylibc.syscall.restype = ctypes.c_long

# Go's texts for the errnos an exec meets (syscall.Errno.Error), lower-case, unlike strerror's.
GO_ERRNO = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.ENOEXEC: "exec format error",
    errno.ENOTDIR: "not a directory",
    errno.EPERM: "operation not permitted",
    errno.ELOOP: "too many levels of symbolic links",
    errno.ETXTBSY: "text file busy",
    errno.E2BIG: "argument list too long",
    errno.ENAMETOOLONG: "file name too long",
}


def go_errno(code: int) -> str:
    text = GO_ERRNO.get(code)
    return text if text is not None else os.strerror(code).lower()


class StartFailure(Exception):
    """runc's words for a process that could not start (its `exec failed: ...` cause)."""


def runc_message(cause: str) -> str:
    """What the engine's exec prints when runc could not start the process (exit code 126)."""
    return f"{RUNC_FAILED}: {cause}: unknown\r\n"


def _is_executable(path: str) -> int:
    """0, or the errno Go's `findExecutable` reports: a regular... any non-directory with an
    execute bit passes (Go checks the mode, not access(2))."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return exc.errno or errno.ENOENT
    if not stat.S_ISDIR(info.st_mode) and info.st_mode & 0o111:
        return 0
    return errno.EACCES


def look_path(name: str, env: list[str]) -> str:
    """Go's `exec.LookPath` on the process environment's PATH, as runc resolves the command
    (StartFailure with its error text)."""
    if "/" in name:
        code = _is_executable(name)
        if code == errno.EACCES:
            raise StartFailure(f'exec: "{name}": permission denied')
        if code:
            raise StartFailure(f'exec: "{name}": stat {name}: {go_errno(code)}')
        return name
    path = ""
    for entry in env:
        if entry.startswith("PATH="):
            path = entry[5:]
    for directory in path.split(":") if path else []:
        candidate = os.path.join(directory or ".", name)
        if _is_executable(candidate) == 0:
            return candidate
    raise StartFailure(f'exec: "{name}": executable file not found in $PATH')


def home_of(uid: int, passwd: str = "/etc/passwd") -> str:
    """runc's HOME when the environment has none: the container's passwd entry for the uid
    (by number, or a name that is the number), else "/" (`user.GetExecUserPath`'s default)."""
    try:
        with open(passwd, errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return "/"
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 6 and (fields[2] == str(uid) or fields[0] == str(uid)):
            return fields[5]
    return "/"


def exit_code(status: int) -> int:
    """A wait status as containerd reports an exec's exit: the code, or 128 + the signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {go_errno(code)}")


def _prctl(option: int, arg: int = 0, arg3: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(arg3), 0, 0), "prctl")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _capset(effective: int, permitted: int, inheritable: int) -> None:
    header = _CapHeader(CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    for half in range(2):
        shift = 32 * half
        data[half].effective = (effective >> shift) & 0xFFFFFFFF
        data[half].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[half].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _last_cap() -> int:
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        return int(fh.read())


# -- the first child: on the host, then into the namespaces ---------------------------------


class Entered:
    """What the first child holds after `enter`: the unified (v2) cgroup directory the process
    is forked into, and the namespaces the process enters itself after the fork."""

    def __init__(self, unified: int | None, later: list[tuple[str, int]]) -> None:
        self.unified = unified
        self.later = later


def enter(plan: dict[str, Any]) -> Entered:
    """In the first child: join the v1 cgroups, copy the limits, open every namespace before
    entering any (the mount namespace hides the host's /proc), then enter those that come
    before the cgroup namespace (the PID one's effect is the fork's).

    Moving a process between cgroups (`cgroup.procs`) takes the kernel's global threadgroup
    lock, which waits out an RCU grace period when no move happened just before: 5-9 ms here
    for the first exec after a pause, most of the node's part of a `kubectl exec`. Moving the
    calling thread alone (`tasks`, "0") skips that lock, and the process is single-threaded;
    the unified hierarchy has no `tasks`: the process is forked straight into it (`fork_into`).
    """
    unified = None
    for directory in plan["cgroups"]:
        tasks = os.path.join(directory, "tasks")
        if os.path.exists(tasks):
            with open(tasks, "w") as fh:
                fh.write("0")  # "0": the writing thread
        else:
            unified = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    for which, soft, hard in plan["rlimits"]:
        resource.setrlimit(which, (soft, hard))
    if plan.get("oom_score_adj") is not None:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(plan["oom_score_adj"]))
    pid = plan["pid"]
    fds = [(kind, os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY)) for kind in plan["namespaces"]]
    fds.sort(key=lambda item: ORDER.index(item[0]))
    later = [(kind, fd) for kind, fd in fds if ORDER.index(kind) >= ORDER.index("cgroup")]
    for kind, fd in fds[: len(fds) - len(later)]:
        _setns(kind, fd)
    return Entered(unified, later)


def _setns(kind: str, fd: int) -> None:
    _check(_libc.setns(fd, CLONE[kind]), f"setns {kind}")
    os.close(fd)


class _CloneArgs(ctypes.Structure):
    """`struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2)."""

    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


def fork_into(unified: int | None) -> int:
    """`os.fork()`, the child starting in the cgroup v2 directory `unified` when given:
    clone3(CLONE_INTO_CGROUP) charges the child there at its birth, without moving a process
    (and so without the global lock, `enter`). Where the kernel has no clone3 or refuses the
    flag (before 5.7), the calling process moves itself there first, as before."""
    if unified is None:
        return os.fork()
    args = _CloneArgs(flags=CLONE_INTO_CGROUP, exit_signal=signal.SIGCHLD, cgroup=unified)
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _pylibc.syscall(
        ctypes.c_long(SYS_CLONE3), ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args))
    )
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0
    code = ctypes.get_errno()
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid > 0:
        return int(pid)
    if code not in (errno.ENOSYS, errno.EINVAL, errno.E2BIG, errno.EOPNOTSUPP, errno.EPERM):
        raise OSError(code, f"clone3: {go_errno(code)}")
    with open(os.open("cgroup.procs", os.O_WRONLY, dir_fd=unified), "w") as fh:
        fh.write("0")
    return os.fork()


# -- the process itself: inside, until execve -----------------------------------------------


def become(plan: dict[str, Any], stdio: list[int], sock: socket.socket) -> None:
    """In the second child (inside the PID namespace): the session, stdio or the terminal,
    the capabilities and the user as runc's `finalizeNamespace`, then execve. Returns only
    by raising."""
    os.setsid()  # runc's nsexec starts every process in a new session
    if plan["tty"]:
        master, slave = os.openpty()  # the container's /dev/ptmx: its devpts, as runc
        socket.send_fds(sock, [b'{"pty": true}'], [master])
        os.close(master)
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        stdio = [slave, slave, slave]
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    cwd, uid, gid = plan["cwd"], plan["uid"], plan["gid"]
    late_chdir = not _chdir(cwd, retry_as_user=True)
    argv, env = plan["argv"], plan["env"]
    if not any(entry.startswith("HOME=") for entry in env):  # runc's setupUser, still root
        env = [*env, f"HOME={home_of(uid)}"]
    caps, every = plan["caps"], range(_last_cap() + 1)
    for cap in every:
        if not caps["bounding"] >> cap & 1:
            _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_SET_KEEPCAPS, 1)
    _own_stdio(uid)
    os.setgroups(plan["groups"])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _prctl(PR_SET_KEEPCAPS, 0)
    _capset(caps["effective"], caps["permitted"], caps["inheritable"])
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in every:
        if caps["ambient"] >> cap & 1:
            _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
    if late_chdir:
        _chdir(cwd, retry_as_user=False)
    if plan["no_new_privs"]:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.umask(plan["umask"])
    path = look_path(argv[0], env)  # as the user, as runc's Execv looks it up
    for number in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)  # Python ignores the first two; exec keeps that
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    try:
        os.execve(path, argv, dict(_split(entry) for entry in env))
    except OSError as exc:
        raise StartFailure(f'exec: "{argv[0]}": {go_errno(exc.errno or 0)}') from exc


def _chdir(cwd: str, *, retry_as_user: bool) -> bool:
    """runc's chdir to the spec's cwd: False when it is to be tried again once the user is
    set (EACCES/EPERM with `retry_as_user`), else StartFailure in runc's words."""
    try:
        os.chdir(cwd)
    except OSError as exc:
        if retry_as_user and isinstance(exc, PermissionError):
            return False
        raise StartFailure(
            f'chdir to cwd ("{cwd}") set in config.json failed: {go_errno(exc.errno or 0)}'
        ) from exc
    return True


def _own_stdio(uid: int) -> None:
    """runc's `fixStdioPermissions`: stdio not already the user's and not /dev/null (a pipe,
    the terminal) become the user's, the group kept; EINVAL, EPERM and EROFS are let be."""
    null = os.stat("/dev/null").st_rdev
    for fd in (0, 1, 2):
        info = os.fstat(fd)
        if info.st_uid == uid or info.st_rdev == null:
            continue
        try:
            os.fchown(fd, uid, -1)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EPERM, errno.EROFS):
                raise


def _split(entry: str) -> tuple[str, str]:
    name, _, value = entry.partition("=")
    return name, value


def _second_child(
    plan: dict[str, Any], later: list[tuple[str, int]], stdio: list[int], sock: socket.socket
) -> None:
    try:
        for kind, fd in later:  # the cgroup and mount namespaces, now that it is in its cgroups
            _setns(kind, fd)
        become(plan, stdio, sock)
    except Exception as exc:  # StartFailure, or a step runc would also fail at: the engine's code
        _tell(stdio, plan, str(exc))
    os._exit(EXEC_FAILED)


def _tell(stdio: list[int], plan: dict[str, Any], cause: str) -> None:
    try:
        os.write(1 if plan["tty"] else stdio[1], runc_message(cause).encode())
    except OSError:
        pass


def spawn(plan: dict[str, Any], stdio: list[int], sock: socket.socket) -> int:
    """The process's host PID (OSError when the container could not be entered: nothing ran).
    A first child enters and forks the process, reports its PID on a pipe and exits; the
    process is then this subreaper's child."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:
        os.close(read_end)
        try:
            entered = enter(plan)
            second = fork_into(entered.unified)
            if second == 0:
                os.close(write_end)
                _second_child(plan, entered.later, stdio, sock)
            os.write(write_end, json.dumps({"pid": second}).encode())
        except BaseException as exc:  # noqa: BLE001 - anything: the parent must hear of it
            os.write(write_end, json.dumps({"error": str(exc)}).encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 4096):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(first, 0)
    answer = json.loads(b"".join(chunks) or b'{"error": "the first child died"}')
    if "error" in answer:
        raise OSError(errno.EIO, answer["error"])
    return int(answer["pid"])


# -- the server -----------------------------------------------------------------------------


class Server:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.running: dict[int, socket.socket] = {}  # the process's PID -> its exec socket

    def serve(self) -> None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        os.set_blocking(wake_read, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        selector = selectors.DefaultSelector()
        selector.register(self.control, selectors.EVENT_READ, "control")
        selector.register(wake_read, selectors.EVENT_READ, "reap")
        while True:
            for key, _ in selector.select():
                if key.data == "reap":
                    try:
                        while os.read(wake_read, 512):
                            pass
                    except BlockingIOError:
                        pass
                    self.reap()
                elif not self.request():
                    return

    def request(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, MAX_FDS)
        except InterruptedError:
            return True
        if not data:
            return False  # the agent is gone
        sock = socket.socket(fileno=fds[0])
        stdio = fds[1:]
        try:
            plan = json.loads(data)
            pid = spawn(plan, stdio, sock)
        except Exception as exc:  # noqa: BLE001 - the answer carries it
            _send(sock, {"error": str(exc)})
            sock.close()
        else:
            self.running[pid] = sock
            _send(sock, {"pid": pid})
        finally:
            for fd in stdio:
                os.close(fd)
        self.reap()  # the process may have ended already
        return True

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            sock = self.running.pop(pid, None)
            if sock is not None:
                _send(sock, {"exit": exit_code(status)})
                sock.close()


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass  # the agent left the exec: nothing to tell


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # no PDEATHSIG: it names the thread that forked us
    Server(control).serve()


if __name__ == "__main__":
    main()
