"""Bench: `exec -- true` latency and port-forward throughput (issue 17).

exec: wall time from spawn to exit of `minikubelet exec POD -- true` (the agent's UNIX socket,
WebSocket v5), `kubectl exec POD -- true` (HTTPS, WebSocket v5) and `docker exec CID true` on the
same container, in an order rotated every round; p50 and p99. Goal: within 1.5x of docker exec.
In the same rotation, what no node can take away: `kubectl version --client` (kubectl's own
start, no request) and the engine's part of an exec (create, start to the output's end and the
exit code through the SDK from this process, no client started); their sum is printed as
kubectl exec's floor on this machine.

port-forward: 256 MiB downloads and 1,000 small HTTP requests (one connection each) through
`kubectl port-forward` (the WebSocket tunnel) and `minikubelet port-forward`, against the pod IP
directly (the pods' bridge on this machine). Both forwarders run for the whole phase and the
three targets take turns: `--downloads` rounds of one download each, then the requests in
blocks of 50, the order rotated every round, so all three see the same load; the figures are
medians (throughput) and percentiles over all requests. Goal: at least half the direct
throughput. Each download also reads the CPU time of every process its bytes go through (the
pod's server, the forwarder, the agent; and this process, the client), per MiB, and the
kernel's part of it: on a machine whose cores the direct path already fills, a forwarder's own
CPU per MiB bounds the ratio, printed as what an agent that cost nothing would reach at best
(all cores busy with the other processes' CPU per MiB), and as the CPU per MiB the goal leaves
the agent.

The agent runs once (`daemon start --listen 127.0.0.1:PORT`) in a temporary MINIKUBELET_HOME;
the pod serves a file of zeros with Python's http.server; everything is removed at the end.

    python bench/streams.py [--rounds 50] [--mib 256] [--downloads 3] [--requests 1000]
                            [--only exec|port-forward] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from cli import BenchError, kubectl_version, machine, minikubelet_cli, run, timed
from kubectl import _direct_kubectl, listening_agent

TICKS = os.sysconf("SC_CLK_TCK")
RUNC_ROOT = Path("/run/docker/runtime-runc/moby")  # dockerd's runc state, namespace "moby"

POD = """apiVersion: v1
kind: Pod
metadata: {name: bench-streams}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: minikubelet/debian-base:bookworm
    command: [sh, -c, "head -c %d /dev/zero > /tmp/big && cd /tmp && exec python3 -m %s 8080"]
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _download(host: str, port: int, path: str) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        size = 0
        while chunk := answer.read(1 << 20):
            size += len(chunk)
        return size
    finally:
        conn.close()


