"""`port-forward (POD | pod/NAME) [LOCAL_PORT:]REMOTE_PORT... [--address ADDR]`, as kubectl's.

One listener per local address and port. For each accepted connection the node dials the
port inside the pod's network namespace and, the CLI being on the agent's UNIX socket, passes
the connected socket over it (the `minikubelet-socket` upgrade): the bytes then go between
the local connection and the pod in this process, with no agent in between (a quarter of the
pod IP's rate when the agent relayed them; see bench/README.md). An agent that does not know
the upgrade gets the channel protocol instead (`v4.channel.k8s.io` with `?ports=REMOTE`:
channel 0 carries data, channel 1 the node's error). An error from the node ends the whole
command, as kubectl's `lost connection to pod` does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading
from typing import Any

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "parse_port", "receive_socket", "run"]

_PASSED = b"upgrade: minikubelet-socket"  # the 101's header when the agent passes the socket
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
        self.passing = True  # the agent hands over the pod's socket (`receive_socket`)

    def handle(self, conn: socket.socket, local: int, remote: int) -> None:
        from minikubelet.cli.channels import UpgradeFailed, open_session

        print(f"Handling connection for {local}", flush=True)
        if self.passing:
            try:
                pod = receive_socket(self.socket_path, self.path, remote)
            except UpgradeFailed as exc:
                if exc.code == 500:
                    self._lose(conn, local, remote, str(exc))
                    return
                self.passing = False  # an agent without the upgrade: the channel protocol
            except OSError as exc:
                self._lose(conn, local, remote, str(exc))
                return
            else:
                _relay(conn, pod)
                return
        try:
            session = open_session(
                self.socket_path, self.path, [("ports", str(remote))], "v4.channel.k8s.io"
            )
        except (UpgradeFailed, OSError) as exc:
            self._lose(conn, local, remote, str(exc))
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

    def _lose(self, conn: socket.socket, local: int, remote: int, text: str) -> None:
        print(f"error: an error occurred forwarding {local} -> {remote}: {text}", file=sys.stderr)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)  # a FIN first: unread bytes would make close() a RST
        conn.close()
        self.lost.set()

    def serve(self, listener: socket.socket, local: int, remote: int) -> None:
        while not self.lost.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn, local, remote), daemon=True).start()


def receive_socket(socket_path: str, path: str, remote: int) -> socket.socket:
    """The connection to `remote` inside the pod, made by the node and passed over its UNIX
    socket (the `minikubelet-socket` upgrade): the bytes then go from here to the pod with no
    agent in between. UpgradeFailed when the agent refuses: 500 with the error stream's
    words, or another code from an agent that does not know the upgrade."""
    from minikubelet.cli.channels import UpgradeFailed, query_string

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as agent_conn:
        agent_conn.connect(socket_path)
        agent_conn.sendall(
            f"GET {path}?{query_string([('ports', str(remote))])} HTTP/1.1\r\n"
            "Host: minikubelet\r\nConnection: Upgrade\r\nUpgrade: minikubelet-socket\r\n\r\n"
            .encode()
        )  # fmt: skip
        data, fds = b"", list[int]()

        def waiting() -> bool:  # for the head, then (a 101 of ours) for the descriptor
            head, done, _ = data.partition(b"\r\n\r\n")
            return not done or (not fds and _PASSED in head.lower())

        while waiting():
            chunk, got, _, _ = socket.recv_fds(agent_conn, 65536, 1)
            fds += got
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        code = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 500
        if code != 101 or not fds or _PASSED not in head.lower():
            for fd in fds:
                os.close(fd)
            length = next(
                (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")), 0,
            )  # fmt: skip
            while len(body) < length and (chunk := agent_conn.recv(65536)):
                body += chunk
            raise UpgradeFailed(code, body[:length])
    pod = socket.socket(fileno=fds[0])
    pod.setblocking(True)
    return pod


def _relay(conn: socket.socket, pod: socket.socket) -> None:
    """Both ways, until the pod's side ends: then the local connection closes, as kubectl's
    does once the remote copy is done (the client's end is passed on as a half-close)."""

    def copy(source: socket.socket, sink: socket.socket) -> None:
        buffer = memoryview(bytearray(1 << 18))
        with contextlib.suppress(OSError):
            while size := source.recv_into(buffer):
                sink.sendall(buffer[:size])
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    upstream = threading.Thread(target=copy, args=(conn, pod), daemon=True)
    upstream.start()
    copy(pod, conn)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)  # wakes the other copy if it still waits
    upstream.join()
    pod.close()
    conn.close()


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
