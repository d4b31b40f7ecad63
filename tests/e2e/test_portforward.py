"""Port-forward against a live node to apps that listen only on 127.0.0.1 inside the pod: kubectl
1.32 (the WebSocket tunnel, and SPDY with KUBECTL_PORT_FORWARD_WEBSOCKETS=false), kubectl 1.29
(SPDY), the Python client (WebSocket channels) and `minikubelet port-forward`; several ports at
once, many connections per port, 8 MiB down and 8 MiB up and back through each forwarder, and
a closed port in kubectl's words.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from minikubelet.clock import poll
from tests.e2e.conftest import ROOT, Agent
from tests.e2e.pods import BASE, pod
from tests.e2e.test_exec import CLIENTS
from tests.e2e.test_kubectl import Node, listening_node

# The kubernetes client's stream()/portforward() leave TLS sockets to the garbage collector
# (its leak, not ours: the agent's own descriptors are counted by the tests), and a loaded
# machine can collect them during any later test of this module, not only in the test that
# used the client: their ResourceWarning is not this module's failure.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

# Two servers bound to the pod's loopback only: not reachable at the pod IP. Each serves /etc
# and 8 MiB of random bytes there, `/big` (many of the agent's 1 MiB frames), whose SHA-256 is
# `/big.sha256`.
SERVE = (
    "head -c 8388608 /dev/urandom > /etc/big"
    " && sha256sum /etc/big | cut -c1-64 > /etc/big.sha256"
    " && cd /etc && python3 -m http.server {port} --bind 127.0.0.1"
)


def _on_loopback(name: str, port: int, command: list[str]) -> dict[str, Any]:
    """A container running `command`, an app on 127.0.0.1:port, Ready once it listens (an exec
    probe: the kubelet's own probes go to the pod IP, where nothing listens)."""
    listening = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"
    return {
        "name": name,
        "image": BASE,
        "command": command,
        "readinessProbe": {"exec": {"command": ["python3", "-c", listening]}, "periodSeconds": 1},
    }


def _server(name: str, port: int) -> dict[str, Any]:
    """A container serving /etc on 127.0.0.1:port."""
    return _on_loopback(name, port, ["sh", "-c", SERVE.format(port=port)])


# An echo server on the pod's loopback: what goes up through a forwarder comes back down.
ECHO = """
import socket, threading
server = socket.create_server(("127.0.0.1", {port}))
def echo(conn):
    with conn:
        while data := conn.recv(1 << 16):
            conn.sendall(data)
while True:
    threading.Thread(target=echo, args=(server.accept()[0],), daemon=True).start()
"""


def _echo(name: str, port: int) -> dict[str, Any]:
    return _on_loopback(name, port, ["python3", "-c", ECHO.format(port=port)])


def _ready(agent: Agent, name: str) -> bool:
    conditions = agent.pod(name).get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A pod whose apps listen before any forwarding starts: a connection forwarded to a port
    that does not listen yet ends kubectl's whole session, by design."""
    with listening_node(tmp_path_factory.mktemp("portforward")) as running:
        running.agent.apply(pod("pf", _server("a", 8080), _server("b", 8081), _echo("c", 8082)))
        running.agent.wait_for(lambda: _ready(running.agent, "pf"), 60, "pf Ready")
        yield running


def _fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
        body: bytes = answer.read()
    return body


def _get(port: int, path: str = "/hostname") -> str:
    return _fetch(port, path).decode()


def _answers(port: int) -> bool:
    try:
        return _get(port) == "pf\n"
    except OSError:
        return False


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _forwarding(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.terminate()
    out, err = process.communicate(timeout=20)
    return out, err


def _echoed(port: int, payload: bytes) -> bytes:
    """`payload` sent to the echo server through the forwarder while its echo is read back."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(conn.sendall, payload)
            back = bytearray()
            while len(back) < len(payload) and (chunk := conn.recv(1 << 20)):
                back += chunk
            sent.result()
    return bytes(back)


def _check_forwarding(argv: list[str], env: dict[str, str]) -> None:
    one, two, three = _free_ports(3)
    process = _forwarding([*argv, f"{one}:8080", f"{two}:8081", f"{three}:8082"], env)
    try:
        assert poll(lambda: _answers(one) and _answers(two), 30, 0.2)
        with ThreadPoolExecutor(8) as pool:  # many connections per port, some at once
            got = list(pool.map(lambda i: _get(one if i % 2 else two), range(40)))
        assert got == ["pf\n"] * 40
        assert "Debian GNU/Linux 12" in _get(one, "/os-release")
        for port in (one, two):  # megabytes through many frames, byte for byte
            big = _fetch(port, "/big")
            assert len(big) == 8 << 20
            assert hashlib.sha256(big).hexdigest() + "\n" == _get(port, "/big.sha256")
        upload = os.urandom(8 << 20)  # up and back down at once, through frames both ways
        assert _echoed(three, upload) == upload
    finally:
        out, _ = _stop(process)
    assert f"Forwarding from 127.0.0.1:{one} -> 8080" in out
    assert f"Forwarding from 127.0.0.1:{two} -> 8081" in out
    assert f"Handling connection for {one}" in out


@pytest.mark.parametrize("client", ["1.32-tunnel", "1.32-spdy", "1.29-spdy"])
def test_kubectl_port_forward(node: Node, client: str) -> None:
    binary, _ = CLIENTS[client.replace("tunnel", "websocket")]
    extra = {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"} if client == "1.32-spdy" else {}
    _check_forwarding([binary, "port-forward", "pod/pf"], {**node.env, **extra})


def test_minikubelet_port_forward(node: Node) -> None:
    argv = [sys.executable, "-m", "minikubelet", "port-forward", "pf"]
    _check_forwarding(argv, node.env)


@pytest.mark.parametrize(
    "argv",
    [
        [CLIENTS["1.32-websocket"][0], "port-forward", "pf"],
        [CLIENTS["1.29-spdy"][0], "port-forward", "pf"],
        [sys.executable, "-m", "minikubelet", "port-forward", "pf"],
    ],
    ids=["kubectl-1.32", "kubectl-1.29", "minikubelet"],
)
def test_a_closed_port_loses_the_connection(node: Node, argv: list[str]) -> None:
    (local,) = _free_ports(1)
    process = _forwarding([*argv, f"{local}:9999"], node.env)
    try:
        assert poll(lambda: _connects(local), 30, 0.2)
        process.wait(timeout=30)
    finally:
        _, err = _stop(process)
    assert process.returncode == 1
    assert err.endswith("error: lost connection to pod\n")
    assert re.search(
        rf"an error occurred forwarding {local} -> 9999: error forwarding port 9999 to pod "
        r'[0-9a-f]{64}, uid : failed to connect to localhost:9999 inside namespace \\?"[0-9a-f]{64}'
        r'\\?", '
        r"IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused IPv6 ",
        err,
    ), err


def _connects(port: int) -> bool:
    """Whether the forwarder took a connection; it then forwards it and drops it, with an EOF
    or, when our request is still unread in its socket, a reset (kubectl 1.29 does either)."""
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return False  # not listening yet
    with conn, contextlib.suppress(OSError):
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        conn.recv(1)
    return True


# kubernetes 32's portforward() leaves sockets of its own for the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_python_clients_port_forward(node: Node) -> None:
    from kubernetes import client, config  # type: ignore[import-untyped]
    from kubernetes.stream import portforward  # type: ignore[import-untyped]

    with config.new_client_from_config(str(node.kubeconfig)) as api_client:
        _forward_two_ports(client.CoreV1Api(api_client), portforward)
    gc.collect()  # the library's leaked sockets are reported here, not in a later test


def _forward_two_ports(api: Any, portforward: Any) -> None:
    forward = portforward(
        api.connect_get_namespaced_pod_portforward, "pf", "default", ports="8080,8081"
    )
    try:
        for port in (8080, 8081):
            conn = forward.socket(port)
            conn.setblocking(True)
            conn.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
            data = b""
            # Over the Python client a port's socket closes only with the whole session, so
            # read what the server sends (Content-Length 3), not to the end.
            while not data.endswith(b"\r\n\r\npf\n") and (chunk := conn.recv(4096)):
                data += chunk
            assert data.startswith(b"HTTP/1.0 200") and data.endswith(b"\r\n\r\npf\n")
            assert forward.error(port) is None
    finally:
        forward.close()
