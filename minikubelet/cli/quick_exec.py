"""`minikubelet exec [-n NS] POD [-c C] -- CMD...`, the plain form, without the CLI's weight.

A Python CLI started per exec pays its interpreter and imports where docker's Go CLI pays
little; traced per exec (load 3), the whole CLI (argparse, typing, the API client with
`socket`, `api.kinds`, the logs module for the default container) took ~35 ms of
`-X importtime` before the session and the interpreter's teardown ~10 ms after it. This path
imports the session's modules only (`channels`, `wsframes`, `paths`, `json`), asks the agent
for the pod with one hand-written GET, and the entry point ends the process with `os._exit`
once stdout and stderr are flushed.

It takes only what it can answer exactly as `exec.run` would: the words `exec`, a pod (`NAME`,
`pod/NAME`), `-n`/`--namespace`, `-c`/`--container`, `-q`, then `--` and a command; a pod that
is not completed and whose default container needs no note (one container, no init or
ephemeral ones, no default-container annotation) or a container named. Anything else (other
flags, `-i`, `-t`, help, errors of any kind, an agent not running) returns None before a
session starts, and the entry point runs the whole CLI, whose words and exit codes those are.
"""

from __future__ import annotations

import _socket
import json
import sys

from minikubelet.cli.channels import UpgradeFailed, exit_code, open_session
from minikubelet.paths import StatePaths

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["plan", "run"]

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


def plan(argv: list[str]) -> tuple[str, str, str, list[str]] | None:
    """(namespace, pod, container or "", command) of a plain exec; None for anything else."""
    if "--" not in argv:
        return None
    at = argv.index("--")
    words, command = argv[:at], argv[at + 1 :]
    namespace, container, target, seen_exec = "default", "", "", False
    index = 0
    while index < len(words):
        word = words[index]
        flag, equals, value = word.partition("=")
        if flag in ("-n", "--namespace", "-c", "--container") and not equals:
            if index + 1 >= len(words):
                return None
            value = words[index + 1]
            index += 2
        elif flag in ("--namespace", "--container") and equals:
            index += 1
        elif word in ("-q", "--quiet") and seen_exec:
            index += 1
            continue
        elif word.startswith("-"):
            return None
        elif not seen_exec and word == "exec":
            seen_exec, index = True, index + 1
            continue
        elif seen_exec and not target:
            target, index = word, index + 1
            continue
        else:
            return None
        if not value or value.startswith("-"):
            return None
        if flag in ("-n", "--namespace"):
            namespace = value
        elif seen_exec:
            container = value
        else:
            return None  # -c before the command word: argparse's error
    kind, _, name = target.rpartition("/")
    plain = all(set(word) <= _PLAIN for word in (namespace, name)) and name and namespace
    if not (seen_exec and command and plain and kind in ("", "pod", "pods", "po")):
        return None
    return namespace, name, container, command


def _get(socket_path: str, path: str) -> dict[str, Any] | None:
    """The agent's 200 answer to a GET as JSON; None for anything else (or no agent)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    data = b""
    try:
        sock.connect(socket_path)
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: minikubelet\r\nAccept: application/json\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        while chunk := sock.recv(1 << 16):
            data += chunk
    except OSError:
        return None
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 ") or b"chunked" in head.lower():
        return None
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _only_container(pod: dict[str, Any]) -> str | None:
    """The container kubectl picks without a note, or None where it would say something."""
    spec = pod.get("spec") or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    containers = spec.get("containers") or []
    if len(containers) != 1 or spec.get("initContainers") or spec.get("ephemeralContainers"):
        return None
    if "kubectl.kubernetes.io/default-container" in annotations:
        return None
    name = containers[0].get("name")
    return name if isinstance(name, str) and name else None


def run(argv: list[str]) -> int | None:
    """The exec's exit code, or None (nothing ran) for the whole CLI to take it."""
    found = plan(argv)
    if found is None:
        return None
    namespace, name, container, command = found
    socket_path = StatePaths.from_env().socket_path
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    pod = _get(socket_path, path)
    if pod is None or pod.get("kind") != "Pod":
        return None
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return None
    container = container or _only_container(pod) or ""
    if not container:
        return None
    query = [("command", word) for word in command]
    query += [("container", container), ("stderr", "true"), ("stdout", "true")]
    try:
        session = open_session(socket_path, f"{path}/exec", query)
    except (UpgradeFailed, OSError):
        return None  # refused before anything ran: the whole CLI says why
    out, err = sys.stdout.buffer, sys.stderr.buffer

    def write(channel: int, data: bytes) -> None:
        target = err if channel == 2 else out
        target.write(data)
        target.flush()

    return exit_code(session.run(write))
