"""`minikubelet daemon run|start|stop|status`: the node agent by hand.

`run` stays in the foreground (for a terminal or a service manager): it execs the agent
(`python -P -m minikubelet.agent`, same pid, same signals), so the CLI never imports it; `start`
detaches `daemon run` with its output in the state dir; `stop` sends SIGTERM and waits. The
agent stops serving and exits; containers keep running and the next agent adopts them, as a
kubelet restart does.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from minikubelet.api.kinds import NODE, POD
from minikubelet.api.sysctls import unsafe_sysctl_patterns
from minikubelet.cli.client import AgentUnavailable, ApiClient, start_detached
from minikubelet.clock import poll
from minikubelet.paths import StatePaths
from minikubelet.services.nodeports import NodePortAddresses
from minikubelet.services.proxy_rules import PROXY_MODES

__all__ = ["add_arguments", "not_ready", "run"]

STOP_TIMEOUT = 60.0
DEFAULT_POOL = 2  # warm sandboxes (the agent's AgentConfig.sandbox_pool)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("run", "start", "stop", "status"))
    parser.add_argument("--node-name", help="the node's name (default: the hostname)")
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="also serve the API on HTTPS with a bearer token, for kubectl "
        "(a bare PORT listens on 127.0.0.1); see `minikubelet kubeconfig`",
    )
    parser.add_argument(
        "--sandbox-pool",
        type=int,
        default=DEFAULT_POOL,
        metavar="N",
        help="warm pod sandboxes kept ready, so a new pod's first container starts at once "
        "(0: none)",
    )
    parser.add_argument(
        "--nodeport-addresses",
        metavar="CIDR[,CIDR]|primary",
        help="where NodePorts listen, as kube-proxy's flag: the host's addresses in these CIDRs, "
        "or 'primary' (the node's InternalIP); default 127.0.0.1 only",
    )
    parser.add_argument(
        "--allowed-unsafe-sysctls",
        metavar="NAME[,PREFIX*]",
        help="sysctls pods may set beyond the safe set, as the kubelet's flag (e.g. "
        "'net.core.somaxconn,kernel.msg*'); each must be namespaced (net.*, kernel.shm*, "
        "kernel.msg*, kernel.sem, fs.mqueue.*)",
    )
    parser.add_argument(
        "--proxy-mode",
        choices=PROXY_MODES,
        help="how Service traffic reaches the pods, as kube-proxy's flag: 'nftables' (the "
        "default: DNAT rules in the node's own table) or 'userspace' (relayed by the node)",
    )


def _pid(paths: StatePaths) -> int | None:
    try:
        pid = int(paths.pid.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _options(args: argparse.Namespace) -> list[str]:
    """This command's options for the agent (the CLI's autostart passes none)."""
    passed = ("node_name", "listen", "nodeport_addresses", "proxy_mode", "allowed_unsafe_sysctls")
    options = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k in passed and v]
    if args.sandbox_pool != DEFAULT_POOL:
        options.append(f"--sandbox-pool={args.sandbox_pool}")
    return options


def _start(paths: StatePaths, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """`daemon run` detached, with this command's options."""
    return start_detached(paths, _options(args))


def _what_it_runs(client: ApiClient) -> str:
    """`3 pods, 4 containers running, on docker://20.10.24 (node vm, Ready)`."""
    pods = client.request("GET", POD.path()).get("items") or []
    running = sum(
        1
        for p in pods
        for key in ("initContainerStatuses", "containerStatuses")
        for s in (p.get("status") or {}).get(key) or []
        if "running" in (s.get("state") or {})
    )
    nodes = client.request("GET", NODE.path()).get("items") or [{}]
    node = nodes[0]
    engine = ((node.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion")
    ready = next(
        (c.get("status") for c in (node.get("status") or {}).get("conditions") or []
         if c.get("type") == "Ready"),
        None,
    )  # fmt: skip
    state = {"True": "Ready", "False": "NotReady"}.get(str(ready), "Unknown")
    name = (node.get("metadata") or {}).get("name", "?")
    return (
        f"{len(pods)} pods, {running} containers running, "
        f"on {engine or 'an engine not reached yet'} (node {name}, {state})"
    )


def not_ready(client: ApiClient) -> str | None:
    """Why the node is not Ready (its engine does not answer: pods wait for it), or None. The
    agent answers /healthz once its node has registered, whatever the engine said."""
    for node in client.request("GET", NODE.path()).get("items") or []:
        for condition in (node.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Ready" and condition.get("status") != "True":
                name = (node.get("metadata") or {}).get("name", "?")
                return f"node {name} is NotReady: {condition.get('message') or 'unknown'}"
    return None


def run(args: argparse.Namespace) -> int:
    paths = StatePaths.from_env()
    if args.action in ("run", "start"):
        NodePortAddresses.parse(args.nodeport_addresses)  # its error now, not in the log
        unsafe_sysctl_patterns(args.allowed_unsafe_sysctls)
    if args.action == "run":
        if args.sandbox_pool < 0:
            print("error: --sandbox-pool must be 0 or more", file=sys.stderr)
            return 1
        argv = [sys.executable, "-P", "-m", "minikubelet.agent", *_options(args)]
        os.execv(sys.executable, argv)  # returns only by raising OSError
    client = ApiClient(paths)
    try:
        if args.action == "status":
            pid = _pid(paths)
            if pid is not None and client.healthy():
                print(f"minikubelet node agent is running (pid {pid}, socket {paths.socket})")
                print(_what_it_runs(client))
                return 0
            print("minikubelet node agent is not running")
            return 3
        if args.action == "start":
            if client.healthy():
                print(f"minikubelet node agent is already running (socket {paths.socket})")
                return 0
            paths.ensure()
            process = _start(paths, args)
            poll(lambda: client.healthy() or process.poll() is not None, 30.0)
            if process.poll() is not None or not client.healthy():
                raise AgentUnavailable(f"the node agent did not start; see {paths.log}")
            print(f"minikubelet node agent started (pid {_pid(paths)}, log {paths.log})")
            if (problem := not_ready(client)) is not None:
                print(f"warning: {problem}; see {paths.log}", file=sys.stderr)
            return 0
        pid = _pid(paths)
        if pid is None:
            print("minikubelet node agent is not running")
            return 0
        os.kill(pid, signal.SIGTERM)
        if not poll(lambda: _pid(paths) is None, STOP_TIMEOUT):
            print(f"error: the node agent (pid {pid}) did not stop", file=sys.stderr)
            return 1
        print("minikubelet node agent stopped")
        return 0
    finally:
        client.close()
