"""`kubectl exec` against a live node: WebSocket v5 (kubectl 1.32), SPDY/3.1 (kubectl 1.29, and
1.32 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): exit codes, stdout and stderr apart, stdin
to EOF, `-it` on a pseudo-terminal with its size, kubectl's errors, and no process left behind
by a client that goes away.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from minikubelet.clock import poll
from tests.e2e.conftest import ROOT
from tests.e2e.pods import pod, sh, terminated, wait_running
from tests.e2e.test_kubectl import Node, listening_node

# The kubernetes client's stream()/portforward() leave TLS sockets to the garbage collector
# (its leak, not ours: the agent's own descriptors are counted by the tests), and a loaded
# machine can collect them during any later test of this module, not only in the test that
# used the client: their ResourceWarning is not this module's failure.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

KUBECTL = Path(shutil.which("kubectl") or "kubectl").resolve()
CLIENTS = {
    "1.32-websocket": (str(KUBECTL.parent / "kubectl.1.32"), {}),
    "1.32-spdy": (
        str(KUBECTL.parent / "kubectl.1.32"),
        {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"},
    ),
    "1.29-spdy": (str(KUBECTL.parent / "kubectl.1.29"), {}),
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("exec")) as running:
        running.agent.apply(pod("web", sh("app", "exec sleep 3600"), sh("side", "exec sleep 3600")))
        done = pod("done", sh("app", "exec sleep 3600"), sh("once", "true"))
        running.agent.apply({**done, "spec": {**done["spec"], "restartPolicy": "Never"}})
        bad = pod("multibad", sh("a", "exec sleep 3600"), sh("b", "exec sleep 3600"))
        bad["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "zzz"}
        running.agent.apply(bad)
        wait_running(running.agent, "web", "app")
        wait_running(running.agent, "web", "side")
        wait_running(running.agent, "multibad", "a")
        running.agent.wait_for(lambda: terminated(running.agent.pod("done"), "once"), 60)
        yield running


def run(
    node: Node, client: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    binary, extra = CLIENTS[client]
    return subprocess.run(
        [binary, *args], env={**node.env, **extra}, input=stdin, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("client", CLIENTS)
def test_exit_code_output_and_stdin(node: Node, client: str) -> None:
    done = run(node, client, "exec", "web", "-c", "app", "--", "sh", "-c",
               "echo out; echo err >&2; exit 3")  # fmt: skip
    assert (done.returncode, done.stdout) == (3, "out\n")
    assert done.stderr == "err\ncommand terminated with exit code 3\n"
    echoed = run(node, client, "exec", "-i", "web", "-c", "app", "--", "cat", stdin="abc\n")
    assert (echoed.returncode, echoed.stdout, echoed.stderr) == (0, "abc\n", "")


@pytest.mark.parametrize("client", CLIENTS)
def test_errors_in_kubectls_words(node: Node, client: str) -> None:
    cases = [
        (["exec", "nope", "--", "true"], 'Error from server (NotFound): pods "nope" not found\n'),
        (
            ["exec", "web", "-c", "nope", "--", "true"],
            "Error from server (BadRequest): container nope is not valid for pod web\n",
        ),
        (
            ["exec", "done", "-c", "once", "--", "true"],
            'error: unable to upgrade connection: container not found ("once")\n',
        ),
    ]
    for args, message in cases:
        done = run(node, client, *args)
        assert (done.returncode, done.stderr) == (1, message), args


@pytest.mark.parametrize(
    "args",
    [
        ["exec", "-t", "web", "-c", "app", "--", "sh", "-c", "tty"],  # no -i: no TTY, no word
        ["exec", "-it", "web", "-c", "app", "--", "sh", "-c", "tty"],  # stdin a pipe
        ["exec", "-q", "web", "--", "true"],
        ["exec", "multibad", "--", "true"],  # its default container missing: no word of it
        ["exec", "-q", "multibad", "--", "true"],
        ["exec", "--", "true"],
        ["exec"],
        ["exec", "--bogus=1", "web", "--", "true"],
        ["exec", "web", "-c"],
        ["exec", "-ix", "web", "--", "true"],
    ],
    ids=lambda args: " ".join(args),
)
def test_notes_and_refusals_as_kubectl_132s(node: Node, args: list[str]) -> None:
    """kubectl 1.32 is the oracle (its name in its words is ours in ours)."""
    kubectl = run(node, "1.32-websocket", *args, stdin="")
    ours = subprocess.run(
        [sys.executable, "-m", "minikubelet", *args], env=node.env, input="",
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert (ours.returncode, ours.stdout, ours.stderr.replace("minikubelet", "kubectl")) == (
        kubectl.returncode,
        kubectl.stdout,
        kubectl.stderr,
    )


def test_the_default_container_is_the_first_one(node: Node) -> None:
    done = run(node, "1.32-websocket", "exec", "web", "--", "sh", "-c", "echo $HOSTNAME")
    assert done.returncode == 0
    assert done.stderr.startswith('Defaulted container "app" out of: app, side\n')


def test_minikubelet_exec_over_the_socket(node: Node) -> None:
    def mk(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "minikubelet", *args], env=node.env, input=stdin,
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip

    done = mk("exec", "web", "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout) == (3, "out\n")
    assert done.stderr == "err\ncommand terminated with exit code 3\n"
    assert mk("exec", "-i", "web", "-c", "app", "--", "cat", stdin="abc\n").stdout == "abc\n"
    defaulted = mk("exec", "web", "--", "true")
    assert defaulted.stderr == 'Defaulted container "app" out of: app, side\n'
    for args, message in [
        (["exec", "nope", "--", "true"], 'Error from server (NotFound): pods "nope" not found\n'),
        (
            ["exec", "web", "-c", "nope", "--", "true"],
            "Error from server (BadRequest): container nope is not valid for pod web\n",
        ),
        (
            ["exec", "done", "-c", "once", "--", "true"],
            'error: unable to upgrade connection: container not found ("once")\n',
        ),
        (
            ["exec", "web", "ls"],
            "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND]"
            " instead\nSee 'minikubelet exec -h' for help and examples\n",
        ),
    ]:
        failed = mk(*args)
        assert (failed.returncode, failed.stderr) == (1, message), args
    argv = [sys.executable, "-m", "minikubelet", "exec", "-it", "web", "-c", "app", "--", "sh"]
    seen, code = on_a_terminal(argv, node.env, SIZE_THEN_EXIT + b"exit 4\n")
    assert code == 4 and b"size=33 111\r\n" in seen


# kubernetes 32's stream() never closes the websocket of a preloaded call (ws_client.py
# websocket_call returns without client.close()): its socket is the library's leak, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_python_clients_stream_exec(node: Node) -> None:
    from kubernetes import client, config  # type: ignore[import-untyped]
    from kubernetes.stream import stream  # type: ignore[import-untyped]

    with config.new_client_from_config(str(node.kubeconfig)) as api_client:
        _stream_exec(client.CoreV1Api(api_client), stream)
    gc.collect()  # the library's leaked sockets are reported here, not in a later test


def _stream_exec(api: Any, stream: Any) -> None:
    out = stream(
        api.connect_get_namespaced_pod_exec, "web", "default", container="app",
        command=["sh", "-c", "echo hello; echo oops >&2"], stderr=True, stdin=False,
        stdout=True, tty=False,
    )  # fmt: skip
    assert sorted(out.splitlines()) == ["hello", "oops"]  # two pipes: either may come first
    ws = stream(
        api.connect_get_namespaced_pod_exec, "web", "default", container="app",
        command=["sh", "-c", "read line; echo got $line; exit 6"], stderr=True, stdin=True,
        stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    ws.write_stdin("abc\n")
    ws.run_forever(timeout=20)
    assert ws.read_stdout() == "got abc\n"
    assert ws.returncode == 6
    ws.close()


# The resize travels beside the typed input (its own channel or stream, then an engine call), so
# the shell may start before it lands: wait for it, within a deadline, inside the shell.
SIZE_THEN_EXIT = (
    b'for i in $(seq 50); do s=$(stty size); [ "$s" = "33 111" ] && break; sleep 0.1; done; '
    b'echo "size=$s"; '
)


def on_a_terminal(argv: list[str], env: dict[str, str], typed: bytes) -> tuple[bytes, int]:
    """Run argv on a pseudo-terminal of 33 rows and 111 columns; type `typed` once it runs."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(argv[0], argv, env)
    import fcntl

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    seen = b""
    typed_yet = False
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not typed_yet and b"#" in seen:  # the shell's prompt
            os.write(fd, typed)
            typed_yet = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return seen, os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("client", CLIENTS)
