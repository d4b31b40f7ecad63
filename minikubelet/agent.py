"""The node agent: one process, one task group holding the API server and the node.

    run_agent(config)
      ├─ Store.open(state.db)                 the only state
      ├─ DockerRuntime(instance id)           the only way to containers
      ├─ Node.run                             pod workers and their probers, probe history,
      │                                       runtime events, housekeeping
      ├─ EndpointsController.run              Endpoints and EndpointSlices from pods' readiness
      ├─ ServiceProxy.run                     cluster IPs on a TUN device, DNAT rules (nftables)
      │                                       or listeners to ready pods
      ├─ DnsServer.run                        cluster DNS on 10.96.0.10, other names forwarded
      ├─ uvicorn on the UNIX socket (0600)    the Kubernetes-shaped API
      └─ uvicorn on HTTPS (--listen)          the same API for kubectl, behind a bearer token

SIGTERM or SIGINT stops serving and returns; containers keep running for the next agent.
`minikubelet daemon run` execs `python -m minikubelet.agent` (`main` below), so the CLI never
imports the agent.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import secrets
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import anyio
import uvicorn
from anyio.abc import TaskGroup, TaskStatus

from minikubelet.api.sysctls import unsafe_sysctl_patterns
from minikubelet.clock import Clock, RealClock
from minikubelet.errors import MinikubeletError, report_error
from minikubelet.node.manager import Node, NodeConfig, node_name_default
from minikubelet.paths import StatePaths
from minikubelet.runtime.types import Runtime
from minikubelet.server import ApiDeps, create_app
from minikubelet.server.auth import TokenAuth
from minikubelet.server.dashboard import DashboardListener
from minikubelet.server.deps import Listener
from minikubelet.server.streams.upgrade import UpgradingH11Protocol
from minikubelet.services.proxy_rules import PROXY_MODES
from minikubelet.services.tun import AddressSpace, NoAddresses, TunAddresses, device_name
from minikubelet.store import Store

if TYPE_CHECKING:
    from minikubelet.services.controller import EndpointsController
    from minikubelet.services.dns_server import DnsServer
    from minikubelet.services.kernel import KernelRoutes
    from minikubelet.services.proxy import ServiceProxy

__all__ = ["AgentConfig", "main", "run_agent", "serve"]

log = logging.getLogger("minikubelet.agent")


@dataclass(frozen=True)
class AgentConfig:
    paths: StatePaths
    node_name: str | None = None
    listen: str | None = None  # HOST:PORT for the HTTPS listener, none by default
    sandbox_pool: int = 2  # warm sandboxes kept ready for new pods; 0 turns them off
    nodeport_addresses: str = ""  # kube-proxy's --nodeport-addresses; empty: 127.0.0.1 only
    proxy_mode: str = "nftables"  # kube-proxy's --proxy-mode: nftables, or userspace listeners
    allowed_unsafe_sysctls: tuple[str, ...] = ()  # the kubelet's --allowed-unsafe-sysctls


def instance_id(paths: StatePaths) -> str:
    """This agent's id, kept in its state dir: it labels every container and network it makes."""
    try:
        return paths.instance.read_text().strip()
    except FileNotFoundError:
        ident = secrets.token_hex(4)
        paths.instance.write_text(ident + "\n")
        return ident