def _wait_serving(host: str, port: int, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _download(host, port, "/") > 0:
                return
        time.sleep(0.3)
    raise BenchError(f"nothing serves on {host}:{port}")


@contextlib.contextmanager
def _forwarding(cmd: list[str], env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """A forwarder running: (its local port, its process id)."""
    local = _free_port()
    process = subprocess.Popen(
        [*cmd, f"{local}:8080"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_serving("127.0.0.1", local)
        yield local, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def _rotated(names: list[str], index: int) -> list[str]:
    return names[index % len(names) :] + names[: index % len(names)]


def _cpu(pid: int | None) -> tuple[float, float]:
    """CPU seconds (all threads) of process `pid` so far, or of this one: in user space and in
    the kernel."""
    if pid is None:
        mine = os.times()
        return mine.user, mine.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def _port_forward(
    targets: dict[str, tuple[str, int]],
    mib: int,
    downloads: int,
    requests: int,
    processes: dict[str, dict[str, int]],
) -> dict[str, dict[str, Any]]:
    """Downloads, then requests in blocks, the targets taking turns (module docstring).
    `processes` names, per target, the processes the bytes go through (besides this one, the
    client); their CPU per MiB downloaded is reported with the client's, and the kernel's part
    of it."""
    names = list(targets)
    rates: dict[str, list[float]] = {name: [] for name in names}
    latencies: dict[str, list[float]] = {name: [] for name in names}
    pids: dict[str, dict[str, int | None]] = {
        name: {"client": None, **processes[name]} for name in names
    }
    cpu = {name: dict.fromkeys(pids[name], 0.0) for name in names}
    kernel = {name: dict.fromkeys(pids[name], 0.0) for name in names}
    for index in range(downloads):
        for name in _rotated(names, index):
            before = {who: _cpu(pid) for who, pid in pids[name].items()}
            started = time.perf_counter()
            try:
                size = _download(*targets[name], "/big")
            except OSError as exc:
                raise BenchError(f"{name}: {exc}") from None
            took = time.perf_counter() - started
            for who, pid in pids[name].items():
                user, system = _cpu(pid)
                cpu[name][who] += user + system - sum(before[who])
                kernel[name][who] += system - before[who][1]
            if size != mib << 20:
                raise BenchError(f"{name}: downloaded {size} bytes, expected {mib << 20}")
            rates[name].append(mib / took)
    block = 50
    for index in range((requests + block - 1) // block):
        count = min(block, requests - index * block)
        for name in _rotated(names, index):
            for _ in range(count):
                t0 = time.perf_counter()
                _download(*targets[name], "/")
                latencies[name].append(time.perf_counter() - t0)
    return {
        name: {
            "mib_per_s": statistics.median(rates[name]),
            "request_p50_ms": statistics.median(latencies[name]) * 1000,
            "request_p99_ms": _percentile(latencies[name], 0.99) * 1000,
            "cpu_ms_per_mib": {
                who: seconds * 1000 / (mib * downloads) for who, seconds in cpu[name].items()
            },
            "kernel_ms_per_mib": {
                who: seconds * 1000 / (mib * downloads) for who, seconds in kernel[name].items()
            },
        }
        for name in names
    }


def _engine_exec(client: Any, cid: str) -> float:
    """Seconds of the engine's own part of `exec -- true`, with no client to start: create,
    start (to the output's end) and the exit code, from this process through the SDK."""
    started = time.perf_counter()
    exec_id = client.api.exec_create(cid, ["true"])["Id"]
    client.api.exec_start(exec_id)
    if client.api.exec_inspect(exec_id)["ExitCode"] != 0:
        raise BenchError("the engine's exec of `true` did not exit 0")
    return time.perf_counter() - started


def _node_exec(helper: Any, plan: dict[str, Any]) -> float:
    """Seconds of the node's own exec (`runtime/_direct`: what the agent now does for an exec
    instead of asking the engine), from this process: start `true`, read to its exit code."""

    async def once() -> float:
        started = time.perf_counter()  # inside the loop: its own set-up is not the exec's
        session = await helper.start(plan, stdin=False)
        if session is None:
            raise BenchError("the node's exec could not enter the container")
        try:
            while await session.read() is not None:
                pass
            if await session.wait() != 0:
                raise BenchError("the node's exec of `true` did not exit 0")
        finally:
            await session.aclose()
        return time.perf_counter() - started

    return anyio.run(once)


def _exec(cli: str, cid: str, env: dict[str, str], rounds: int) -> dict[str, Any]:
    """Every client rotated every round. Beside the three execs, what they cannot go below:
    `kubectl version --client` (kubectl's own start, no request) and the engine's part of an
    exec; their sum is kubectl exec's floor on this machine, whatever the node does. And where
    Docker's runc keeps the container's state here, the OCI runtime's own `runc exec` with no
    engine at all. And the node's own exec, which the agent uses where it reproduces runc's
    (`runtime/_direct`), from this process: kubectl's start plus that is kubectl exec's floor
    through this node."""
    import docker

    from minikubelet.runtime._direct import Helper, target_of, with_command

    client = docker.from_env()
    pid = int(client.api.inspect_container(cid)["State"]["Pid"])
    helper = Helper()
    plan = with_command(target_of(pid).plan, ["true"], tty=False)
    commands = {
        "docker exec": ["docker", "exec", cid, "true"],
        "minikubelet exec": [cli, "exec", "bench-streams", "--", "true"],
        "kubectl exec": [_direct_kubectl(), "exec", "bench-streams", "--", "true"],
        "kubectl version --client": [_direct_kubectl(), "version", "--client"],
        "engine's part": [],
        "node's part (no engine)": [],
    }
    if (RUNC_ROOT / cid / "state.json").exists() and shutil.which("runc"):
        commands["runc exec, no engine"] = ["runc", "--root", str(RUNC_ROOT), "exec", cid, "true"]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    try:
        for index in range(rounds + 2):
            for name in _rotated(order, index):
                cmd = commands[name]
                if cmd:
                    took = timed(cmd, env)
                elif name == "engine's part":
                    took = _engine_exec(client, cid)
                else:
                    took = _node_exec(helper, plan)
                if index >= 2:  # two warm-up rounds
                    samples[name].append(took)
    finally:
        client.close()
        helper.close()
    return {
        name: {
            "p50_ms": statistics.median(v) * 1000,
            "p99_ms": _percentile(v, 0.99) * 1000,
            "ratio_p50_to_docker": statistics.median(v) / statistics.median(samples[order[0]]),
            "ratio_p99_to_docker": _percentile(v, 0.99) / _percentile(samples[order[0]], 0.99),
        }
        for name, v in samples.items()
    }


def bench(rounds: int, mib: int, downloads: int, requests: int, only: str) -> dict[str, Any]:
    cli = minikubelet_cli()
    load = [os.getloadavg()[0]]
    exec_results: dict[str, Any] = {}
    forward: dict[str, Any] = {}
    with listening_agent(cli) as (env, home):
        (home / "pod.yaml").write_text(POD % (mib << 20, "http.server"))
        run([cli, "apply", "-f", str(home / "pod.yaml")], env)
        run([cli, "wait", "--for=condition=Ready", "pod/bench-streams", "--timeout=120s"], env)
        pod = json.loads(run([cli, "get", "pod", "bench-streams", "-o", "json"], env))
        cid = pod["status"]["containerStatuses"][0]["containerID"].split("://")[-1]
        ip = pod["status"]["podIP"]
        _wait_serving(ip, 8080)
        if only != "port-forward":
            exec_results = _exec(cli, cid, env, rounds)
        if only != "exec":
            kubectl = [_direct_kubectl(), "port-forward", "pod/bench-streams"]
            server = int(run(["docker", "inspect", "-f", "{{.State.Pid}}", cid], env).strip())
            agent = int((home / "agent.pid").read_text().split()[0])
            with (
                _forwarding(kubectl, env) as (via_kubectl, kubectl_pid),
                _forwarding([cli, "port-forward", "bench-streams"], env) as (via_cli, cli_pid),
            ):
                targets = {
                    "direct (pod IP)": (ip, 8080),
                    "kubectl port-forward": ("127.0.0.1", via_kubectl),
                    "minikubelet port-forward": ("127.0.0.1", via_cli),
                }
                processes = {
                    "direct (pod IP)": {"server": server},
                    "kubectl port-forward": {
                        "server": server,
                        "kubectl": kubectl_pid,
                        "agent": agent,
                    },
                    "minikubelet port-forward": {
                        "server": server,
                        "minikubelet": cli_pid,
                        "agent": agent,
                    },
                }
                forward = _port_forward(targets, mib, downloads, requests, processes)
    load.append(os.getloadavg()[0])
    return {
        "bench": "streams",
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "machine": machine(),
        "load_average": load,
        "kubectl": kubectl_version(),
        "exec_rounds": rounds,
        "exec": exec_results,
        "port_forward_mib": mib,
        "port_forward_downloads": downloads,
        "port_forward_requests": requests,
        "port_forward": forward,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--downloads", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--only", choices=["exec", "port-forward"], default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        result = bench(args.rounds, args.mib, args.downloads, args.requests, args.only)
    except BenchError as err:
        print(f"bench/streams.py: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    load = "-".join(f"{x:.1f}" for x in result["load_average"])
    print(f"{result['date']}, {result['machine']}, load average {load}")
    if result["exec"]:
        print(f"exec -- true, {args.rounds} rounds:")
    for name, r in result["exec"].items():
        print(
            f"  {name:<24} p50 {r['p50_ms']:6.0f} ms  p99 {r['p99_ms']:6.0f} ms"
            f"  ({r['ratio_p50_to_docker']:.2f}x / {r['ratio_p99_to_docker']:.2f}x docker exec)"
        )
    if result["exec"]:
        e = result["exec"]
        for title, exec_part in [
            ("kubectl exec's floor (kubectl's start + the engine's part)", "engine's part"),
            ("... with no engine (kubectl's start + runc exec)", "runc exec, no engine"),
            (
                "... through this node (kubectl's start + the node's part)",
                "node's part (no engine)",
            ),
        ]:
            if exec_part in e:
                floor = e["kubectl version --client"]["p50_ms"] + e[exec_part]["p50_ms"]
                print(
                    f"  {title}: {floor:.0f} ms,"
                    f" {floor / e['docker exec']['p50_ms']:.2f}x docker exec"
                )
    if result["port_forward"]:
        print(
            f"port-forward, {args.mib} MiB x {args.downloads} and {args.requests} requests,"
            " interleaved:"
        )
        direct = result["port_forward"]["direct (pod IP)"]["mib_per_s"]
    for name, r in result["port_forward"].items():
        print(
            f"  {name:<26} {r['mib_per_s']:7.1f} MiB/s ({r['mib_per_s'] / direct:.2f}x direct)"
            f"  request p50 {r['request_p50_ms']:.1f} ms p99 {r['request_p99_ms']:.1f} ms"
        )
        spent = ", ".join(
            f"{who} {ms:.2f} ({r['kernel_ms_per_mib'][who]:.2f})"
            for who, ms in r["cpu_ms_per_mib"].items()
        )
        print(
            f"    CPU ms per MiB (the kernel's part): {spent};"
            f" all {sum(r['cpu_ms_per_mib'].values()):.2f}"
        )
        others = sum(ms for who, ms in r["cpu_ms_per_mib"].items() if who != "agent")
        if "agent" in r["cpu_ms_per_mib"] and others > 0:
            # Every core busy with the other processes only: what an agent costing nothing
            # would reach, at best; and what the goal leaves the agent.
            cores_ms = (os.cpu_count() or 1) * 1000
            bound = cores_ms / others / direct
            print(f"    with an agent costing nothing: at most {bound:.2f}x direct")
            print(
                f"    at 0.5x direct, the agent may cost {cores_ms / (0.5 * direct) - others:.2f}"
                f" ms per MiB (this one: {r['cpu_ms_per_mib']['agent']:.2f},"
                f" the kernel's part {r['kernel_ms_per_mib']['agent']:.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
