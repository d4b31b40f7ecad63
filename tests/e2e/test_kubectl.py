"""The real kubectl against a live node over HTTPS, with the kubeconfig `minikubelet kubeconfig`
prints: the seed's commands, create/apply/label/wait/watch, `logs -p` and `logs -f`, and the
same `get pods` as `minikubelet get pods`. kubectl 1.32 is the one on the PATH; the oldest
(1.27) and newest (1.33) installed clients run a shorter round.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from minikubelet.cli.client import ApiClient
from minikubelet.paths import StatePaths
from tests.e2e.conftest import ROOT, Agent, _cleanup_engine, _wait_healthy
from tests.e2e.pods import BASE, find_event, pod, sh, status_of, terminated, wait_running

pytestmark = pytest.mark.e2e

SEED = ROOT / "manifests" / "webapl-pod.yaml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Node:
    """An agent with an HTTPS listener, and kubectl pointed at it."""

    agent: Agent
    kubeconfig: Path
    env: dict[str, str]

    def kubectl(
        self, *args: str, binary: str = "kubectl", check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [binary, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def minikubelet(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "minikubelet", *args],
            env=self.env, capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip


def _spawn_listening(paths: StatePaths, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
    argv = [sys.executable, "-m", "minikubelet", "daemon", "run", "--node-name", "e2e-node"]
    with open(paths.home / "agent.log", "ab") as log:
        return subprocess.Popen(
            [*argv, "--listen", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=log, cwd=ROOT
        )


@contextmanager
def listening_node(home: Path) -> Iterator[Node]:
    """A real agent with `--listen 127.0.0.1:<free port>` and the kubeconfig it prints; the
    engine is cleaned up after, as the `agent` fixture does."""
    paths = StatePaths(home / "home")
    paths.ensure()
    api = ApiClient(paths)
    agent = Agent(paths, _spawn_listening(paths, _free_port()), api)
    try:
        _wait_healthy(agent)
        env = {**os.environ, "MINIKUBELET_HOME": str(paths.home)}
        printed = subprocess.run(
            [sys.executable, "-m", "minikubelet", "kubeconfig"],
            env=env, capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        kubeconfig = home / "kc"
        kubeconfig.write_text(printed.stdout)
        yield Node(agent, kubeconfig, {**env, "KUBECONFIG": str(kubeconfig)})
    finally:
        agent.stop()
        api.close()
        if paths.instance.exists():
            _cleanup_engine(agent.instance)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("kubectl")) as running:
        yield running


def _manifest(tmp_path: Path, name: str, body: dict[str, object]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def test_kubeconfig_points_at_the_listener_and_the_token_is_required(node: Node) -> None:
    config = yaml.safe_load(node.kubeconfig.read_text())
    assert config["current-context"] == "minikubelet"
    assert config["contexts"][0]["context"]["namespace"] == "default"
    server = config["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:")
    anonymous = node.kubectl("get", "pods", "--token=wrong", check=False)
    assert anonymous.returncode == 1
    assert "error: You must be logged in to the server" in anonymous.stderr
    version = json.loads(node.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.32.0+minikubelet")


def _columns(table: str) -> list[list[str]]:
    """A kubectl table cut at its header's column starts (empty cells stay empty)."""
    header, *rows = table.splitlines()
    starts = [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [[line[a:b].strip() for a, b in bounds] for line in [header, *rows]]


def test_api_resources_lists_core_and_discovery_groups(node: Node) -> None:
    """`kubectl api-resources` reads the registry through discovery: core v1 and
    discovery.k8s.io/v1, each row as the API server's would be."""
    header, *rows = _columns(node.kubectl("api-resources").stdout)
    assert header == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {row[0]: row for row in rows}
    assert by_name["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert by_name["services"] == ["services", "svc", "v1", "true", "Service"]
    assert by_name["endpoints"] == ["endpoints", "ep", "v1", "true", "Endpoints"]
    assert by_name["endpointslices"] == [
        "endpointslices", "", "discovery.k8s.io/v1", "true", "EndpointSlice",
    ]  # fmt: skip
    assert by_name["configmaps"] == ["configmaps", "cm", "v1", "true", "ConfigMap"]
    assert by_name["secrets"] == ["secrets", "", "v1", "true", "Secret"]
    names = node.kubectl("api-resources", "--api-group=discovery.k8s.io", "-o", "name").stdout
    assert names == "endpointslices.discovery.k8s.io\n"


def test_seed_commands(node: Node) -> None:
    """The seed's walk: apply, get, get -o wide, logs, describe, delete -f."""
    applied = node.kubectl("apply", "-f", str(SEED))
    assert applied.stdout == "pod/webapl created\n"
    assert node.kubectl("apply", "-f", str(SEED)).stdout == "pod/webapl unchanged\n"
    node.agent.wait_for(lambda: node.agent.pod("webapl")["status"].get("podIP"), 30, "a pod IP")
    got = node.kubectl("get", "pod").stdout.splitlines()
    assert got[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert got[1].split()[:3] == ["webapl", "0/1", "Running"]
    wide = node.kubectl("get", "pod", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:8] == ["IP", "NODE", "NOMINATED"]
    assert wide[1].split()[6] == "e2e-node"
    node.agent.wait_for(lambda: node.kubectl("logs", "webapl").stdout, 20, "webapl's log")
    described = node.kubectl("describe", "pod", "webapl").stdout
    assert described.split()[:2] == ["Name:", "webapl"] and "Started container webapl" in described
    mine = node.minikubelet("describe", "pod", "webapl").stdout
    assert mine.splitlines()[:4] == described.splitlines()[:4]
    deleted = node.kubectl("delete", "-f", str(SEED), "--grace-period=1")
    assert deleted.stdout == 'pod "webapl" deleted\n'
    assert node.agent.gone("webapl")  # kubectl waited until it was gone


def _same_rows(node: Node, *args: str) -> None:
    """kubectl and minikubelet print the same table (ages may tick between the two calls)."""
    for _ in range(3):
        theirs = node.kubectl("get", "pods", *args).stdout
        ours = node.minikubelet("get", "pods", *args).stdout
        if theirs == ours:
            return
    assert theirs == ours


def test_create_wait_watch_label_yaml_and_same_table_as_minikubelet(
    node: Node, tmp_path: Path
) -> None:
    manifest = pod("hello", sh("c", "echo hello; exec sleep 300"))
    path = _manifest(tmp_path, "hello", manifest)
    watch = subprocess.Popen(
        ["kubectl", "get", "pods", "-w", "--request-timeout=40s"],
        env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert node.kubectl("create", "-f", path).stdout == "pod/hello created\n"
        again = node.kubectl("create", "-f", path, check=False)
        assert again.returncode == 1 and 'pods "hello" already exists' in again.stderr
        waited = node.kubectl("wait", "--for=condition=Ready", "pod/hello", "--timeout=40s")
        assert waited.stdout == "pod/hello condition met\n"
        node.agent.wait_for(lambda: node.kubectl("logs", "hello").stdout == "hello\n", 10)
    finally:
        watch.terminate()
        seen, _ = watch.communicate(timeout=10)
    assert any(line.split()[:3] == ["hello", "1/1", "Running"] for line in seen.splitlines())
    assert node.kubectl("label", "pod", "hello", "tier=web").stdout == "pod/hello labeled\n"
    as_yaml = yaml.safe_load(node.kubectl("get", "pod", "hello", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["labels"] == {"tier": "web"}
    assert as_yaml["spec"]["containers"][0]["image"] == BASE
    assert node.kubectl("get", "pods", "-l", "tier=web", "-o", "name").stdout == "pod/hello\n"
    _same_rows(node)
    _same_rows(node, "-o", "wide")
    events = node.kubectl("get", "events").stdout
    assert "pod/hello" in events and "Started container c" in events
    assert node.kubectl("get", "nodes").stdout.split()[5:7] == ["e2e-node", "Ready"]
    node.kubectl("delete", "pod", "hello")
    assert node.agent.gone("hello")


def test_apply_configures_an_existing_pod_with_a_strategic_merge_patch(
    node: Node, tmp_path: Path
) -> None:
    manifest = pod("conf", sh("c", "exec sleep 300"))
    node.kubectl("apply", "-f", _manifest(tmp_path, "v1", manifest))
    manifest["metadata"] = {"name": "conf", "labels": {"v": "2"}}
    manifest["spec"]["containers"][0]["image"] = "webapl:0.1"
    configured = node.kubectl("apply", "-f", _manifest(tmp_path, "v2", manifest))
    assert configured.stdout == "pod/conf configured\n"
    live = node.agent.pod("conf")
    assert live["metadata"]["labels"] == {"v": "2"}
    assert live["spec"]["containers"][0]["image"] == "webapl:0.1"
    manifest["spec"]["restartPolicy"] = "Never"
    refused = node.kubectl("apply", "-f", _manifest(tmp_path, "v3", manifest), check=False)
    assert refused.returncode == 1
    assert 'The Pod "conf" is invalid: spec: Forbidden: pod updates may not change' in (
        refused.stderr
    )
    manifest["spec"]["restartPolicy"] = "Always"
    manifest["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    strict = node.kubectl("apply", "-f", _manifest(tmp_path, "v4", manifest), check=False)
    assert 'strict decoding error: unknown field "spec.containers[0].imagePulPolicy"' in (
        strict.stderr
    )
    node.kubectl("delete", "pod", "conf", "--wait=false")


def test_a_readiness_gate_set_with_a_status_patch_and_the_api_servers_warnings(
    node: Node, tmp_path: Path
) -> None:
    gate = "example.com/feature-1"
    manifest = pod("gated", sh("c", "exec sleep 300"), readinessGates=[{"conditionType": gate}])
    manifest["spec"]["containers"][0]["env"] = [
        {"name": "MODE", "value": "a"},
        {"name": "MODE", "value": "b"},
    ]
    created = node.kubectl("apply", "-f", _manifest(tmp_path, "gated", manifest))
    assert created.stderr == (
        'Warning: spec.containers[0].env[1]: hides previous definition of "MODE", which may be '
        "dropped when using apply\n"
    )
    node.agent.wait_for(
        lambda: _condition(node, "gated", "ContainersReady") == "True", 60, "containers ready"
    )
    row = node.kubectl("get", "pod", "gated", "-o", "wide").stdout.splitlines()[1].split()
    assert row[1] == "1/1" and row[-1] == "0/1"  # READY, READINESS GATES
    assert _condition(node, "gated", "Ready") == "False"
    patch = json.dumps({"status": {"conditions": [{"type": gate, "status": "True"}]}})
    node.kubectl("patch", "pod", "gated", "--subresource=status", "-p", patch)
    node.agent.wait_for(lambda: _condition(node, "gated", "Ready") == "True", 10, "Ready")
    row = node.kubectl("get", "pod", "gated", "-o", "wide").stdout.splitlines()[1].split()
    assert row[-1] == "1/1"
    node.kubectl("delete", "pod", "gated", "--wait=false")


def _condition(node: Node, name: str, kind: str) -> str | None:
    found = (node.agent.pod(name).get("status") or {}).get("conditions") or []
    return next((c["status"] for c in found if c["type"] == kind), None)


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_oldest_and_newest_clients(node: Node, tmp_path: Path, version: str) -> None:
    """1.29+ validate through OpenAPI v3; 1.27 and 1.28 read only the protobuf OpenAPI v2,
    which the node does not serve, so they need `--validate=false` to create."""
    real = Path(shutil.which("kubectl") or "kubectl").resolve()
    binary = str(real.parent / f"kubectl.{version}")
    name = f"v{version.replace('.', '-')}"
    path = _manifest(tmp_path, name, pod(name, sh("c", "exec sleep 300")))
    validate = ["--validate=false"] if version == "1.27" else []
    created = node.kubectl("apply", "-f", path, *validate, binary=binary)
    assert created.stdout == f"pod/{name} created\n"
    table = node.kubectl("get", "pods", name, binary=binary).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    node.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=40s", binary=binary)
    node.kubectl("delete", "-f", path, binary=binary)
    assert node.agent.gone(name)


def test_logs_previous_shows_the_instance_before_the_crash(node: Node) -> None:
    """`kubectl logs -p`: the instance that crashed; without it, the one running now."""
    count = "n=$(( $(cat /v/n 2>/dev/null || echo 0) + 1 )); echo $n > /v/n; echo instance $n"
    script = f"{count}; if [ $n -ge 2 ]; then exec sleep 300; fi; exit 1"
    mount = [{"name": "v", "mountPath": "/v"}]
    volumes = [{"name": "v", "emptyDir": {}}]
    node.agent.apply(pod("again", sh("c", script, volumeMounts=mount), volumes=volumes))
    node.agent.wait_for(
        lambda: (
            (p := node.agent.pod("again"))
            and status_of(p, "c").get("restartCount") == 1
            and (status_of(p, "c").get("state") or {}).get("running")
        ),
        40,
        "the second instance running",
    )
    node.agent.wait_for(lambda: node.kubectl("logs", "again").stdout, 10, "its log")
    assert node.kubectl("logs", "again", "-p").stdout == "instance 1\n"
    assert node.kubectl("logs", "again", "--previous=true", "-c", "c").stdout == "instance 1\n"
    assert node.kubectl("logs", "again").stdout == "instance 2\n"
    node.kubectl("delete", "pod", "again", "--wait=false")


def test_logs_follow_streams_and_ends_with_the_container(node: Node) -> None:
    """`kubectl logs -f`: each line as the container writes it, and kubectl exits 0 by itself
    once the container has exited."""
    script = "for i in 1 2 3 4 5 6; do echo line $i; sleep 1; done"
    node.agent.apply(pod("ticker", sh("c", script), restartPolicy="Never"))
    wait_running(node.agent, "ticker", "c", timeout=30)
    follow = subprocess.Popen(
        ["kubectl", "logs", "-f", "ticker"],
        env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert follow.stdout is not None
        for line in follow.stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=20)
        # the first line came while the container still runs: streamed, not read at the end
        assert first == "line 1\n"
        assert (status_of(node.agent.pod("ticker"), "c").get("state") or {}).get("running")
        assert follow.wait(timeout=30) == 0, follow.stderr.read() if follow.stderr else ""
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait(timeout=10)
        reader.join(timeout=10)
        for pipe in (follow.stdout, follow.stderr):
            if pipe is not None:
                pipe.close()
    rest = [lines.get_nowait() for _ in range(lines.qsize())]
    assert [first, *rest] == [f"line {i}\n" for i in range(1, 7)]
    # the engine saw the exit first; the status follows on the agent's next relist
    node.agent.wait_for(lambda: terminated(node.agent.pod("ticker"), "c"), 10, "c terminated")
    node.kubectl("delete", "pod", "ticker", "--wait=false")


def test_cordon_keeps_a_new_pod_pending_and_describe_node_counts_the_pods(node: Node) -> None:
    """`kubectl cordon`: the node carries the unschedulable taint and a new pod waits with the
    scheduler's words; `uncordon` lets it run. `kubectl describe node` lists it (its pods
    field selector has `!=` terms) beside the node's capacity and allocatable."""
    node.kubectl("cordon", "e2e-node")
    try:
        run = ["run", "cordoned", f"--image={BASE}", "--restart=Never", "--command"]
        node.kubectl(*run, "--", "sleep", "3600")
        event = node.agent.wait_for(
            lambda: find_event(node.agent, "cordoned", "FailedScheduling"), 30, "FailedScheduling"
        )
        assert event["message"] == (
            "0/1 nodes are available: 1 node(s) were unschedulable. "
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        )
        cordoned = node.kubectl("describe", "node", "e2e-node").stdout
        assert "Taints:             node.kubernetes.io/unschedulable:NoSchedule\n" in cordoned
        assert "Unschedulable:      true\n" in cordoned
        got = node.kubectl("get", "node", "e2e-node").stdout.splitlines()[1].split()
        assert got[1] == "Ready,SchedulingDisabled"
    finally:
        node.kubectl("uncordon", "e2e-node")
    wait_running(node.agent, "cordoned", "cordoned")
    described = node.kubectl("describe", "node", "e2e-node").stdout
    assert "Non-terminated Pods:          (1 in total)\n" in described
    assert "  default                     cordoned" in described
    assert "Capacity:\n  cpu:" in described and "  pods:               110\n" in described
    assert "Allocated resources:" in described and "Taints:             <none>\n" in described
    node.kubectl("delete", "pod", "cordoned", "--grace-period=1")
