"""The API socket is the only way in, and nothing from a manifest reaches a shell.

- The socket is 0600 in a 0700 state dir owned by the user; the agent's only TCP listeners,
  unless `--listen` asks for one, are the live view on 127.0.0.1 (a token in its URL, read
  only) and the cluster DNS on port 53 of its Service's cluster IP (on the agent's own TUN
  device): nothing on another address or port.
- Exec probes run as argv in the container (no shell, none on the host); names with shell
  syntax are refused by validation before anything is made on the engine; label and annotation
  values are stored and handed to Docker verbatim, and a pod label cannot claim the agent's own
  labels; env values with `$(...)` that name no variable stay literal (Kubernetes' expansion).
- hostPath does what Kubernetes' does: `/` mounted readOnly is readable and not writable. It is
  not forbidden (Kubernetes does not forbid it either; PodSecurity admission would).
"""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest

from minikubelet.errors import Invalid
from minikubelet.runtime.types import LABEL_INSTANCE, LABEL_KIND, LABEL_UID, SPARE_PREFIX
from tests.e2e.conftest import Agent
from tests.e2e.pods import BASE, engine_containers, logs, pod, sh, status_of, wait_running

pytestmark = pytest.mark.e2e

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _tcp_listeners(pid: int) -> list[str]:
    """Local addresses of the TCP sockets in LISTEN that process `pid` holds."""
    mine = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == _LISTEN and fields[9] in mine:
                found.append(f"{table} {fields[1]}")
    return found


def _exec(container: Any, *argv: str) -> tuple[int, str]:
    code, output = container.exec_run(list(argv))
    return int(code), output.decode(errors="replace")


def _app_container(agent: Agent, uid: str, name: str = "app") -> Any:
    for container in engine_containers(agent, uid, all_=False):
        if container.labels.get("io.kubernetes.container.name") == name:
            return container
    raise AssertionError(f"no running {name} container for {uid}")


def _instance_containers(agent: Agent) -> list[Any]:
    """The instance's containers but its unclaimed warm sandboxes (node/sandbox_pool.py),
    which the agent keeps started whether or not any pod comes."""
    client = docker.from_env()
    try:
        selector: dict[str, str | list[str] | bool] = {
            "label": f"{LABEL_INSTANCE}={agent.instance}"
        }
        found: list[Any] = client.containers.list(all=True, filters=selector, ignore_removed=True)
        return [c for c in found if not c.name.startswith(SPARE_PREFIX)]
    finally:
        client.close()


def _address(hex_address: str) -> tuple[str, int]:
    """`0100007F:9859` from /proc/net/tcp as ("127.0.0.1", 39001)."""
    host, port = hex_address.split(":")
    return str(ipaddress.IPv4Address(int(host, 16).to_bytes(4, "little"))), int(port, 16)


