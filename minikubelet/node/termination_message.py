"""Termination messages: the file the node provides per container instance at its
`terminationMessagePath`, and what the kubelet reads back once the container exits
(`kuberuntime_container.go` `makeMounts`, `getTerminationMessage`,
`readLastStringFromContainerLogs`).

The file (empty, writable by any user) lives under `pods/<uid>/containers/<name>/<8 hex>` and is
bind-mounted at the path (default `/dev/termination-log`); its host path rides on the
container's labels, as the kubelet finds it among the CRI mounts. Read when the instance has
exited: its last 4096 bytes; under `FallbackToLogsOnError`, when it is empty or missing and the
exit code is not 0 (and the container ran), the log's last 80 lines, at most their last
2048 bytes. The message joins the runtime's own with `: `. Exited instances never change, so
each is read once.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import anyio

from minikubelet.api.models import Container
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime.types import ContainerInfo, InstanceState, LogOptions, Mount, Runtime
from minikubelet.status.instances import cannot_run

__all__ = [
    "LABEL_MESSAGE_FILE",
    "LABEL_MESSAGE_POLICY",
    "MAX_LOG_BYTES",
    "MAX_LOG_LINES",
    "MAX_MESSAGE",
    "TerminationMessages",
    "message_file",
]

LABEL_MESSAGE_FILE = "minikubelet.termination-log"  # the host path of the mounted file
LABEL_MESSAGE_POLICY = "annotation.io.kubernetes.container.terminationMessagePolicy"
MAX_MESSAGE = 4096  # MaxContainerTerminationMessageLength
MAX_LOG_LINES = 80  # MaxContainerTerminationMessageLogLines
MAX_LOG_BYTES = 2048  # MaxContainerTerminationMessageLogLength
_CACHE_LIMIT = 4096


def message_file(pods_dir: Path, uid: str, container: Container) -> Mount | None:
    """A new empty file for one instance, mounted at its terminationMessagePath (none when
    the path is empty)."""
    target = container.terminationMessagePath or ""
    if not target:
        return None
    directory = pods_dir / uid / "containers" / container.name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / secrets.token_hex(4)  # makeUID: one file per instance
    path.touch()
    os.chmod(path, 0o666)  # the container's user, whoever it is, writes it
    return Mount(source=str(path), target=target)


def _read_tail(path: str) -> tuple[str | None, bool]:
    """(the file's last 4096 bytes, or an error text; whether it was missing)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - MAX_MESSAGE))
            return fh.read().decode(errors="replace"), False
    except FileNotFoundError:
        return None, True
    except OSError as exc:
        return f"Error on reading termination log {path}: {exc}", False


class TerminationMessages:
    """The node's reader of termination messages, with a cache of the exited instances."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.cache: dict[str, str] = {}

    async def enrich(self, containers: list[ContainerInfo]) -> list[ContainerInfo]:
        """Each exited instance with its message; others as they are."""
        out = []
        for info in containers:
            if info.state is InstanceState.EXITED:
                if len(self.cache) > _CACHE_LIMIT:  # removed instances leave entries behind
                    self.cache.clear()
                if info.id not in self.cache:
                    self.cache[info.id] = await self._message(info)
                info = replace(info, termination_message=self.cache[info.id])
            out.append(info)
        return out

    async def _message(self, info: ContainerInfo) -> str:
        """`toKubeContainerStatus`'s message for an exited instance."""
        fallback = (
            info.labels.get(LABEL_MESSAGE_POLICY) == "FallbackToLogsOnError"
            and info.exit_code != 0
            and not cannot_run(info)
        )
        path = info.labels.get(LABEL_MESSAGE_FILE, "")
        text, check_logs = "", fallback
        if path:
            read, missing = await anyio.to_thread.run_sync(_read_tail, path)
            if not missing:
                text, check_logs = read or "", fallback and not read
        if check_logs:
            text = await self._log_tail(info.id)
        return text

    async def _log_tail(self, container_id: str) -> str:
        """`readLastStringFromContainerLogs`: the last 80 lines, then their last 2048 bytes."""
        chunks: list[bytes] = []
        try:
            async for line in self.runtime.logs(container_id, LogOptions(tail=MAX_LOG_LINES)):
                chunks.append(line)
        except RuntimeFailure as exc:
            return f"Error on reading termination message from logs: {exc}"
        return b"".join(chunks)[-MAX_LOG_BYTES:].decode(errors="replace")
