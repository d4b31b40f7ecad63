"""A container engine of a test's own: a private dockerd, or a private Podman API service.

Tests that stop or restart the engine use one, so the machine's engine (and every other test
on it) is never disturbed: it has its own socket, data root and state, and is removed with
everything it held at the end. The images the tests need are copied in from the machine's
engine (`docker save | load`), which takes a few seconds and pulls nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from minikubelet.clock import poll
from minikubelet.runtime._proc import engine_hard_limits

_SANDBOX_KIND = "io.kubernetes.docker.type"
IMAGES = ("minikubelet/pause:3.10", "minikubelet/debian-base:bookworm", "webapl:0.1")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(binary: str, package: str) -> None:
    if shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin"):
        return
    problem = f"{binary} is not installed (Debian package {package})"
    if _in_ci():
        pytest.fail(f"{problem} (CI=true: e2e tests must run)", pytrace=False)
    pytest.skip(problem)


@dataclass
class PrivateEngine:
    """One engine process of a test's own; `kind` is "docker" or "podman"."""

    kind: str
    home: Path
    process: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.home / "engine.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def bridge(self) -> str:
        """The private dockerd's default bridge, a link of its own. Not `--bridge=none`:
        dockerd then deletes the host's `docker0` at its start (`removeDefaultBridgeInterface`),
        which the machine's engine only makes again when it restarts."""
        return "mkbt" + hashlib.sha256(str(self.home).encode()).hexdigest()[:8]

    def _argv(self) -> list[str]:
        if self.kind == "docker":
            return [
                "dockerd",
                f"--host={self.host}",
                f"--data-root={self.home / 'data'}",
                f"--exec-root={self.home / 'exec'}",
                f"--pidfile={self.home / 'dockerd.pid'}",
                f"--bridge={self.bridge}",  # the pods use the node's own network anyway
                "--iptables=false",
                "--ip6tables=false",
            ]
        return [
            "podman",
            f"--root={self.home / 'storage'}",
            f"--runroot={self.home / 'run'}",
            "system",
            "service",
            "--time=0",
            self.host,
        ]

    def start(self) -> None:
        """Start the engine and wait (with a deadline) until it answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.kind == "docker":
            _add_bridge(self.bridge)
        out = open(self.home / "engine.log", "ab")  # noqa: SIM115 - kept open by the child
        try:
            self.process = subprocess.Popen(self._argv(), stdout=out, stderr=out)
        finally:
            out.close()
        if not poll(self.answers, 60.0, 0.2):
            tail = (self.home / "engine.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"the private {self.kind} engine did not start; its log ends:\n{tail}")

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = docker.DockerClient(base_url=self.host, timeout=5)
        try:
            client.ping()
        except Exception:
            return False
        finally:
            client.close()
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Stop the engine as a service manager would (SIGTERM: dockerd stops its containers
        first, without live-restore) and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def load_images(self, images: tuple[str, ...] = IMAGES) -> None:
        """Copy the images from the machine's engine into this one."""
        save = subprocess.Popen(
            ["docker", "save", *images], stdout=subprocess.PIPE, env=_host_env()
        )
        assert save.stdout is not None
        load = subprocess.run(
            ["docker", "load"],
            stdin=save.stdout,
            capture_output=True,
            env={**_host_env(), "DOCKER_HOST": self.host},
            check=False,
        )
        save.stdout.close()
        save.wait(timeout=120)
        if save.returncode or load.returncode:
            pytest.fail(f"could not copy {images} into the private engine: {load.stderr!r}")

    def remove_everything(self) -> None:
        """Every container and network the engine holds (it is the test's alone)."""
        if not self.answers():
            return
        client = docker.DockerClient(base_url=self.host, timeout=60)
        try:
            for container in sandboxes_last(client.containers.list(all=True, ignore_removed=True)):
                container.remove(force=True)
            for network in client.networks.list():
                if network.name not in ("bridge", "host", "none", "podman"):
                    network.remove()
        finally:
            client.close()