def test_socket_0600_in_a_0700_dir_and_no_tcp_listener(agent: Agent) -> None:
    sock = agent.paths.socket
    mode = os.stat(sock).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    for directory in {agent.paths.home, sock.parent}:
        info = os.stat(directory)
        assert stat.S_IMODE(info.st_mode) == 0o700, directory
        assert info.st_uid == os.getuid()
    assert os.stat(sock).st_uid == os.getuid()
    assert _socket_inodes(agent.process.pid), "the agent holds its API socket"
    dashboard = subprocess.run(
        [sys.executable, "-m", "minikubelet", "dashboard", "--no-open"],
        env={**os.environ, "MINIKUBELET_HOME": str(agent.paths.home)},
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    view = urllib.parse.urlsplit(dashboard)
    dns = agent.api.request("GET", "/api/v1/namespaces/kube-system/services/kube-dns")
    allowed = {(view.hostname, view.port), (dns["spec"]["clusterIP"], 53)}
    listeners = _tcp_listeners(agent.process.pid)
    assert all(table == "tcp" for table, _ in (x.split() for x in listeners)), listeners
    found = {_address(x.split()[1]) for x in listeners}
    assert found <= allowed, f"listeners {found}, allowed {allowed}"
    assert view.hostname == "127.0.0.1"


def test_exec_probes_run_as_argv_in_the_container_never_a_host_shell(agent: Agent) -> None:
    marker = f"minikubelet-sec-{uuid.uuid4().hex[:8]}"
    literal = f"/tmp/$(id -u);{marker}"
    container = sh("app", "sleep 600")
    # Generous timeouts: under load a docker exec can outlast the default 1 s, and a liveness
    # timeout would restart the container this test inspects.
    container["readinessProbe"] = {
        "exec": {"command": ["touch", literal]},
        "periodSeconds": 1,
        "timeoutSeconds": 5,
    }
    container["livenessProbe"] = {
        "exec": {"command": ["sh", "-c", f"touch /tmp/{marker}"]},
        "periodSeconds": 1,
        "timeoutSeconds": 5,
        "failureThreshold": 10,
    }
    uid = agent.apply(pod("argv", container))["metadata"]["uid"]
    agent.wait_for(
        lambda: status_of(agent.pod("argv"), "app").get("ready"), 40, why="argv probe ready"
    )
    app = _app_container(agent, uid)
    # the readiness probe's argument is one file name, `$(...)` and `;` included
    assert _exec(app, "test", "-e", literal)[0] == 0
    agent.wait_for(
        lambda: _exec(app, "sh", "-c", "ls /tmp")[1].count(marker) == 2,
        20,
        why="the liveness probe's `sh -c` run in the container",
    )
    # `sh -c` is the user's own argv, run in the container: nothing on the host
    assert not Path(f"/tmp/{marker}").exists()
    assert not list(Path("/tmp").glob(f"*{marker}*"))


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("container", "$(touch /tmp/pwned)"),
        ("container", "app;rm -rf /"),
        ("pod", "a`id`"),
        ("label", "$(id)"),
        ("label-key", "x;y"),
        ("namespace", "default;x"),
    ],
)
def test_shell_syntax_in_names_is_refused_before_the_engine(
    agent: Agent, where: str, value: str
) -> None:
    manifest = pod("shellname", sh("app", "sleep 600"))
    namespace = "default"
    if where == "container":
        manifest["spec"]["containers"][0]["name"] = value
    elif where == "pod":
        manifest["metadata"]["name"] = value
    elif where == "label":
        manifest["metadata"]["labels"] = {"app": value}
    elif where == "label-key":
        manifest["metadata"]["labels"] = {value: "v"}
    else:
        namespace = value
        manifest["metadata"]["namespace"] = value
    with pytest.raises(Invalid) as refused:
        agent.apply(manifest, namespace=namespace)
    assert value in str(refused.value)
    assert agent.api.request("GET", "/api/v1/pods")["items"] == []
    assert _instance_containers(agent) == []


def test_labels_and_annotations_reach_docker_verbatim_and_cannot_claim_ours(agent: Agent) -> None:
    labels = {
        "app": "x.y_z-1",
        "example.com/tier": "A-b.c",
        LABEL_INSTANCE: "someone-else",
        LABEL_UID: "not-the-uid",
    }
    hostile = '$(touch /tmp/pwned); `id` && echo "x" | sh'
    manifest = pod(
        "verbatim", sh("app", "printenv V; sleep 600", env=[{"name": "V", "value": hostile}])
    )
    manifest["metadata"]["labels"] = labels
    manifest["metadata"]["annotations"] = {"note": hostile}
    created = agent.apply(manifest)
    uid = created["metadata"]["uid"]
    assert created["metadata"]["labels"] == labels
    assert created["metadata"]["annotations"] == {"note": hostile}
    wait_running(agent, "verbatim", "app", timeout=40)
    sandbox = [c for c in engine_containers(agent, uid) if c.labels.get(LABEL_KIND) == "podsandbox"]
    assert len(sandbox) == 1
    assert sandbox[0].labels["app"] == "x.y_z-1"
    assert sandbox[0].labels["example.com/tier"] == "A-b.c"
    assert sandbox[0].labels[LABEL_INSTANCE] == agent.instance
    assert sandbox[0].labels[LABEL_UID] == uid
    agent.wait_for(lambda: hostile in logs(agent, "verbatim"), 20, why="the env value logged")
    app = _app_container(agent, uid)
    assert _exec(app, "test", "-e", "/tmp/pwned")[0] != 0
    assert not Path("/tmp/pwned").exists()


def test_hostpath_root_read_only_works_as_kubernetes_does(agent: Agent) -> None:
    """Kubernetes allows a hostPath of `/`; readOnly makes the mount read-only. Documented."""
    hostname = Path("/etc/hostname").read_text().strip()
    container = sh(
        "app",
        "cat /host/etc/hostname; touch /host/tmp/minikubelet-ro-probe 2>&1; sleep 600",
        image=BASE,
        volumeMounts=[{"name": "root", "mountPath": "/host", "readOnly": True}],
    )
    manifest = pod("hostroot", container, volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    agent.apply(manifest)
    wait_running(agent, "hostroot", "app", timeout=40)

    def refused() -> str | None:
        text = logs(agent, "hostroot")
        return text if "Read-only file system" in text else None

    text = agent.wait_for(
        refused,
        20,
        why="the read-only mount refusing a write",
    )
    assert hostname in text
    assert not Path("/tmp/minikubelet-ro-probe").exists()