def _bind(path: str) -> socket.socket:
    """The API socket, mode 0600 from the start (uvicorn's own binding would make it 0666)."""
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the agent owns SIGTERM/SIGINT."""

    def install_signal_handlers(self) -> None:  # older uvicorn
        return

    def capture_signals(self):  # type: ignore[no-untyped-def]
        import contextlib

        return contextlib.nullcontext()


DELETIONS_LIMIT = 45.0  # seconds; `daemon stop` waits 60 for the agent to exit


async def serve(config: AgentConfig, runtime: Runtime, clock: Clock) -> None:
    """Run the agent until cancelled or signalled."""
    paths = config.paths
    paths.ensure()
    store = Store.open(paths.database, clock, durable_commits=False)  # group commit: barrier.py
    # Imported once the store opened: an agent that cannot start exits without paying for them.
    from minikubelet.services.controller import EndpointsController
    from minikubelet.services.dns_server import DnsServer, ensure_dns_service
    from minikubelet.services.nodeports import NodePortAddresses
    from minikubelet.services.proxy import ServiceProxy

    addresses = _cluster_addresses(paths)
    kernel = _service_routes(paths, config.proxy_mode)
    try:
        node = Node(
            store,
            runtime,
            clock,
            NodeConfig(
                name=config.node_name or node_name_default(),
                pods_dir=paths.pods,
                cluster_dns=ensure_dns_service(store, clock.utcnow()),
                sandbox_pool=config.sandbox_pool,
                allowed_unsafe_sysctls=config.allowed_unsafe_sysctls,
            ),
        )
        deps = ApiDeps(
            store=store, clock=clock, node_name=node.name, logs=node, streams=node, probes=node
        )
        dashboard = DashboardListener()  # the live view: loopback, a free port, a token
        deps.dashboard_url = dashboard.url
        https = _https(config, deps, clock) if config.listen else None
        app = create_app(deps)
        server = _Server(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                http=UpgradingH11Protocol,
                ws="none",  # upgrades go to the app (UpgradingH11Protocol): no wsproto import
            )
        )
        sock = _bind(str(paths.socket))
        endpoints = EndpointsController(store, clock)
        node_ports = NodePortAddresses.parse(config.nodeport_addresses)
        proxy = ServiceProxy(store, clock, addresses, node_ports, kernel)
        deps.started = False  # /healthz: 503 until the node and the services are up
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as tg:
                # The API first: a CLI that started this agent sends its request (a cold
                # `apply`) while the node connects to the engine and the services start.
                tg.start_soon(server.serve, [sock])
                tg.start_soon(dashboard.serve, deps)
                if https is not None:
                    tg.start_soon(https[0].serve, [https[1]])
                dns = DnsServer(store, node.config.cluster_dns)
                tg.start_soon(_start, tg, deps, node, (endpoints, proxy), dns, addresses)
                async for _ in signals:
                    break
                # Pods keep running across a stop, but one deleted just before must not be
                # left running with no agent to remove it: let those deletions end (grace
                # periods included), within what `daemon stop` waits for.
                await node.finish_deletions(DELETIONS_LIMIT)
                server.should_exit = True
                if https is not None:
                    https[0].should_exit = True
                tg.cancel_scope.cancel()
    finally:
        if kernel is not None:
            kernel.close()
        addresses.close()
        store.close()
        for leftover in (paths.pid, paths.socket):
            leftover.unlink(missing_ok=True)


async def _start(
    tg: TaskGroup,
    deps: ApiDeps,
    node: Node,
    services: tuple[EndpointsController, ServiceProxy],
    dns: DnsServer,
    addresses: AddressSpace,
) -> None:
    """The node (engine connection, registration, pod workers), then the services, in `tg`;
    /healthz says 200 from then on."""
    await tg.start(node.run)
    for service in services:
        await tg.start(service.run)
    await tg.start(_cluster_dns, dns, addresses)
    deps.started = True


def _cluster_addresses(paths: StatePaths) -> AddressSpace:
    """The TUN device holding the cluster IPs (gone with this process), or none where TUN
    cannot be had: then ClusterIPs are not reachable and NodePorts still are."""
    try:
        return TunAddresses(device_name(instance_id(paths)))
    except OSError as exc:
        log.warning("no TUN device for cluster IPs (%s); ClusterIPs will not answer", exc)
        return NoAddresses()


def _service_routes(paths: StatePaths, mode: str) -> KernelRoutes | None:
    """The agent's nftables table for the service routes (gone with this process), or none:
    `--proxy-mode userspace`, or where libnftables or the kernel refuses (then the agent's
    listeners carry the traffic)."""
    if mode != "nftables":
        return None
    from minikubelet.services.kernel import KernelRoutes

    try:
        return KernelRoutes.open(instance_id(paths))
    except OSError as exc:
        log.warning("no nftables for service routes (%s); the agent relays Service traffic", exc)
        return None


async def _cluster_dns(
    dns: DnsServer, addresses: AddressSpace, *, task_status: TaskStatus[None]
) -> None:
    """Cluster DNS on its IP; a node where the address or port cannot be had (another agent on
    this host serves it) runs without, and says so."""
    try:
        addresses.add(dns.host)
        await dns.run(task_status=task_status)
    except OSError as exc:  # raised while binding, before `started`
        log.warning("cluster DNS is not served on %s:%d: %s", dns.host, dns.port, exc)
        task_status.started()


def _https(
    config: AgentConfig, deps: ApiDeps, clock: Clock
) -> tuple[uvicorn.Server, socket.socket]:
    """The HTTPS listener: credentials made or reused, the port bound now (so a taken port
    fails the start with a clear message), the API behind the bearer token. It also sets
    `deps.listener`, which the socket's kubeconfig endpoint hands out."""
    from minikubelet.server.tls import (
        client_cipher_order,
        ensure_credentials,
        parse_listen,
        server_url,
    )

    host, port = parse_listen(config.listen or "")
    creds = ensure_credentials(config.paths.home, host, clock.utcnow())
    deps.listener = Listener(server_url(host, port), creds.ca_pem, creds.token)
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise SystemExit(f"error: cannot listen on {config.listen}: {exc.strerror}") from exc
    app = TokenAuth(create_app(deps), creds.token)
    server = _Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            http=UpgradingH11Protocol,
            ws="none",
            ssl_certfile=str(creds.cert_file),
            ssl_keyfile=str(creds.key_file),
            ssl_context_factory=client_cipher_order,
        )
    )
    log.info("serving the API on %s", deps.listener.server)
    return server, sock


