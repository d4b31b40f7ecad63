"""`kubectl debug` and `minikubelet debug` against a live node: an ephemeral container added
through `pods/NAME/ephemeralcontainers`, started by the node in the pod's sandbox, in the
target container's PID namespace with `--target`, attached with `-it`, reported in
`ephemeralContainerStatuses`, never restarted; the API server's refusals in kubectl's words.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.pods import BASE, pod, sh, wait_running
from tests.e2e.test_attach import _on_a_terminal
from tests.e2e.test_exec import CLIENTS
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e

KUBECTL = CLIENTS["1.32-websocket"][0]
# What PID 1 runs, as the debugger sees it: the target's process when it shares its namespace.
SHOW_PID1 = b"echo \"pid1=$(tr '\\000' ' ' < /proc/1/cmdline)\"; exit 0\n"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("debug")) as running:
        for name in ("web", "web2", "web3"):
            running.agent.apply(pod(name, sh("app", "exec sleep 4242")))
        for name in ("web", "web2", "web3"):
            wait_running(running.agent, name, "app")
        yield running


def _mk(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *args], env=node.env, capture_output=True,
        text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def _ephemeral_status(node: Node, pod_name: str, name: str) -> dict[str, Any]:
    for status in node.agent.pod(pod_name)["status"].get("ephemeralContainerStatuses") or []:
        if status["name"] == name:
            return dict(status)
    return {}


@pytest.mark.parametrize("client", ["kubectl", "minikubelet"])
def test_debug_it_with_a_target_sees_its_processes(node: Node, client: str) -> None:
    pod_name = "web" if client == "kubectl" else "web2"
    if client == "kubectl":
        argv = [KUBECTL, "debug", pod_name, "-it", f"--image={BASE}", "--target=app"]
    else:
        argv = [sys.executable, "-m", "minikubelet", "debug", pod_name, "-it", f"--image={BASE}",
                "--target=app"]  # fmt: skip
    seen, code = _on_a_terminal(argv, node.env, SHOW_PID1)
    text = seen.decode(errors="replace")
    assert code == 0, text
    assert 'Targeting container "app". If you don\'t see processes from this container' in text
    found = re.search(r"Defaulting debug container name to (debugger-[a-z0-9]{5})\.", text)
    assert found, text
    name = found.group(1)
    assert "pid1=sleep 4242" in text  # the target's PID 1, not the debugger's own shell
    command = "kubectl attach" if client == "kubectl" else "minikubelet attach"
    assert (
        "Session ended, the ephemeral container will not be restarted but may be reattached "
        f"using '{command} {pod_name} -c {name} -i -t' if it is still running"
    ) in text
    spec = node.agent.pod(pod_name)["spec"]["ephemeralContainers"]
    assert [(c["name"], c["targetContainerName"], c["tty"]) for c in spec] == [(name, "app", True)]
    ended = node.agent.wait_for(
        lambda: (_ephemeral_status(node, pod_name, name).get("state") or {}).get("terminated"),
        60,
        why=f"{name} terminated",
    )
    assert ended["exitCode"] == 0
    status = _ephemeral_status(node, pod_name, name)
    assert (status["ready"], status["restartCount"]) == (False, 0)
    assert node.agent.pod(pod_name)["status"]["phase"] == "Running"  # the app runs on


def test_a_command_without_attaching_and_never_restarted(node: Node) -> None:
    done = subprocess.run(
        [KUBECTL, "debug", "web3", f"--image={BASE}", "-c", "once", "--profile=legacy", "--",
         "sh", "-c", "echo from the debugger; exit 3"],
        env=node.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("--profile=legacy is deprecated")  # even when asked for
    ended = node.agent.wait_for(
        lambda: (_ephemeral_status(node, "web3", "once").get("state") or {}).get("terminated"),
        60,
        why="once terminated",
    )
    assert ended["exitCode"] == 3
    logs = subprocess.run(
        [KUBECTL, "logs", "web3", "-c", "once"], env=node.env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert logs.stdout == "from the debugger\n"
    # it stays terminated: the node never restarts an ephemeral container
    again = _mk(node, "get", "pod", "web3", "-o", "jsonpath={.status.ephemeralContainerStatuses}")
    assert '"restartCount":0' in again.stdout and '"exitCode":3' in again.stdout


@pytest.mark.parametrize(
    "args, stderr",
    [
        (
            ["debug", "web3", "--image=x", "--target=nope", "-c", "bad", "--profile=legacy"],
            r'The Pod "web3" is invalid: spec.ephemeralContainers\[\d\].targetContainerName: '
            r'Not found: "nope"\n',
        ),
        (
            ["debug", "web3", "--image=x", "-c", "app", "--profile=legacy"],
            r'The Pod "web3" is invalid: spec.ephemeralContainers\[\d\].name: Duplicate value: '
            r'"app"\n',
        ),
        (
            ["debug", "nope", "--image=x", "--profile=legacy"],
            r'Error from server \(NotFound\): pods "nope" not found\n',
        ),
        (
            ["debug", "web3", "-t", "--image=x"],
            "error: -i/--stdin is required for containers with -t/--tty=true\n",
        ),  # fmt: skip
    ],
)
def test_refusals_as_kubectls(node: Node, args: list[str], stderr: str) -> None:
    """kubectl is the oracle; `stderr` is a pattern of its last line."""
    kubectl = subprocess.run(
        [KUBECTL, *args], env=node.env, capture_output=True, text=True, timeout=60
    )
    ours = _mk(node, *args)
    assert kubectl.returncode == 1 and re.search(stderr + "$", kubectl.stderr), kubectl.stderr
    assert (ours.returncode, ours.stdout, ours.stderr) == (1, kubectl.stdout, kubectl.stderr)
