"""`kubectl attach` and `minikubelet attach` against a live node: containers created with the
spec's stdin/stdinOnce/tty, the container's own process reached over WebSocket v5 (kubectl 1.32)
and SPDY/3.1 (1.29, and 1.32 with websockets off), stdin to its EOF (stdinOnce closes the
container's stdin), `-it` on a pseudo-terminal with the redraw resize, kubectl's messages.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.pods import BASE, pod, sh, wait_running
from tests.e2e.test_exec import CLIENTS, SIZE_THEN_EXIT, run
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e

# Reads lines until its stdin closes, then exits 0: with stdinOnce, when the client's stdin ends.
ECHO = "while read line; do echo got $line; echo oops >&2; done"
TERMINALS = ("kubectl", "minikubelet")


def _once(name: str) -> dict[str, Any]:
    body = pod(name, sh("app", ECHO, stdin=True, stdinOnce=True), restartPolicy="Never")
    return body


def _terminal(name: str) -> dict[str, Any]:
    shell = {"name": "term", "image": BASE, "command": ["sh"], "stdin": True, "tty": True}
    return pod(name, shell)  # restartPolicy Always: kubectl then prints how to resume


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("attach")) as running:
        names = [f"once-{i}" for i in range(len(CLIENTS) + 1)]
        for name in names:
            running.agent.apply(_once(name))
        for name in TERMINALS:
            running.agent.apply(_terminal(f"tty-{name}"))
        running.agent.apply(pod("web", sh("app", "exec sleep 3600"), sh("side", "sleep 3600")))
        for name in names:
            wait_running(running.agent, name, "app")
        for name in TERMINALS:
            wait_running(running.agent, f"tty-{name}", "term")
        wait_running(running.agent, "web", "app")
        yield running


def _mk(node: Node, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *args], env=node.env, input=stdin,
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_the_spec_makes_the_containers_interactive(node: Node) -> None:
    import docker

    engine = docker.from_env()
    try:
        for name, wanted in [("once-0", (True, True, False)), ("tty-kubectl", (True, False, True))]:
            status = node.agent.pod(name)["status"]["containerStatuses"][0]
            config = engine.api.inspect_container(status["containerID"].split("://")[-1])["Config"]
            assert (config["OpenStdin"], config["StdinOnce"], config["Tty"]) == wanted, name
    finally:
        engine.close()


@pytest.mark.parametrize("client", CLIENTS)
def test_attach_with_stdin_to_its_eof(node: Node, client: str) -> None:
    name = f"once-{list(CLIENTS).index(client)}"
    done = run(node, client, "attach", "-i", name, stdin="abc\ndef\n")
    assert (done.returncode, done.stdout) == (0, "got abc\ngot def\n")
    assert done.stderr == "If you don't see a command prompt, try pressing enter.\noops\noops\n"


def test_minikubelet_attach_with_stdin(node: Node) -> None:
    done = _mk(node, "attach", "-i", f"once-{len(CLIENTS)}", "-c", "app", stdin="abc\n")
    assert (done.returncode, done.stdout) == (0, "got abc\n")
    assert done.stderr == "If you don't see a command prompt, try pressing enter.\noops\n"


@pytest.mark.parametrize("client", ["kubectl", "minikubelet"])
def test_errors_in_kubectls_words(node: Node, client: str) -> None:
    cases = [
        (["attach", "nope"], 'Error from server (NotFound): pods "nope" not found\n'),
        (
            ["attach", "web", "-c", "nope"],
            "error: cannot attach to the container: container nope not found in pod web\n",
        ),
        (["attach"], "error: at least 1 argument is required for attach\n"),
    ]
    for args, message in cases:
        done = run(node, "1.32-websocket", *args) if client == "kubectl" else _mk(node, *args)
        assert (done.returncode, done.stderr) == (1, message), (client, args)


def _first_lines(argv: list[str], env: dict[str, str], count: int) -> list[str]:
    """The first `count` lines of stderr of a session that goes on; then the client is killed.
    Unbuffered: a buffered readline could take two lines at once, and select() then wait for a
    third."""
    client = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, cwd=ROOT, bufsize=0,
    )  # fmt: skip
    assert client.stderr is not None
    lines: list[str] = []
    try:
        while len(lines) < count:
            ready, _, _ = select.select([client.stderr], [], [], 30)
            if not ready:
                break
            line = client.stderr.readline().decode()
            if not line:
                break
            lines.append(line)
    finally:
        client.kill()
        client.wait()
        client.stderr.close()
    return lines


@pytest.mark.parametrize("client", ["kubectl", "minikubelet"])
def test_a_tty_asked_of_a_container_without_one(node: Node, client: str) -> None:
    """`-t` is dropped with kubectl's error line, and the session goes on; the prompt hint is
    printed without stdin too (only `-q` silences it)."""
    if client == "kubectl":
        argv = [CLIENTS["1.32-websocket"][0], "attach", "-t", "web", "-c", "side"]
    else:
        argv = [sys.executable, "-m", "minikubelet", "attach", "-t", "web", "-c", "side"]
    assert _first_lines(argv, node.env, 2) == [
        "error: Unable to use a TTY - container side did not allocate one\n",
        "If you don't see a command prompt, try pressing enter.\n",
    ]


def _on_a_terminal(argv: list[str], env: dict[str, str], typed: bytes) -> tuple[bytes, int]:
    """argv on a 33x111 pseudo-terminal; `typed` once the prompt hint is shown."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    seen, typed_yet = b"", False
    deadline = time.monotonic() + 120
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready or time.monotonic() > deadline:  # a hung session: end it, the test fails
            os.kill(pid, signal.SIGKILL)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not typed_yet and b"try pressing enter." in seen:
            os.write(fd, typed)
            typed_yet = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return seen, os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("client", TERMINALS)
def test_attach_it_on_a_terminal(node: Node, client: str) -> None:
    """The shell sees the terminal's size (after the +1 redraw), its tty, then exits; kubectl
    prints the resume hint."""
    name = f"tty-{client}"
    if client == "kubectl":
        argv = [CLIENTS["1.32-websocket"][0], "attach", "-it", name]
        hint = f"Session ended, resume using 'kubectl attach {name} -c term -i -t' command"
    else:
        argv = [sys.executable, "-m", "minikubelet", "attach", "-it", name]
        hint = f"Session ended, resume using 'minikubelet attach {name} -c term -i -t' command"
    seen, code = _on_a_terminal(argv, node.env, SIZE_THEN_EXIT + b"tty; exit 0\n")
    assert code == 0, seen
    assert b"size=33 111\r\n/dev/pts/" in seen
    assert f"{hint} when the pod is running\r\n".encode() in seen
