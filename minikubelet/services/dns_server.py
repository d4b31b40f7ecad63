"""Cluster DNS on the node: UDP and TCP on the cluster DNS IP (10.96.0.10, kubeadm's), answering
the cluster domain from the store (`dns.py`) and forwarding every other name to the host's
resolvers (the `nameserver` lines of the host's /etc/resolv.conf), as CoreDNS's
`forward . /etc/resolv.conf` does. The zone is rebuilt when a Service or EndpointSlice changes.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import SocketAttribute, SocketStream, TaskStatus
from dnslib import DNSError, DNSRecord

from minikubelet.api.service_strategy import SERVICE_STRATEGY
from minikubelet.errors import NotFound
from minikubelet.services.dns import Zone, build_zone, lookup
from minikubelet.store import Store

__all__ = ["CLUSTER_DNS_IP", "DnsServer", "ensure_dns_service", "host_nameservers"]

log = logging.getLogger("minikubelet.services")
CLUSTER_DNS_IP = "10.96.0.10"
_FORWARD_TIMEOUT = 2.0


def host_nameservers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The host's `nameserver` lines, in order (the kubelet's parseResolvConf)."""
    try:
        lines = resolv_conf.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append(words[1])
    return found


def _held_elsewhere(ip: str) -> bool:
    """Whether `ip` is already local on this host (another agent's cluster DNS): binding to an
    address the host does not have fails with EADDRNOTAVAIL."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, 0))
        except OSError as exc:
            return exc.errno != errno.EADDRNOTAVAIL
    return True


def ensure_dns_service(store: Store, now: datetime, preferred: str = CLUSTER_DNS_IP) -> str:
    """The cluster DNS address, published as kubeadm publishes it: the `kube-system/kube-dns`
    Service (ports dns 53/UDP, dns-tcp 53/TCP; no selector, the agent answers). It is made on
    the first start with 10.96.0.10, or with an allocated IP when another agent on this host
    already serves 10.96.0.10, and kept after that."""
    try:
        found = store.get("Service", "kube-system", "kube-dns")
        return str(found["spec"]["clusterIP"])
    except NotFound:
        pass
    spec: dict[str, Any] = {
        "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
        ]
    }
    if not _held_elsewhere(preferred):
        spec["clusterIP"] = preferred
    body = {
        "metadata": {
            "name": "kube-dns",
            "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"},
        },
        "spec": spec,
    }
    strategy = SERVICE_STRATEGY.bound(lambda: store.list("Service", None)[0])
    svc, _ = strategy.create(body, "kube-system", now)
    return str(store.create("Service", svc)["spec"]["clusterIP"])


class DnsServer:
    """Serves the cluster domain on `address`; see the module docstring."""

    def __init__(
        self,
        store: Store,
        host: str = CLUSTER_DNS_IP,
        port: int = 53,
        upstreams: Callable[[], list[str]] = host_nameservers,
    ) -> None:
        self._store = store
        self.host, self.port = host, port
        self._upstreams = upstreams
        self._zone: Zone | None = None
        self.queries = 0

    def zone(self) -> Zone:
        if self._zone is None:
            services, _ = self._store.list("Service", None)
            slices, _ = self._store.list("EndpointSlice", None)
            self._zone = build_zone(services, slices)
        return self._zone

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        udp = await anyio.create_udp_socket(local_host=self.host, local_port=self.port)
        self.port = udp.extra(SocketAttribute.local_port)  # port 0: TCP takes UDP's number
        tcp = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        # One reply is sent at a time: anyio's UDP socket refuses a second sender while the
        # first waits (BusyResourceError), and a resolver asks for A and AAAA at once.
        sending = anyio.Lock()
        async with udp, tcp, anyio.create_task_group() as tg:
            for kind in ("Service", "EndpointSlice"):
                tg.start_soon(self._follow, self._store.watch(kind, None, None))
            tg.start_soon(tcp.serve, self._tcp)
            task_status.started()
            async for data, (client, client_port) in udp:
                tg.start_soon(self._udp_reply, udp, sending, data, client, client_port)

    async def _follow(self, watcher: Any) -> None:
        async with watcher:
            async for _event in watcher:
                self._zone = None

    async def answer(self, data: bytes, tcp: bool = False) -> bytes | None:
        """The reply to one query message; None for a message that is not a query."""
        self.queries += 1
        try:
            query = DNSRecord.parse(data)
        except DNSError:
            return None
        reply = lookup(self.zone(), query)
        if reply is not None:
            return bytes(reply.pack())
        forwarded = await self._forward(data, tcp)
        if forwarded is not None:
            return forwarded
        failed = query.reply()
        failed.header.rcode = 2  # SERVFAIL
        return bytes(failed.pack())

    async def _forward(self, data: bytes, tcp: bool) -> bytes | None:
        for upstream in self._upstreams():
            try:
                with anyio.fail_after(_FORWARD_TIMEOUT):
                    if tcp:
                        async with await anyio.connect_tcp(upstream, 53) as stream:
                            await stream.send(len(data).to_bytes(2, "big") + data)
                            return await _read_message(stream)
                    async with await anyio.create_connected_udp_socket(upstream, 53) as sock:
                        await sock.send(data)
                        return bytes(await sock.receive())
            except (OSError, TimeoutError, anyio.EndOfStream) as exc:
                log.debug("forwarding to %s: %s", upstream, exc)
        return None

    async def _udp_reply(
        self, udp: Any, sending: anyio.Lock, data: bytes, client: str, port: int
    ) -> None:
        reply = await self.answer(data)
        if reply is None:
            return
        async with sending:
            try:
                await udp.sendto(reply, client, port)
            except OSError as exc:  # the client went away: its loss, not the server's
                log.debug("reply to %s:%d: %s", client, port, exc)

    async def _tcp(self, stream: SocketStream) -> None:
        async with stream:
            try:
                while True:
                    data = await _read_message(stream)
                    reply = await self.answer(data, tcp=True)
                    if reply is None:
                        return
                    await stream.send(len(reply).to_bytes(2, "big") + reply)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                return


async def _read_message(stream: SocketStream) -> bytes:
    """One length-prefixed DNS message from a TCP stream."""
    buffer = b""
    while len(buffer) < 2:
        buffer += await stream.receive()
    size = int.from_bytes(buffer[:2], "big")
    while len(buffer) < 2 + size:
        buffer += await stream.receive()
    return buffer[2 : 2 + size]