def ulimits() -> list[docker.types.Ulimit]:
    """The rlimits a container of a test's own asks for, as the node's containers do: the
    hard limits of the host's Podman service (below its defaults here, which then fail with
    `error setting rlimit type 7`), else this process's; what Docker gives anyway."""
    engine = engine_hard_limits("podman")
    found = []
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        hard = engine.get(name, resource.getrlimit(which)[1])
        if hard != resource.RLIM_INFINITY:
            found.append(docker.types.Ulimit(name=name, soft=hard, hard=hard))
    return found


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def _add_bridge(name: str) -> None:
    """A bridge link with a /24 no route of this host uses (10.199.N.0/24), for a private
    dockerd's `--bridge` (it wants the bridge to hold its address)."""
    if _ip("link", "show", name).returncode == 0:
        return
    used = _ip("-4", "route").stdout + _ip("-4", "-o", "addr").stdout
    third = next((n for n in range(256) if f"10.199.{n}." not in used), None)
    if third is None:
        pytest.fail("no free 10.199.N.0/24 for a private engine's bridge")
    for args in (
        ("link", "add", name, "type", "bridge"),
        ("addr", "add", f"10.199.{third}.1/24", "dev", name),
        ("link", "set", name, "up"),
    ):
        done = _ip(*args)
        if done.returncode:
            _delete_bridge(name)
            pytest.fail(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _delete_bridge(name: str) -> None:
    if _ip("link", "show", name).returncode == 0:
        _ip("link", "delete", name)


def sandboxes_last(containers: list[Any]) -> list[Any]:
    """Containers in an order each can be removed in: Podman refuses to remove a pod sandbox
    while containers that joined its namespaces exist ("has dependent containers")."""
    return sorted(containers, key=lambda c: c.labels.get(_SANDBOX_KIND) == "podsandbox")


def _end_stragglers(home: Path, timeout: float = 15.0) -> None:
    """Until no process names `home` (with a deadline), then SIGKILL those left: conmon runs
    `podman --root HOME/storage ... container cleanup` after each container it watched exits,
    also after the service has stopped, and one that runs after the removal below makes the
    storage and its mount again (the directory was left behind with the mount); an exec
    session's conmon has been seen outliving its container and engine. Every process that
    names the private home is that engine's."""
    needle = str(home).encode()

    def stragglers() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if needle in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
        return found

    if poll(lambda: not stragglers(), timeout, 0.1):
        return
    for pid in stragglers():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    poll(lambda: not stragglers(), 5.0, 0.1)


def _unmount_under(home: Path) -> None:
    """Lazily unmount whatever the engine left mounted below `home`, deepest first; again
    while any is left (mounts stack: Podman binds its overlay directory onto itself)."""
    for _ in range(5):
        with open("/proc/self/mountinfo") as fh:
            points = [line.split()[4] for line in fh]
        below = sorted((p for p in points if p.startswith(f"{home}/")), reverse=True)
        if not below:
            return
        for point in below:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _host_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    return env


@contextmanager
def private_engine(kind: str, home: Path) -> Iterator[PrivateEngine]:
    """A started private engine with the test images; everything removed after."""
    if kind == "docker":
        need("dockerd", "docker.io")
    else:
        need("podman", "podman")
    engine = PrivateEngine(kind, home)
    try:
        engine.start()
        engine.load_images()
        yield engine
    finally:
        try:
            if engine.process is None or engine.process.poll() is not None:
                engine.start()  # a test that left it stopped: start it to clean up
            engine.remove_everything()
        finally:
            engine.stop()
            if kind == "docker":
                _delete_bridge(engine.bridge)
            _end_stragglers(home)
            _unmount_under(home)  # Podman's storage mounts itself and each container's shm
            shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str]) -> int:
    """`python -m tests.e2e.engines podman|docker -- COMMAND...`: run COMMAND with DOCKER_HOST
    on a private engine of that kind (with the test images), removed after: how `make test`
    runs the core end-to-end tests on Podman too."""
    import tempfile

    if len(argv) < 3 or argv[0] not in ("docker", "podman") or argv[1] != "--":
        print("usage: python -m tests.e2e.engines docker|podman -- COMMAND...", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mk-engine-") as tmp:
        with private_engine(argv[0], Path(tmp)) as engine:
            env = {**os.environ, "DOCKER_HOST": engine.host}
            return subprocess.run(argv[2:], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
