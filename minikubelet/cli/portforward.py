"""`port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT... [--address ADDR]`, as kubectl 1.32 runs it.

kubectl's steps and words, in its order: the object and its pod (`cli/podfor.py`: a pod, or a
Service's most active pod, waiting `--pod-running-timeout`), the UDP check and the remote
ports by name (a pod's container ports; a Service's ports to their targetPort), the pod's
phase, the addresses (`localhost` or IPs), the ports (`strconv.ParseUint`'s errors), then one
listener per address and port with client-go's failure modes: `localhost`'s two families
need one to bind, an explicit address must bind; a port that cannot listen is reported and
the others forward (kubectl: staging/src/k8s.io/kubectl/pkg/cmd/portforward/portforward.go,
client-go tools/portforward/portforward.go, kubectl pkg/util/{pod,service}_port.go, 1.32).

For each accepted connection the node dials the port inside the pod's network namespace and,
the CLI being on the agent's UNIX socket, passes the connected socket over it (the
`minikubelet-socket` upgrade): the bytes then go between the local connection and the pod in
this process, with no agent in between (a quarter of the pod IP's rate when the agent relayed
them; see bench/README.md). An agent that does not know the upgrade gets the channel protocol
instead (`v4.channel.k8s.io` with `?ports=REMOTE`: channel 0 data, channel 1 the node's error).
An error from the node is logged as client-go logs it (klog's `E` line through
`runtime.HandleError`) and ends the command with `lost connection to pod`, as kubectl 1.32's
does: it closes its connection to the pod on an error stream's message.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ipaddress
import json
import os
import socket
import sys
import threading
from typing import Any

from minikubelet.api.gofmt import go_errno_text, go_quote, join_host_port
from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.cli import podfor
from minikubelet.clock import Clock, RealClock
from minikubelet.errors import ManifestError

__all__ = [
    "ForwardedPort",
    "ListenAddress",
    "add_arguments",
    "forward_specs",
    "klog_error",
    "listen",
    "parse_addresses",
    "parse_ports",
    "receive_socket",
    "run",
]

_PASSED = b"upgrade: minikubelet-socket"  # the 101's header when the agent passes the socket
USAGE = (
    "port-forward TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]"
)
_SEE = "See 'minikubelet port-forward -h' for help and examples"
# client-go 1.32 tools/portforward/portforward.go: the lines of its runtime.HandleError calls
_LINE_STREAM, _LINE_FORWARDING = 357, 424


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="TYPE/NAME")
    parser.add_argument("ports", nargs="*", metavar="[LOCAL_PORT:]REMOTE_PORT")
    parser.add_argument(  # a pflag StringSlice: comma-separated, repeatable
        "--address",
        action="append",
        help="Addresses to listen on (comma separated). Only accepts IP addresses or localhost "
        "as a value. When localhost is supplied, minikubelet will try to bind on both 127.0.0.1 "
        "and ::1 and will fail if neither of these addresses are available to bind.",
    )
    parser.add_argument("--pod-running-timeout", default="1m0s")


# ---- the ports, as client-go parses them (kubectl's names are podfor.remote_ports') ----


def _parse_uint16(text: str) -> int:
    """Go's `strconv.ParseUint(text, 10, 16)`; ValueError with its words."""
    value = 0
    for char in text or "x":
        if char not in "0123456789":
            raise ValueError(f"strconv.ParseUint: parsing {go_quote(text)}: invalid syntax")
        value = value * 10 + int(char)
        if value > 0xFFFF:
            raise ValueError(f"strconv.ParseUint: parsing {go_quote(text)}: value out of range")
    return value


class ForwardedPort:
    """A local:remote pair; `local` becomes the bound port when 0 asked for a free one."""

    __slots__ = ("local", "remote")

    def __init__(self, local: int, remote: int) -> None:
        self.local, self.remote = local, remote

    def __repr__(self) -> str:  # Go's %v of the struct, in `unable to listen on any of ...`
        return f"{{{self.local} {self.remote}}}"


def parse_ports(specs: list[str]) -> list[ForwardedPort]:
    """client-go's parsePorts: `5000`, `8888:5000`, `:5000` and `0:5000` (a free local port)."""
    forwards: list[ForwardedPort] = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) > 2:
            raise ManifestError(f"invalid port format '{spec}'")
        local, remote = (parts[0], parts[0]) if len(parts) == 1 else (parts[0] or "0", parts[1])
        try:
            local_port = _parse_uint16(local)
        except ValueError as exc:
            raise ManifestError(f"error parsing local port '{local}': {exc}") from None
        try:
            remote_port = _parse_uint16(remote)
        except ValueError as exc:
            raise ManifestError(f"error parsing remote port '{remote}': {exc}") from None
        if remote_port == 0:
            raise ManifestError("remote port must be > 0")
        forwards.append(ForwardedPort(local_port, remote_port))
    return forwards


# ---- the addresses and listeners ----