def _lock(paths: StatePaths) -> IO[str]:
    """One agent per state dir: an exclusive lock held for the agent's life, and its pid."""
    handle = open(paths.home / "agent.lock", "a+")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise MinikubeletError(
            f"another node agent is already running with the state dir {paths.home}"
        ) from None
    paths.pid.write_text(f"{os.getpid()}\n")
    return handle


def run_agent(config: AgentConfig) -> int:
    """`minikubelet daemon run`: the agent in the foreground; 0 on a clean stop."""
    from minikubelet.runtime.docker import DockerRuntime

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config.paths.ensure()
    lock = _lock(config.paths)
    runtime = DockerRuntime(instance_id(config.paths))

    async def main() -> None:
        try:
            await serve(config, runtime, RealClock())
        finally:
            with anyio.CancelScope(shield=True):
                await runtime.close()

    try:
        anyio.run(main)
    finally:
        config.paths.pid.unlink(missing_ok=True)
        lock.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m minikubelet.agent [--node-name N] [--listen HOST:PORT]`, which `minikubelet
    daemon run` execs: errors in kubectl's words and exit 1, never a traceback."""
    parser = argparse.ArgumentParser(prog="minikubelet daemon run")
    parser.add_argument("--node-name")
    parser.add_argument("--listen")
    parser.add_argument("--sandbox-pool", type=int, default=AgentConfig.sandbox_pool)
    parser.add_argument("--nodeport-addresses", default="")
    parser.add_argument("--proxy-mode", choices=PROXY_MODES, default=AgentConfig.proxy_mode)
    parser.add_argument("--allowed-unsafe-sysctls", default="")
    args = parser.parse_args(argv)
    from minikubelet.services.nodeports import NodePortAddresses

    try:
        NodePortAddresses.parse(args.nodeport_addresses)  # refused before anything starts
        unsafe_sysctls = unsafe_sysctl_patterns(args.allowed_unsafe_sysctls)
    except MinikubeletError as err:
        return report_error(err)
    config = AgentConfig(
        StatePaths.from_env(),
        node_name=args.node_name,
        listen=args.listen,
        sandbox_pool=max(0, args.sandbox_pool),
        nodeport_addresses=args.nodeport_addresses,
        proxy_mode=args.proxy_mode,
        allowed_unsafe_sysctls=unsafe_sysctls,
    )
    try:
        return run_agent(config)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last line of defence: a bug must not print a traceback
        return report_error(err)


if __name__ == "__main__":
    raise SystemExit(main())