def test_exec_it_on_a_terminal(node: Node, client: str) -> None:
    binary, extra = CLIENTS[client]
    argv = [binary, "exec", "-it", "web", "-c", "app", "--", "sh"]
    seen, code = on_a_terminal(argv, {**node.env, **extra}, SIZE_THEN_EXIT + b"tty; exit 7\n")
    assert code == 7
    assert b"size=33 111\r\n/dev/pts/" in seen
    assert seen.endswith(b"command terminated with exit code 7\r\n")


def _processes(container: str) -> list[str]:
    engine = docker.from_env()
    try:
        listing = engine.api.top(container)
    finally:
        engine.close()
    return [" ".join(p) for p in listing["Processes"] or []]


@pytest.mark.parametrize("client", ["1.32-websocket", "1.29-spdy"])
def test_kubectl_cp_both_ways(node: Node, client: str, tmp_path: Path) -> None:
    """kubectl cp is tar through exec: stdin to its EOF one way, stdout the other."""
    source = tmp_path / "small.txt"
    source.write_bytes(b"hello cp\n" * 1000)
    assert run(node, client, "cp", str(source), "web:/tmp/dest.txt", "-c", "app").returncode == 0
    copied = run(node, client, "exec", "web", "-c", "app", "--", "md5sum", "/tmp/dest.txt")
    assert copied.stdout.split()[0] == hashlib.md5(source.read_bytes()).hexdigest()
    back = tmp_path / "back.txt"
    assert run(node, client, "cp", "web:/tmp/dest.txt", str(back), "-c", "app").returncode == 0
    assert back.read_bytes() == source.read_bytes()


