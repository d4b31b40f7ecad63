"""`cp <file-spec-src> <file-spec-dest> [-c CONTAINER] [--no-preserve]`, as kubectl 1.32's:
tar through exec.

To a pod: `test -d DEST` first (its output discarded; success means "into that directory"),
then the local file or tree written as a tar stream (entries named after the destination, as
kubectl's `makeTar`) to `tar -xmf - -C DIR` on stdin. From a pod: `tar cf - SRC`, whose
stdout is untarred here as it arrives (entries outside the destination and symlinks skipped
with kubectl's warnings) and whose stderr, like kubectl's, goes to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import posixpath
import sys
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.cli.channels import exit_code
from minikubelet.cli.containers import default_container
from minikubelet.errors import ManifestError

__all__ = ["FileSpec", "add_arguments", "file_spec", "make_tar", "run", "untar"]

FORMAT = "filespec must match the canonical format: [[namespace/]pod:]file/path"
CHUNK = 32 * 1024  # kubectl's websocket writes: one message per 32 KiB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="*", metavar="<file-spec>")
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("--no-preserve", action="store_true")


@dataclass(frozen=True)
class FileSpec:
    file: str
    pod: str = ""
    namespace: str = ""


def file_spec(arg: str) -> FileSpec:
    """kubectl's `extractFileSpec`: `[[namespace/]pod:]file/path`."""
    at = arg.find(":")
    if at == 0:
        raise ManifestError(FORMAT)
    if at < 0:
        return FileSpec(arg)
    pod, file = arg[:at], arg[at + 1 :]
    pieces = pod.split("/")
    if len(pieces) == 1:
        return FileSpec(file, pieces[0])
    if len(pieces) == 2:
        return FileSpec(file, pieces[1], pieces[0])
    raise ManifestError(FORMAT)


# -- the tar streams ---------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, path: str, name: str) -> None:
    """kubectl's `recursiveTar`: files and symlinks under `name`; a directory only when empty
    (tar makes the others as it writes their files)."""
    for found in sorted(glob.glob(glob.escape(path))) or [path]:
        if os.path.isdir(found) and not os.path.islink(found):
            children = sorted(os.listdir(found))
            if not children:
                tar.addfile(tar.gettarinfo(found, arcname=name))
            for child in children:
                _add(tar, os.path.join(found, child), posixpath.join(name, child))
            continue
        info = tar.gettarinfo(found, arcname=name)
        if info.isreg():
            with open(found, "rb") as fh:
                tar.addfile(info, fh)
        else:
            tar.addfile(info)


def make_tar(source: str, dest: str, out: IO[bytes]) -> None:
    """The tar stream kubectl's `makeTar` writes for `source` to land at `dest`: entries named
    from dest's base name, to be unpacked in dest's directory."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, os.path.normpath(source), posixpath.basename(posixpath.normpath(dest)))


def _strip_shortcuts(path: str) -> str:
    """kubectl's `stripPathShortcuts`: leading `../` and a bare `.`/`..` go, then one `/`."""
    while path.startswith("../"):
        path = path[3:]
    if path in (".", ".."):
        path = ""
    return path[1:] if path.startswith("/") else path


def untar(stream: IO[bytes], src: str, dest: str, warn: Callable[[str], None], hint: str) -> None:
    """kubectl's `untarAll`: every entry under `src`'s prefix, written below `dest`."""
    prefix = _strip_shortcuts(posixpath.normpath(src.lstrip("/")))
    warned = False
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            if not member.name.startswith(prefix):
                raise ManifestError("tar contents corrupted")
            rest = member.name[len(prefix) :].lstrip("/")
            target = os.path.normpath(os.path.join(dest, rest)) if rest else dest
            if os.path.relpath(target, dest).startswith(".."):
                warn(f'warning: file "{target}" is outside target destination, skipping')
                continue
            os.makedirs(os.path.dirname(target) or ".", mode=0o755, exist_ok=True)
            if member.isdir():
                os.makedirs(target, mode=0o755, exist_ok=True)
                continue
            if member.issym():
                text = f'warning: skipping symlink: "{target}" -> "{member.linkname}"'
                warn(text if warned or not hint else f"{text} {hint}")
                warned = True
                continue
            source = tar.extractfile(member)
            try:
                with open(target, "wb") as out:
                    while source is not None and (chunk := source.read(CHUNK)):
                        out.write(chunk)
            except OSError as exc:
                raise ManifestError(f"open {target}: {_go_error(exc)}") from None


