"""A real image registry on loopback for the pull tests, and a target that never answers.

`Registry.start` runs Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a free
port with a temporary storage directory, optionally behind htpasswd basic auth; `push` puts a
locally built image into it (the engine allows plain HTTP to 127.0.0.0/8 registries). `stop`
ends the process, removes the storage and every image of that registry the engine holds, so a
test leaves nothing on the engine. `Silent` listens, accepts connections and never answers:
a registry that hangs.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from minikubelet.clock import poll

__all__ = ["SMALL_IMAGE", "Registry", "Silent", "registry_binary"]

SMALL_IMAGE = "minikubelet/pause:3.10"  # under 1 MB, and it runs until stopped
USER, PASSWORD = "puller", "s3cret-pull"


def registry_binary() -> str | None:
    return shutil.which("docker-registry")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config(root: Path, port: int, htpasswd: Path | None) -> str:
    auth = (
        f"auth:\n  htpasswd:\n    realm: minikubelet-test\n    path: {htpasswd}\n"
        if htpasswd
        else ""
    )
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"{auth}"
    )


def _status(port: int, path: str = "/v2/") -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()
    except OSError:
        return None


def _launch(binary: str, root: Path, port: int) -> subprocess.Popen[bytes] | None:
    """`docker-registry serve`, once it answers on `port`; None when it exited instead."""
    log = open(root / "registry.log", "ab")  # noqa: SIM115 - kept open by the child
    try:
        process = subprocess.Popen(
            [binary, "serve", str(root / "config.yml")], stdout=log, stderr=log
        )
    finally:
        log.close()
    poll(lambda: process.poll() is not None or _status(port) is not None, 15, 0.05)
    if process.poll() is None and _status(port) is not None:
        return process
    process.kill()
    process.wait(10)
    return None


@dataclass
class Registry:
    """One `docker-registry serve` process of a test."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    auth: tuple[str, str] | None = None
    pushed: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, root: Path, *, auth: bool = False) -> Registry:
        binary = registry_binary()
        if binary is None:
            raise RuntimeError("docker-registry is not installed (run images/ensure-engine.sh)")
        root.mkdir(parents=True, exist_ok=True)
        htpasswd = None
        if auth:
            htpasswd = root / "htpasswd"
            line = subprocess.run(
                ["htpasswd", "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True
            ).stdout.strip()
            htpasswd.write_text(line + "\n")
        for _ in range(5):  # a free port may be taken before the registry binds it
            port = free_port()
            (root / "config.yml").write_text(_config(root, port, htpasswd))
            process = _launch(binary, root, port)
            if process is not None:
                return cls(root, port, process, (USER, PASSWORD) if auth else None)
        log_text = (root / "registry.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"docker-registry did not start; its log ends:\n{log_text}")

    def push(self, local: str, name: str) -> str:
        """Push the local image `local` as `name` (`repo:tag`); returns the full reference."""
        reference = f"{self.host}/{name}"
        repository, tag = reference.rsplit(":", 1)
        client = docker.from_env()
        try:
            client.images.get(local).tag(repository, tag)
            try:
                auth = {"username": self.auth[0], "password": self.auth[1]} if self.auth else None
                for line in client.api.push(
                    repository, tag, auth_config=auth, stream=True, decode=True
                ):
                    if line.get("error"):
                        raise RuntimeError(f"push {reference}: {line['error']}")
            finally:
                client.images.remove(reference)  # the tag only: the image stays
        finally:
            client.close()
        self.pushed.append(reference)
        return reference

    def delete_tag(self, name: str) -> None:
        """Remove `repo:tag` from the registry (as an unpublished tag: manifest unknown)."""
        repository, tag = name.rsplit(":", 1)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        accept = "application/vnd.docker.distribution.manifest.v2+json"
        try:
            conn.request("HEAD", f"/v2/{repository}/manifests/{tag}", headers={"Accept": accept})
            head = conn.getresponse()
            head.read()
            digest = head.getheader("Docker-Content-Digest")
            conn.request("DELETE", f"/v2/{repository}/manifests/{digest}")
            response = conn.getresponse()
            response.read()
            status = response.status
        finally:
            conn.close()
        if status != 202:
            raise RuntimeError(f"deleting {name} from the registry answered {status}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        remove_images(f"{self.host}/")
        shutil.rmtree(self.root, ignore_errors=True)


def remove_images(prefix: str) -> None:
    """Untag every image of the engine named under `prefix` (what tests pulled)."""
    client = docker.from_env()
    try:
        for image in client.images.list():
            for tag in image.tags:
                if tag.startswith(prefix):
                    try:
                        client.images.remove(tag)
                    except docker.errors.NotFound:
                        pass
    finally:
        client.close()


class Silent:
    """A TCP listener on loopback that accepts every connection and never answers."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def connections(self) -> int:
        return len(self._accepted)

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._accepted.append(conn)  # held open, never read, never answered

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self._sock.close()
        self._thread.join(5)
        for conn in self._accepted:
            conn.close()
        remove_images(f"{self.host}/")
