"""`minikubelet reset`: take a node down and remove everything it made.

Run as `python -m minikubelet.reset` by the CLI's `reset` command (which asks first), so the
CLI itself never imports the engine's SDK. For one node (the state dir of `$MINIKUBELET_HOME`),
or with `--all` for every node instance found on the engine by its instance label (a state dir
removed by hand leaves its instance there, and this finds it):

1. stop the agents: the node's own (its pid file), and with `--all` every agent process of
   this machine (`python -m minikubelet.agent`, what `daemon run` execs), whose state dirs go
   too;
2. remove each instance's containers (a pod's members before its sandbox) and its network;
3. with `--images`, the images the project built (images/build.sh);
4. remove the state directories.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from functools import partial
from pathlib import Path

import anyio

from minikubelet.clock import poll
from minikubelet.paths import StatePaths
from minikubelet.runtime.docker import DockerRuntime

__all__ = ["find_agents", "main", "reset"]

STOP_TIMEOUT = 60.0


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def find_agents(proc: str = "/proc", engine: str | None = None) -> dict[int, Path]:
    """Every node agent on this machine (`python -m minikubelet.agent`, which `minikubelet
    daemon run` execs, or a `daemon run` not yet exec'd) that talks to `engine` (a
    DOCKER_HOST; default: this process's), with its state dir (its MINIKUBELET_HOME, else the
    XDG default of its environment)."""
    engine = _engine(dict(os.environ)) if engine is None else engine
    found: dict[int, Path] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        argv = _read(f"{proc}/{entry}/cmdline").split(b"\0")
        joined = b" ".join(argv)
        agent = b"minikubelet.agent" in argv  # what `daemon run` execs, and the CLI starts
        daemon_run = b"minikubelet" in joined and b"daemon" in argv and b"run" in argv
        if not (agent or daemon_run):
            continue
        env = dict(
            item.decode(errors="replace").split("=", 1)
            for item in _read(f"{proc}/{entry}/environ").split(b"\0")
            if b"=" in item
        )
        if _engine(env) != engine:
            continue  # another engine's node: not ours to take down
        if home := env.get("MINIKUBELET_HOME"):
            found[int(entry)] = Path(home)
            continue
        state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "/root")) / ".local/state")
        found[int(entry)] = Path(state) / "minikubelet"
    return found


def _engine(env: dict[str, str]) -> str:
    return env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _own_agent(paths: StatePaths) -> dict[int, Path]:
    try:
        pid = int(paths.pid.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return {}
    return {pid: paths.home}


def _stop(agents: dict[int, Path]) -> None:
    for pid in agents:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
    for pid in agents:
        if not poll(partial(_gone, pid), STOP_TIMEOUT, 0.1):
            print(f"warning: the node agent (pid {pid}) did not stop", file=sys.stderr)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return True
    return b") Z" in _read(f"/proc/{pid}/stat")  # a zombie has exited


def _instance_of(home: Path) -> str | None:
    try:
        return (home / "instance-id").read_text().strip() or None
    except OSError:
        return None


async def _sweep(instances: set[str] | None, own: str | None, images: bool) -> list[str]:
    """Remove the instances' containers and networks (all found, when `instances` is None)."""
    lines: list[str] = []
    probe = DockerRuntime(own or "reset")
    try:
        wanted = await probe.instances() if instances is None else instances
        if own:
            wanted.add(own)
        for instance in sorted(wanted):
            runtime = DockerRuntime(instance)
            try:
                containers, networks = await runtime.remove_everything()
            finally:
                await runtime.close()
            lines.append(
                f"node instance {instance}: {containers} containers and {networks} networks removed"
            )
        if images:
            for tag in await probe.remove_built_images():
                lines.append(f"image {tag} removed")
    finally:
        await probe.close()
    return lines


def reset(paths: StatePaths, *, everything: bool, images: bool) -> int:
    agents = _own_agent(paths)
    if everything:
        agents |= find_agents()
    _stop(agents)
    homes = {paths.home, *agents.values()}
    own = _instance_of(paths.home)
    instances = None if everything else ({own} if own else set())
    for home in homes:
        if (found := _instance_of(home)) is not None and instances is not None:
            instances.add(found)
    for line in anyio.run(_sweep, instances, own, images):
        print(line)
    for home in sorted(homes):
        if home.exists():
            shutil.rmtree(home, ignore_errors=True)
            print(f"state directory {home} removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minikubelet.reset")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--images", action="store_true")
    args = parser.parse_args(argv)
    return reset(StatePaths.from_env(), everything=args.all, images=args.images)


if __name__ == "__main__":
    sys.exit(main())
