"""`port-forward (POD | pod/NAME) [LOCAL_PORT:]REMOTE_PORT... [--address ADDR]`, as kubectl's.

One listener per local address and port; each accepted connection gets its own session with
the agent (`v4.channel.k8s.io` with `?ports=REMOTE`: channel 0 carries data, channel 1 the
node's error). The node dials the port inside the pod's network namespace. An error from the
node ends the whole command, as kubectl's `lost connection to pod` does.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
from typing import Any

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "parse_port", "run"]

USAGE = (
    "port-forward TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="TYPE/NAME")
    parser.add_argument("ports", nargs="*", metavar="[LOCAL_PORT:]REMOTE_PORT")
    parser.add_argument("--address", default="localhost")


def parse_port(spec: str) -> tuple[int, int]:
    """`8080`, `8000:80` or `:80` (a free local port): (local, remote), kubectl's errors."""
    local, sep, remote = spec.rpartition(":")
    if not sep:
        local = remote
    try:
        remote_port = int(remote)
        local_port = int(local) if local else 0
    except ValueError:
        bad = remote if not remote.isdigit() else local
        syntax = f'strconv.ParseUint: parsing "{bad}": invalid syntax'
        raise ManifestError(f"Error parsing local port '{bad}': {syntax}") from None
    if not 0 < remote_port < 65536:
        raise ManifestError(f"Remote port must be > 0 and < 65536: {remote_port}")
    return local_port, remote_port


def _listeners(addresses: list[str], local: int) -> list[tuple[str, socket.socket]]:
    found: list[tuple[str, socket.socket]] = []
    for address in addresses:
        hosts = ["127.0.0.1", "::1"] if address == "localhost" else [address]
        for host in hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, local if not found else found[0][1].getsockname()[1]))
            except OSError:
                sock.close()
                if address != "localhost":
                    raise
                continue
            sock.listen(128)
            found.append((host, sock))
    if not found:
        raise ManifestError(f"unable to listen on port {local}: no address could be bound")
    return found


class _Forwarder:
    def __init__(self, client: agent.ApiClient, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        self.socket_path = client.paths.socket_path
        self.path = POD.path(meta["namespace"], meta["name"], "portforward")
        self.lost = threading.Event()

    def handle(self, conn: socket.socket, local: int, remote: int) -> None:
        from minikubelet.cli.channels import UpgradeFailed, open_session

        print(f"Handling connection for {local}", flush=True)
        try:
            session = open_session(
                self.socket_path, self.path, [("ports", str(remote))], "v4.channel.k8s.io"
            )
        except (UpgradeFailed, OSError) as exc:
            print(
                f"error: an error occurred forwarding {local} -> {remote}: {exc}", file=sys.stderr
            )
            conn.close()
            self.lost.set()
            return

        def upstream() -> None:
            with contextlib.suppress(OSError):
                while chunk := conn.recv(1 << 18):
                    session.send(0, chunk)
            with contextlib.suppress(OSError):
                session.close()

        threading.Thread(target=upstream, daemon=True).start()
        seen = {0: False, 1: False}
        try:
            for channel, data in session.frames():
                if channel in seen and not seen[channel]:
                    seen[channel] = True  # the port, little-endian: each channel's first frame
                elif channel == 0:
                    conn.sendall(data)
                elif channel == 1 and data:
                    text = data.decode("utf-8", "replace")
                    print(
                        f"error: an error occurred forwarding {local} -> {remote}: {text}",
                        file=sys.stderr,
                    )
                    self.lost.set()
                    break
        except OSError:
            pass
        finally:
            session.close()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def serve(self, listener: socket.socket, local: int, remote: int) -> None:
        while not self.lost.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn, local, remote), daemon=True).start()


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    if not args.target or not args.ports:
        raise ManifestError(
            "TYPE/NAME and list of ports are required for port-forward\n"
            "See 'minikubelet port-forward -h' for help and examples"
        )
    kind, sep, name = args.target.rpartition("/")
    if sep and kind not in ("pod", "pods", "po"):
        raise ManifestError(f"cannot port-forward to {kind}: only pods are supported")
    pairs = [parse_port(spec) for spec in args.ports]
    client = agent.connect()
    try:
        pod = client.request("GET", POD.path(namespace, name))
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            raise ManifestError(
                f"unable to forward port because pod is not running. Current status={phase}"
            )
        forwarder = _Forwarder(client, pod)
        addresses = [a.strip() for a in args.address.split(",") if a.strip()]
        for local, remote in pairs:
            for host, listener in _listeners(addresses, local):
                bound = listener.getsockname()[1]
                shown = f"[{host}]" if ":" in host else host
                print(f"Forwarding from {shown}:{bound} -> {remote}", flush=True)
                threading.Thread(
                    target=forwarder.serve, args=(listener, bound, remote), daemon=True
                ).start()
        forwarder.lost.wait()
    finally:
        client.close()
    raise ManifestError("lost connection to pod")
