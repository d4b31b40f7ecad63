"""The node's service proxy: kube-proxy's job, done by listeners in the agent.

    watch Services, EndpointSlices ─▶ desired listeners (proxy_rules.py, pure)
                                      ├─ cluster IPs on the agent's TUN device (tun.py)
                                      └─ one TCP listener per (clusterIP|node-port address, port)
                                         with usable endpoints; each new connection goes to the next
                                         endpoint in turn (or the client's, with ClientIP
                                         affinity) and the bytes are relayed both ways

NodePorts listen on 127.0.0.1 unless the agent was given `--nodeport-addresses` (nodeports.py:
CIDRs of the host's addresses, or `primary`, the node's InternalIP). A port without usable
endpoints has no listener, so a new connection is refused at once, as
kube-proxy's REJECT rule refuses it. A readiness change reaches the listeners as soon as the
endpoint-slice controller writes the slice. Connections already made keep running (as
conntrack keeps them) until either side closes.

Why listeners and not iptables DNAT rules: everything the proxy makes (addresses, sockets) dies
with the agent's process, so a SIGKILLed agent leaves nothing on the host, which kernel rules
cannot promise; `127.0.0.1:NODEPORT` needs no `route_localnet`; and several agents can share
one host without touching each other's chains. The cost is a user-space copy per byte
(bench/services.py measures it against the pod IP).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import SocketStream, TaskStatus

from minikubelet.clock import Clock
from minikubelet.services.nodeports import REFRESH, NodePortAddresses, host_addresses
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
    ) -> None:
        self._store = store
        self._clock = clock
        self._addresses = addresses
        self._node_ports = node_ports or NodePortAddresses()
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
                if self._node_ports.primary:
                    kinds.append("Node")  # its InternalIP may come or change
                for kind in kinds:
                    tg.start_soon(self._follow, self._store.watch(kind, None, None))
                if self._node_ports.cidrs:
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

    def _node_port_hosts(self) -> tuple[str, ...]:
        node = None
        if self._node_ports.primary:
            nodes, _ = self._store.list("Node", None)
            node = nodes[0] if nodes else None
        return self._node_ports.select(self._interfaces, node)

    def _sync(self, tg: anyio.abc.TaskGroup) -> None:
        services, _ = self._store.list("Service", None)
        slices, _ = self._store.list("EndpointSlice", None)
        self._hosts = self._node_port_hosts()
        ips = cluster_ips(services)
        for ip in sorted(ips - self._owned):
            try:
                self._addresses.add(ip)
                self._owned.add(ip)
            except OSError as exc:
                log.warning("cannot own cluster IP %s: %s", ip, exc)
        wanted = desired_listeners(services, slices, self._hosts)
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