def _go_error(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


# -- exec, as kubectl cp runs it ---------------------------------------------------------------


class _Stdin:
    """A file object whose writes go out on the session's stdin channel, 32 KiB at a time."""

    def __init__(self, send: Callable[[int, bytes], None]) -> None:
        self._send = send

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        for at in range(0, len(view), CHUNK):
            self._send(0, bytes(view[at : at + CHUNK]))
        return len(data)


def _execute(
    client: agent.ApiClient, pod: dict[str, Any], container: str, command: list[str], *,
    feed: Callable[[IO[bytes]], None] | None, output: Callable[[int, bytes], None],
) -> dict[str, Any]:  # fmt: skip
    """One exec session: stdin from `feed` (then its EOF), output to `output(channel, data)`."""
    from minikubelet.cli.channels import UpgradeFailed, open_session

    meta = pod["metadata"]
    query = [("command", word) for word in command] + [("container", container)]
    query += [("stderr", "true")] + ([("stdin", "true")] if feed else []) + [("stdout", "true")]
    path = POD.path(meta["namespace"], meta["name"], "exec")
    try:
        session = open_session(client.paths.socket_path, path, query)
    except UpgradeFailed as failed:
        if failed.body.startswith(b"{"):
            import json

            raise agent.error_from_status(json.loads(failed.body), failed.code) from None
        raise ManifestError(f"unable to upgrade connection: {failed}") from None
    if feed is not None:

        def copy() -> None:
            with contextlib.suppress(OSError):
                feed(_Stdin(session.send))  # type: ignore[arg-type]
                session.send(255, b"\x00")  # v5: stdin reached EOF

        threading.Thread(target=copy, daemon=True).start()
    return session.run(output)


def _get_pod(client: agent.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = client.request("GET", POD.path(namespace, name))
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise ManifestError(
            f"cannot exec into a container in a completed pod; current phase is {phase}"
        )
    return pod


def _container(pod: dict[str, Any], wanted: str, notes: IO[str]) -> str:
    """The exec's container: named, else the default, its note on `notes` (kubectl's ErrOut
    of that exec: stderr to a pod, stdout from one)."""
    return wanted or default_container(pod, warn=notes)


def copy_to_pod(client: agent.ApiClient, src: FileSpec, dest: FileSpec, args: Any) -> int:
    if not os.path.lexists(src.file):
        raise ManifestError(f"{src.file} doesn't exist in local filesystem")
    pod = _get_pod(client, dest.namespace, dest.pod)
    with open(os.devnull, "w") as discarded:  # kubectl's `test -d` writes to a buffer
        container = _container(pod, args.container, discarded)
    target = dest.file
    probe = ["test", "-d", dest.file]
    status = _execute(client, pod, container, probe, feed=None, output=lambda c, d: None)
    if status.get("status") == "Success":  # a directory: the source goes inside it
        target = posixpath.join(target, os.path.basename(os.path.normpath(src.file)))
    container = _container(pod, args.container, sys.stderr)
    command = ["tar", "-xmf", "-"]
    if args.no_preserve:
        command = ["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-"]
    directory = posixpath.dirname(posixpath.normpath(target)) or "."
    command += ["-C", directory]
    out = sys.stdout.buffer

    def feed(stdin: IO[bytes]) -> None:
        make_tar(src.file, target, stdin)

    def output(channel: int, data: bytes) -> None:
        (sys.stderr.buffer if channel == 2 else out).write(data)

    return exit_code(_execute(client, pod, container, command, feed=feed, output=output))


def copy_from_pod(
    client: agent.ApiClient, src: FileSpec, dest: FileSpec, args: Any, *, named: str = ""
) -> int:
    """`named`: the namespace the spec named, for the symlink hint ("" when none: kubectl's
    `src.PodNamespace`, not the namespace it copies from)."""
    pod = _get_pod(client, src.namespace, src.pod)
    container = _container(pod, args.container, sys.stdout)
    read, write = os.pipe()
    failure: list[BaseException] = []

    def extract() -> None:
        hint = (
            f'(consider using "minikubelet exec -n "{named}" "{src.pod}" -- '
            f'tar cf - "{src.file}" | tar xf -")'
        )
        with os.fdopen(read, "rb") as stream:
            try:
                untar(stream, src.file, dest.file, lambda t: print(t, file=sys.stderr), hint)
            except (ManifestError, tarfile.TarError, OSError) as exc:
                failure.append(exc)
            finally:
                with contextlib.suppress(OSError):
                    while stream.read(CHUNK):  # drain, so the session never blocks on us
                        pass

    reader = threading.Thread(target=extract, daemon=True)
    reader.start()
    with os.fdopen(write, "wb") as pipe:

        def output(channel: int, data: bytes) -> None:
            if channel == 1:
                pipe.write(data)
            else:  # tar's stderr is kubectl's stdout (its ErrOut is o.Out)
                sys.stdout.buffer.write(data)
                sys.stdout.flush()

        command = ["tar", "cf", "-", src.file]
        status = _execute(client, pod, container, command, feed=None, output=output)
    reader.join()
    code = exit_code(status)
    if code == 0 and failure:
        error = failure[0]
        if isinstance(error, ManifestError):
            raise error
        raise ManifestError(str(error))
    return code


def run(args: argparse.Namespace) -> int:
    if len(args.specs) != 2:
        raise ManifestError("source and destination are required")
    src, dest = file_spec(args.specs[0]), file_spec(args.specs[1])
    if src.pod and dest.pod:
        raise ManifestError("one of src or dest must be a local file specification")
    if not src.file or not dest.file:
        raise ManifestError("filepath can not be empty")
    if not (src.pod or dest.pod):
        raise ManifestError("one of src or dest must be a remote file specification")
    client = agent.connect()
    try:
        namespace = args.namespace or "default"
        if src.pod:
            remote = FileSpec(src.file, src.pod, src.namespace or namespace)
            return copy_from_pod(client, remote, dest, args, named=src.namespace)
        remote = FileSpec(dest.file, dest.pod, dest.namespace or namespace)
        return copy_to_pod(client, src, remote, args)
    finally:
        client.close()
