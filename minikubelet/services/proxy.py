"""The node's service proxy: kube-proxy's job, in the kernel's NAT rules or in the agent.

    watch Services, EndpointSlices ─▶ desired routes (proxy_rules.py, pure)
                                      ├─ cluster IPs on the agent's TUN device (tun.py)
                                      ├─ DNAT rules in the agent's nftables table (kernel.py)
                                      └─ else one TCP listener per (address, port)
                                         with usable endpoints; each new connection goes to the next
                                         endpoint in turn (or the client's, with ClientIP
                                         affinity) and the bytes are relayed both ways

NodePorts listen on 127.0.0.1 unless the agent was given `--nodeport-addresses` (nodeports.py:
CIDRs of the host's addresses, or `primary`, the node's InternalIP). A port without usable
endpoints has no listener, so a new connection is refused at once, as
kube-proxy's REJECT rule refuses it. A readiness change reaches the listeners as soon as the
endpoint-slice controller writes the slice. Connections already made keep running (as
conntrack keeps them) until either side closes.

With a `KernelRoutes` (kernel.py, the default where libnftables and the kernel allow it), the
cluster IPs' ports and the 127.0.0.1 NodePorts are not listened on: they are DNAT rules in the
agent's own nftables table, as kube-proxy's nftables mode makes them, so the bytes never pass
through the agent. Listeners remain for NodePorts on other addresses (`--nodeport-addresses`:
on Docker's bridge, traffic from other hosts would meet Docker's FORWARD policy) and for
everything when the node runs without nftables (`--proxy-mode userspace`). Both die with the
agent's process: the table is owned by its netlink socket, the listeners are its sockets, so
a SIGKILLed agent leaves neither on the host.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import SocketStream, TaskStatus

from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.services.kernel import KernelRoutes
from minikubelet.services.nodeports import (
    LOOPBACK,
    REFRESH,
    NodePortAddresses,
    host_addresses,
    node_internal_ips,
)
from minikubelet.services.proxy_rules import Address, Backend, cluster_ips, desired_listeners
from minikubelet.services.tun import AddressSpace
from minikubelet.store import Store

__all__ = ["ServiceProxy"]

log = logging.getLogger("minikubelet.services")
_CONNECT_TIMEOUT = 2.0
_CHUNK = 65536
_BIND_ATTEMPTS = 50


class _Listener:
    """One listening socket and the backend it serves; the backend may change under it."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.scope = anyio.CancelScope()
        self.turn = itertools.count()
        self.affinity: dict[str, tuple[Address, float]] = {}