def test_a_client_that_leaves_leaves_no_process(node: Node) -> None:
    container = node.agent.pod("web")["status"]["containerStatuses"][0]["containerID"]
    container = container.split("://")[-1]
    binary, _ = CLIENTS["1.32-websocket"]
    client = subprocess.Popen(
        [binary, "exec", "web", "-c", "app", "--", "sleep", "4242"], env=node.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert poll(lambda: any("sleep 4242" in p for p in _processes(container)), 20, 0.2)
    finally:
        client.kill()
        client.wait()
    gone = poll(lambda: not any("sleep 4242" in p for p in _processes(container)), 20, 0.2)
    assert gone, _processes(container)


def test_sequential_execs_leave_threads_and_descriptors_flat(node: Node) -> None:
    pid = node.agent.process.pid

    def counts() -> tuple[int, int]:
        return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd"))

    for i in range(20):  # warm up: the engine clients' connection pools fill (about 6 sockets)
        client = "1.32-websocket" if i % 2 else "1.32-spdy"
        run(node, client, "exec", "web", "-c", "app", "--", "true")
    threads, fds = counts()
    for i in range(60):  # a leak of one descriptor per session would show as 60
        client = "1.32-websocket" if i % 2 else "1.32-spdy"
        assert run(node, client, "exec", "web", "-c", "app", "--", "true").returncode == 0
    after = counts()
    assert after[0] <= threads + 2 and after[1] <= fds + 8, (threads, fds, after)
