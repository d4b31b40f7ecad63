"""Container configuration on the real engine: command/args, env, ports, limits, volumes."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import (
    BASE,
    WEBAPL,
    engine_containers,
    find_event,
    logs,
    pod,
    sh,
    status_of,
    terminated,
    wait_phase,
    wait_running,
    waiting_reason,
)
from tests.runtime.conftest import ENTRYPOINT_DOCKERFILE, ENTRYPOINT_IMAGE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def entrypoint_image() -> str:
    """An image with both ENTRYPOINT and CMD (the runtime contract suite's), built once."""
    client = docker.from_env()
    try:
        try:
            client.images.get(ENTRYPOINT_IMAGE)
        except docker.errors.ImageNotFound:
            dockerfile = io.BytesIO(ENTRYPOINT_DOCKERFILE.encode())
            client.images.build(fileobj=dockerfile, tag=ENTRYPOINT_IMAGE, pull=False, rm=True)
    finally:
        client.close()
    return ENTRYPOINT_IMAGE


def _done(agent: Agent, name: str, container: str) -> str:
    """The output of a container that ran to completion."""
    agent.wait_for(lambda: terminated(agent.pod(name), container), 30, why=f"{container} done")
    return logs(agent, name, container)


def test_command_and_args_against_entrypoint_and_cmd(agent: Agent, entrypoint_image: str) -> None:
    image = entrypoint_image  # ENTRYPOINT ["echo", "entry"], CMD ["cmd"]
    agent.apply(
        pod(
            "argv",
            {"name": "plain", "image": image},
            {"name": "args", "image": image, "args": ["given"]},
            {"name": "command", "image": image, "command": ["echo", "own"]},
            {"name": "both", "image": image, "command": ["echo", "own"], "args": ["given"]},
            restartPolicy="Never",
        )
    )
    wait_phase(agent, "argv", "Succeeded")
    assert logs(agent, "argv", "plain") == "entry cmd\n"
    assert logs(agent, "argv", "args") == "entry given\n"
    assert logs(agent, "argv", "command") == "own\n"
    assert logs(agent, "argv", "both") == "own given\n"


def test_working_dir_and_env_with_field_refs(agent: Agent) -> None:
    fields = ["metadata.name", "metadata.namespace", "metadata.uid", "status.podIP"]
    fields.append("spec.nodeName")
    env: list[dict[str, Any]] = [
        {"name": "PLAIN", "value": "v1"},
        {"name": "EXPANDED", "value": "$(PLAIN)-x"},
    ]
    env += [
        {"name": f"F{i}", "valueFrom": {"fieldRef": {"fieldPath": path}}}
        for i, path in enumerate(fields)
    ]
    script = 'pwd; echo "$PLAIN $EXPANDED"; for i in 0 1 2 3 4; do eval echo \\$F$i; done'
    created = agent.apply(
        pod("envs", sh("app", script, workingDir="/tmp", env=env), restartPolicy="Never")
    )
    done = wait_phase(agent, "envs", "Succeeded")
    lines = logs(agent, "envs", "app").splitlines()
    uid = created["metadata"]["uid"]
    assert lines == ["/tmp", "v1 v1-x", "envs", "default", uid, done["status"]["podIP"], "e2e-node"]


def test_host_port_is_published_on_loopback(agent: Agent) -> None:
    port = 38123
    agent.apply(
        pod(
            "ported",
            {
                "name": "web",
                "image": WEBAPL,
                "env": [{"name": "WEBAPL_READY_AFTER", "value": "0"}],
                "ports": [{"containerPort": 3000, "hostPort": port}],
            },
        )
    )
    wait_running(agent, "ported", "web")

    def answer() -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                return int(reply.status)
        except OSError:
            return None

    assert agent.wait_for(answer, 20, why="hostPort answers") == 200


def test_memory_limit_kills_with_oom(agent: Agent) -> None:
    hog = "x = bytearray(512 * 1024 * 1024); print(len(x))"
    agent.apply(
        pod(
            "hog",
            {
                "name": "app",
                "image": BASE,
                "command": ["python3", "-c", hog],
                "resources": {"limits": {"memory": "32Mi"}},
            },
            restartPolicy="OnFailure",
        )
    )
    oom = agent.wait_for(
        lambda: (
            (p := agent.pod("hog"))
            and ((terminated(p, "app") or terminated(p, "app", last=True) or {}).get("reason"))
            == "OOMKilled"
            and p
        ),
        30,
        why="OOMKilled",
    )
    state = terminated(oom, "app") or terminated(oom, "app", last=True)
    assert state is not None and state["exitCode"] == 137


def test_read_only_mount_and_sub_path(agent: Agent) -> None:
    mounts = [
        {"name": "data", "mountPath": "/ro", "readOnly": True},
        {"name": "data", "mountPath": "/sub", "subPath": "part/one"},
    ]
    writer = sh("writer", "echo inner > /sub/f; sleep 600", volumeMounts=mounts[1:])
    reader = sh(
        "reader",
        "until [ -e /ro/part/one/f ]; do sleep 0.1; done; cat /ro/part/one/f;"
        " if (echo x > /ro/nope) 2>/dev/null; then echo writable; else echo read-only; fi;"
        " sleep 600",
        volumeMounts=mounts[:1],
    )
    uid = agent.apply(pod("mounts", writer, reader, volumes=[{"name": "data", "emptyDir": {}}]))[
        "metadata"
    ]["uid"]
    wait_running(agent, "mounts", "reader")
    out = agent.wait_for(
        lambda: "only" in (text := logs(agent, "mounts", "reader")) and text, 20, why="reader"
    )
    assert out == "inner\nread-only\n"
    on_host = agent.paths.pods / uid / "volumes" / "data" / "part" / "one" / "f"
    assert on_host.read_text() == "inner\n"


def test_host_path_directory_or_create(agent: Agent, tmp_path: Path) -> None:
    target = tmp_path / "made" / "here"
    volume = {"name": "host", "hostPath": {"path": str(target), "type": "DirectoryOrCreate"}}
    script = "until [ -e /h/from-host ]; do sleep 0.1; done; cat /h/from-host; sleep 600"
    agent.apply(
        pod(
            "hostp",
            sh("app", script, volumeMounts=[{"name": "host", "mountPath": "/h"}]),
            volumes=[volume],
        )
    )
    wait_running(agent, "hostp", "app")
    assert target.is_dir()
    (target / "from-host").write_text("hello host\n")
    assert agent.wait_for(lambda: logs(agent, "hostp", "app"), 20) == "hello host\n"
    assert status_of(agent.pod("hostp"), "app")["restartCount"] == 0


def test_host_path_missing_fails_the_mount_until_it_appears(agent: Agent, tmp_path: Path) -> None:
    """The kubelet's volume manager: FailedMount with the hostPath plugin's words, the pod
    Pending in ContainerCreating (no container made), then running once the path appears."""
    target = tmp_path / "later"
    volume = {"name": "host", "hostPath": {"path": str(target), "type": "Directory"}}
    script = "cat /h/from-host; sleep 600"
    mounted = sh("app", script, volumeMounts=[{"name": "host", "mountPath": "/h"}])
    uid = agent.apply(pod("hostmiss", mounted, volumes=[volume]))["metadata"]["uid"]
    message = f'MountVolume.SetUp failed for volume "host" : hostPath {target} doesn\'t exist'
    failed = agent.wait_for(lambda: find_event(agent, "hostmiss", "FailedMount"), 30, "FailedMount")
    assert failed["type"] == "Warning" and failed["message"] == message
    agent.wait_for(
        lambda: waiting_reason(agent.pod("hostmiss"), "app") == "ContainerCreating",
        30,
        "ContainerCreating",
    )
    assert agent.pod("hostmiss")["status"]["phase"] == "Pending"
    assert not engine_containers(agent, uid)
    assert not find_event(agent, "hostmiss", "Failed")
    target.mkdir()
    (target / "from-host").write_text("now there\n")
    wait_running(agent, "hostmiss", "app", timeout=60)
    assert agent.wait_for(lambda: logs(agent, "hostmiss", "app"), 20) == "now there\n"
