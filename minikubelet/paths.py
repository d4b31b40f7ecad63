"""Where an agent keeps its state, and where its API socket lives.

State lives under `$MINIKUBELET_HOME` (default: the XDG state dir), mode 0700. The API socket
is `<home>/api.sock` when that path fits a UNIX socket address (107 bytes), else a short path
in a per-user runtime directory named after a hash of the state dir (DESIGN.md, "Decisions").

Every CLI command builds a `StatePaths` to find the socket, so finding it imports nothing but
`os`: `pathlib` (with the `urllib` and `ipaddress` it imports) is loaded only when a `Path`
is asked for, and the class is a plain one, not a dataclass (`dataclasses` imports `inspect`).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MAX_SOCKET_PATH", "StatePaths"]

MAX_SOCKET_PATH = 107


def _pure(path: str) -> str:
    """`str(PurePosixPath(path))`: empty and `.` components and trailing slashes dropped."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    lead = "//" if path.startswith("//") and not path.startswith("///") else "/"
    return (lead if path.startswith("/") else "") + "/".join(parts) or "."


def _default_home() -> str:
    if home := os.environ.get("MINIKUBELET_HOME"):
        return home
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "minikubelet")


class StatePaths:
    """An agent's state dir and the files in it; immutable, equal when their homes are."""

    __slots__ = ("_home",)
    _home: str

    def __init__(self, home: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "_home", _pure(os.fspath(home)))

    @classmethod
    def from_env(cls) -> StatePaths:
        home = _pure(_default_home())
        return cls(home if home.startswith("/") else os.path.join(os.getcwd(), home))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to {name!r}: StatePaths is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StatePaths) and other._home == self._home

    def __hash__(self) -> int:
        return hash(self._home)

    def __repr__(self) -> str:
        return f"StatePaths(home={self._home!r})"

    @property
    def home(self) -> Path:
        from pathlib import Path

        return Path(self._home)

    @property
    def database(self) -> Path:
        return self.home / "state.db"

    @property
    def log(self) -> Path:
        return self.home / "agent.log"

    @property
    def pid(self) -> Path:
        return self.home / "agent.pid"

    @property
    def instance(self) -> Path:
        return self.home / "instance-id"

    @property
    def pods(self) -> Path:
        """Per-pod directories (emptyDir volumes live here, removed with the pod)."""
        return self.home / "pods"

    @property
    def socket_path(self) -> str:
        """The API socket's path, computed without pathlib (the CLI's one question)."""
        direct = f"{self._home.rstrip('/')}/api.sock"
        if len(os.fsencode(direct)) <= MAX_SOCKET_PATH:
            return direct
        import hashlib  # only for a state dir too deep for a socket path

        digest = hashlib.sha256(os.fsencode(self._home)).hexdigest()[:16]
        runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/minikubelet-{os.getuid()}"
        return f"{_pure(runtime)}/{digest}.sock"

    @property
    def socket(self) -> Path:
        from pathlib import Path

        return Path(self.socket_path)

    def ensure(self) -> None:
        """Create the state dir (0700) and the socket's dir (0700) if they are missing."""
        for directory in {self._home, os.path.dirname(self.socket_path)}:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)