class ListenAddress:
    """An address as given, the IP bound, `tcp4`/`tcp6`, and its failure mode: `all` (the
    families of `localhost`, one of which must bind) or `any` (an IP, which must bind)."""

    __slots__ = ("address", "ip", "protocol", "failure_mode")

    def __init__(self, address: str, ip: str, protocol: str, failure_mode: str) -> None:
        self.address, self.ip, self.protocol = address, ip, protocol
        self.failure_mode = failure_mode

    def __repr__(self) -> str:
        return f"ListenAddress({self.address!r}, {self.protocol}, {self.failure_mode})"


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`netutils.ParseIPSloppy`: IPv4 (leading zeros allowed) or IPv6 without a zone."""
    parts = text.split(".")
    if len(parts) == 4 and all(p and all(c in "0123456789" for c in p) for p in parts):
        octets = [int(p) for p in parts]
        return ipaddress.IPv4Address(bytes(octets)) if max(octets) <= 255 else None
    if "%" in text or ":" not in text:
        return None
    try:
        ip = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return ip.ipv4_mapped or ip  # Go's To4(): a mapped address is IPv4's


def parse_addresses(values: list[str]) -> list[ListenAddress]:
    """client-go's parseAddresses: `localhost` as 127.0.0.1 and ::1, IPs as given, each once,
    sorted by address."""
    if not values:
        raise ManifestError("you must specify at least 1 address")
    parsed: dict[str, ListenAddress] = {}
    for address in values:
        if address == "localhost":
            parsed.setdefault("127.0.0.1", ListenAddress("127.0.0.1", "127.0.0.1", "tcp4", "all"))
            parsed.setdefault("::1", ListenAddress("::1", "::1", "tcp6", "all"))
            continue
        ip = _parse_ip(address)
        if ip is None:
            raise ManifestError(f"{address} is not a valid IP")
        protocol = "tcp4" if ip.version == 4 else "tcp6"
        parsed[address] = ListenAddress(address, str(ip), protocol, "any")
    return [parsed[key] for key in sorted(parsed)]


def _listener(address: ListenAddress, port: int) -> socket.socket:
    """net.Listen(protocol, host:port), as Go makes it (SO_REUSEADDR; IPV6_V6ONLY for tcp6);
    ValueError with client-go's words."""
    family = socket.AF_INET if address.protocol == "tcp4" else socket.AF_INET6
    step = "socket"
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            step = "setsockopt"
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            step = "bind"
            sock.bind((address.ip, port))
            step = "listen"
            sock.listen(socket.SOMAXCONN)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        shown = join_host_port(address.ip, port)
        raise ValueError(
            f"unable to create listener: Error listen {address.protocol} {shown}: "
            f"{step}: {go_errno_text(exc)}"
        ) from None
    return sock


def listen(
    addresses: list[ListenAddress], ports: list[ForwardedPort]
) -> list[tuple[socket.socket, ForwardedPort]]:
    """client-go's forward(): listeners for every port on every address, each printed as it
    binds; a port whose failure mode is met is reported (`Unable to listen on port`) and the
    others go on. The listeners made (those of a failed port too, as client-go keeps them);
    ManifestError when no port could listen."""
    made: list[tuple[socket.socket, ForwardedPort]] = []
    success = False
    for port in ports:
        errors: list[str] = []
        failed = {"all": 0, "any": 0}
        bound = {"all": 0, "any": 0}
        for address in addresses:
            try:
                sock = _listener(address, port.local)
            except ValueError as exc:
                errors.append(str(exc))
                failed[address.failure_mode] += 1
                continue
            port.local = sock.getsockname()[1]
            shown = join_host_port(address.address, port.local)
            print(f"Forwarding from {shown} -> {port.remote}", flush=True)
            made.append((sock, ForwardedPort(port.local, port.remote)))
            bound[address.failure_mode] += 1
        if (bound["all"] == 0 and failed["all"] > 0) or failed["any"] > 0:
            text = f"Listeners failed to create with the following errors: [{' '.join(errors)}]"
            print(f"Unable to listen on port {port.local}: {text}", file=sys.stderr, flush=True)
        else:
            success = True
    if not success:
        for sock, _ in made:
            sock.close()
        shown = " ".join(map(repr, ports))  # Go's %v of the slice
        raise ManifestError(f"unable to listen on any of the requested ports: [{shown}]")
    return made


# ---- forwarding ----


def klog_error(message: str, line: int, clock: Clock) -> str:
    """The line client-go's runtime.HandleError writes through klog (local time, the pid):
    `E1205 03:12:45.123456   12345 portforward.go:424] "Unhandled Error" err="..."`; a
    message of several lines as klog writes one (`err=<`, tab-indented lines, ` >`)."""
    now = clock.utcnow().astimezone()
    head = f"E{now:%m%d %H:%M:%S}.{now.microsecond:06d} {os.getpid():7d} portforward.go:{line}]"
    if "\n" not in message:
        return f'{head} "Unhandled Error" err={go_quote(message)}'
    body = "".join(f"\t{part}\n" for part in message.removesuffix("\n").split("\n"))
    return f'{head} "Unhandled Error" err=<\n{body} >'


