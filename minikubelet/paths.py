"""Where an agent keeps its state, and where its API socket lives.

State lives under `$MINIKUBELET_HOME` (default: the XDG state dir), mode 0700. The API socket
is `<home>/api.sock` when that path fits a UNIX socket address (107 bytes), else a short path
in a per-user runtime directory named after a hash of the state dir (DESIGN.md, "Decisions").
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_SOCKET_PATH", "StatePaths"]

MAX_SOCKET_PATH = 107


def _default_home() -> Path:
    if home := os.environ.get("MINIKUBELET_HOME"):
        return Path(home)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "minikubelet"


@dataclass(frozen=True)
class StatePaths:
    home: Path

    @classmethod
    def from_env(cls) -> StatePaths:
        return cls(_default_home().absolute())

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
    def socket(self) -> Path:
        direct = self.home / "api.sock"
        if len(os.fsencode(direct)) <= MAX_SOCKET_PATH:
            return direct
        digest = hashlib.sha256(os.fsencode(self.home)).hexdigest()[:16]
        runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/minikubelet-{os.getuid()}"
        return Path(runtime) / f"{digest}.sock"

    def ensure(self) -> None:
        """Create the state dir (0700) and the socket's dir (0700) if they are missing."""
        for directory in {self.home, self.socket.parent}:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(directory, 0o700)