class ServiceProxy:
    """Keeps listeners and cluster IPs in line with the store; see the module docstring."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        addresses: AddressSpace,
        node_ports: NodePortAddresses | None = None,
        kernel: KernelRoutes | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._addresses = addresses
        self._node_ports = node_ports or NodePortAddresses()
        self._kernel = kernel
        self._hosts: tuple[str, ...] = ()  # where NodePorts listen now
        self._interfaces: list[tuple[str, str]] = []  # the host's addresses, last read
        self._owned: set[str] = set()
        self._listeners: dict[Address, _Listener] = {}
        self._wake = anyio.Event()
        self.on_change: Callable[[], None] = lambda: None
        self.connections = 0  # accepted connections (tests and the bench read it)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with anyio.create_task_group() as tg:
                kinds = ["Service", "EndpointSlice"]
                if self._node_ports.primary or self._kernel is not None:
                    kinds.append("Node")  # its InternalIP (the pod bridge) may come or change
                for kind in kinds:
                    tg.start_soon(self._follow, self._store.watch(kind, None, None))
                if self._node_ports.cidrs or self._kernel is not None:
                    self._interfaces = await anyio.to_thread.run_sync(host_addresses)
                    tg.start_soon(self._follow_host_addresses)
                self._sync(tg)
                task_status.started()
                while True:
                    await self._wake.wait()
                    self._wake = anyio.Event()
                    self._sync(tg)
        finally:
            for ip in list(self._owned):
                self._addresses.remove(ip)
            self._owned.clear()

    async def _follow(self, watcher: Any) -> None:
        async with watcher:
            async for _event in watcher:
                self._wake.set()

    async def _follow_host_addresses(self) -> None:
        """Read the host's addresses every few seconds; a change resyncs the listeners."""
        while True:
            await self._clock.sleep(REFRESH)
            found = await anyio.to_thread.run_sync(host_addresses)
            if found != self._interfaces:
                self._interfaces = found
                self._wake.set()

    def _node(self) -> JSON | None:
        """The Node object, read only where a sync needs it: `primary` NodePorts and the
        kernel's routes (its InternalIP, the pod bridge's address)."""
        if not self._node_ports.primary and self._kernel is None:
            return None
        nodes, _ = self._store.list("Node", None)
        return nodes[0] if nodes else None

    def _sync(self, tg: anyio.abc.TaskGroup) -> None:
        services, _ = self._store.list("Service", None)
        slices, _ = self._store.list("EndpointSlice", None)
        node = self._node()  # once per sync, for both its readers
        self._hosts = self._node_ports.select(self._interfaces, node)
        ips = cluster_ips(services)
        for ip in sorted(ips - self._owned):
            try:
                self._addresses.add(ip)
                self._owned.add(ip)
            except OSError as exc:
                log.warning("cannot own cluster IP %s: %s", ip, exc)
        wanted = desired_listeners(services, slices, self._hosts)
        if self._kernel is not None:
            wanted = self._route_in_kernel(self._kernel, wanted, node)
        for address in list(self._listeners):
            if address not in wanted:
                self._listeners.pop(address).scope.cancel()
        for address, backend in wanted.items():
            current = self._listeners.get(address)
            if current is not None:
                current.backend = backend
                continue
            if address[0] not in self._hosts and address[0] not in self._owned:
                continue
            listener = _Listener(backend)
            self._listeners[address] = listener
            tg.start_soon(self._serve, address, listener)
        for ip in sorted(self._owned - ips):
            self._addresses.remove(ip)
            self._owned.discard(ip)
        self.on_change()

    def _route_in_kernel(
        self, kernel: KernelRoutes, wanted: dict[Address, Backend], node: JSON | None
    ) -> dict[Address, Backend]:
        """Hand the cluster IPs' ports, and 127.0.0.1's NodePorts once the pod bridge (which
        holds the `node`'s InternalIP) allows them, to the kernel; what is left is for
        listeners."""
        bridge = ""
        for ip in node_internal_ips(node):
            bridge = kernel.bridge(ip, self._interfaces) or bridge
        routed = {
            address: backend
            for address, backend in wanted.items()
            if address[0] in self._owned or (bridge and address[0] in LOOPBACK)
        }
        try:
            kernel.apply(routed)
        except OSError as exc:
            log.warning("nftables refused the service routes, listening instead: %s", exc)
            try:
                kernel.apply({})  # no stale route in front of the listeners
            except OSError:
                pass
            return wanted
        return {address: backend for address, backend in wanted.items() if address not in routed}

    def listening(self) -> dict[Address, Backend]:
        return {address: listener.backend for address, listener in self._listeners.items()}

    async def _serve(self, address: Address, listener: _Listener) -> None:
        """Listen until cancelled; a port still held (a listener closing, another program) is
        retried for a few seconds, as the address may be on its way out."""
        with listener.scope:
            for attempt in range(_BIND_ATTEMPTS):
                try:
                    server = await anyio.create_tcp_listener(
                        local_host=address[0], local_port=address[1]
                    )
                    break
                except OSError as exc:
                    if attempt == _BIND_ATTEMPTS - 1:
                        log.warning("cannot listen on %s:%d: %s", *address, exc)
                        if self._listeners.get(address) is listener:
                            del self._listeners[address]
                        return
                    await self._clock.sleep(0.1)
            async with server:
                await server.serve(lambda client: self._relay(client, listener))

    def _order(self, listener: _Listener, client_ip: str) -> list[Address]:
        """The endpoints to try for a new connection: the client's own with affinity, else
        the next in turn, then the others."""
        endpoints = list(listener.backend.endpoints)
        if not endpoints:
            return []
        start = next(listener.turn) % len(endpoints)
        order = endpoints[start:] + endpoints[:start]
        timeout = listener.backend.affinity_seconds
        if timeout is not None:
            now = self._clock.monotonic()
            kept = listener.affinity.get(client_ip)
            if kept is not None and now - kept[1] <= timeout and kept[0] in endpoints:
                order.remove(kept[0])
                order.insert(0, kept[0])
        return order

    async def _relay(self, client: SocketStream, listener: _Listener) -> None:
        self.connections += 1
        async with client:
            client_ip = str(client.extra(anyio.abc.SocketAttribute.remote_address)[0])
            upstream: SocketStream | None = None
            for target in self._order(listener, client_ip):
                try:
                    with anyio.fail_after(_CONNECT_TIMEOUT):
                        upstream = await anyio.connect_tcp(*target)
                except (OSError, TimeoutError):
                    continue
                if listener.backend.affinity_seconds is not None:
                    listener.affinity[client_ip] = (target, self._clock.monotonic())
                break
            if upstream is None:
                return  # every endpoint refused: the client sees its connection closed
            async with upstream, anyio.create_task_group() as tg:
                tg.start_soon(_copy, client, upstream)
                tg.start_soon(_copy, upstream, client)


async def _copy(source: SocketStream, sink: SocketStream) -> None:
    try:
        while True:
            data = await source.receive(_CHUNK)
            await sink.send(data)
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    try:
        await sink.send_eof()
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