def _status_message(body: bytes) -> str:
    """A metav1 Status's message (the pod deleted under us: `pods "web" not found`), else the
    text as it came (the error stream's words, a trailing space kept as kubectl shows it)."""
    text = body.decode("utf-8", "replace")
    try:
        status = json.loads(body)
    except ValueError:
        return text
    if isinstance(status, dict) and status.get("kind") == "Status":
        return str(status.get("message") or text)
    return text


class _Forwarder:
    def __init__(self, client: agent.ApiClient, pod: dict[str, Any], clock: Clock) -> None:
        meta = pod["metadata"]
        self.socket_path = client.paths.socket_path
        self.path = POD.path(meta["namespace"], meta["name"], "portforward")
        self.clock = clock
        self.lost = threading.Event()
        self.passing = True  # the agent hands over the pod's socket (`receive_socket`)

    def handle(self, conn: socket.socket, local: int, remote: int) -> None:
        from minikubelet.cli.channels import UpgradeFailed, open_session

        print(f"Handling connection for {local}", flush=True)
        forwarding = f"an error occurred forwarding {local} -> {remote}"
        if self.passing:
            try:
                pod = receive_socket(self.socket_path, self.path, remote)
            except UpgradeFailed as exc:
                if exc.code in (404, 500):  # the node's error stream, or the pod gone
                    text = _status_message(exc.body)
                    self._lose(conn, f"{forwarding}: {text}", _LINE_FORWARDING)
                    return
                self.passing = False  # an agent without the upgrade: the channel protocol
            except OSError as exc:
                self._lose(conn, self._no_stream(local, remote, exc), _LINE_STREAM)
                return
            else:
                _relay(conn, pod)
                return
        try:
            session = open_session(
                self.socket_path, self.path, [("ports", str(remote))], "v4.channel.k8s.io"
            )
        except UpgradeFailed as exc:
            text = _status_message(exc.body)
            self._lose(conn, f"{forwarding}: {text}", _LINE_FORWARDING)
            return
        except OSError as exc:
            self._lose(conn, self._no_stream(local, remote, exc), _LINE_STREAM)
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
                    self._lose(conn, f"{forwarding}: {text}", _LINE_FORWARDING)
                    break
        except OSError:
            pass
        finally:
            session.close()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _no_stream(self, local: int, remote: int, exc: OSError) -> str:
        """client-go's words when no stream could be made: the agent's socket is gone."""
        cause = f"dial unix {self.socket_path}: connect: {go_errno_text(exc)}"
        return f"error creating error stream for port {local} -> {remote}: {cause}"

    def _lose(self, conn: socket.socket, message: str, line: int) -> None:
        print(klog_error(message, line, self.clock), file=sys.stderr, flush=True)
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
    words, 404 when the pod is gone, or another code from an agent without the upgrade."""
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


# ---- the command ----


def _addresses(values: list[str] | None) -> list[str]:
    """`--address`, a pflag StringSlice: each value read as CSV, the values appended."""
    found: list[str] = []
    for value in values or ["localhost"]:
        found += next(csv.reader([value]), []) if value else []
    return found


def forward_specs(
    client: agent.ApiClient, args: argparse.Namespace, timeout: float, clock: Clock
) -> tuple[dict[str, Any], list[str]]:
    """kubectl's Complete(): the pod to forward to, and the port specs with remote names
    resolved (a Service's ports translated to its pod's)."""
    namespace = args.namespace or "default"
    kind, obj = podfor.object_for(client, args.target, namespace)
    pod = podfor.attachable_pod(client, kind, obj, timeout, clock)
    return pod, podfor.remote_ports(kind, obj, pod, args.ports)


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    clock = clock or RealClock()
    timeout = podfor.pod_running_timeout(args.pod_running_timeout, "port-forward")
    if not args.target or not args.ports:
        raise ManifestError(f"TYPE/NAME and list of ports are required for port-forward\n{_SEE}")
    if timeout <= 0:
        raise ManifestError(f"--pod-running-timeout must be higher than zero\n{_SEE}")
    namespace = args.namespace or "default"
    client = agent.connect()
    listeners: list[tuple[socket.socket, ForwardedPort]] = []
    try:
        chosen, specs = forward_specs(client, args, timeout, clock)
        pod = client.request("GET", POD.path(namespace, chosen["metadata"]["name"]))
        phase = (pod.get("status") or {}).get("phase") or ""
        if phase != "Running":
            raise ManifestError(
                f"unable to forward port because pod is not running. Current status={phase}"
            )
        addresses = parse_addresses(_addresses(args.address))
        ports = parse_ports(specs)
        forwarder = _Forwarder(client, pod, clock)
        listeners = listen(addresses, ports)
        for listener, port in listeners:
            threading.Thread(
                target=forwarder.serve, args=(listener, port.local, port.remote), daemon=True
            ).start()
        try:
            forwarder.lost.wait()
        except KeyboardInterrupt:
            return 0  # kubectl's stop channel: an interrupt ends forwarding without an error
    finally:
        for listener, _ in listeners:
            listener.close()
        client.close()
    raise ManifestError("lost connection to pod")
