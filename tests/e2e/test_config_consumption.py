"""Pods reading ConfigMaps and Secrets on the engine: env and volumes with the values given,
updates reaching mounted files (not env), and the kubelet's errors for what is missing."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from minikubelet.api.kinds import by_kind
from minikubelet.api.manifests import load_paths
from tests.e2e.conftest import Agent
from tests.e2e.pods import find_event, pod, sh, status_of
from tests.e2e.test_examples import EXAMPLES, log_text

pytestmark = pytest.mark.e2e
SLEEP = "exec sleep 3600"


def create(agent: Agent, body: dict[str, Any]) -> dict[str, Any]:
    kind = by_kind(body["kind"])
    created: dict[str, Any] = agent.api.request("POST", kind.path("default"), body=body)
    return created


def config_map(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def exec_in(agent: Agent, name: str, *command: str) -> str:
    """Run a command in the pod's container through the engine (the node's own containers)."""
    uid = agent.pod(name)["metadata"]["uid"]
    found = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=io.kubernetes.pod.uid={uid}",
         "--filter", "label=io.kubernetes.container.name=app"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert found, f"no running container for {name}"
    done = subprocess.run(["docker", "exec", found[0], *command], capture_output=True, text=True)
    return done.stdout


def test_example_env_volumes_and_update(agent: Agent) -> None:
    for manifest in load_paths([str(EXAMPLES / "configmap-secret.yaml")]):
        create(agent, manifest.body)

    def printed() -> str | None:
        text = log_text(agent, "config-demo", "app")
        return text if "-r--------" in text else None

    text = agent.wait_for(printed, 60, "its log")
    assert text.splitlines() == [
        "MODE=fast CFG_greeting=hello DB_PASSWORD=s3cret",
        "listen=8080",
        "s3cret",
        'app="config-demo"',
        "-r--------",
    ]
    links = exec_in(agent, "config-demo", "ls", "-a", "/etc/app")
    assert {"..data", "app.conf", "greeting", "mode"} <= set(links.split())
    # An update reaches the mounted files through the ..data swap; env stays as it was.
    body = agent.api.request("GET", "/api/v1/namespaces/default/configmaps/app-config")
    body["data"]["mode"] = "slow"
    agent.api.request("PUT", "/api/v1/namespaces/default/configmaps/app-config", body=body)
    agent.wait_for(
        lambda: exec_in(agent, "config-demo", "cat", "/etc/app/mode") == "slow", 30, "new mode"
    )
    assert exec_in(agent, "config-demo", "sh", "-c", "echo $MODE") == "fast\n"


def test_missing_objects(agent: Agent) -> None:
    ref = {"configMapKeyRef": {"name": "later", "key": "k"}}
    agent.apply(pod("env-wait", sh("app", SLEEP, env=[{"name": "K", "valueFrom": ref}])))
    agent.wait_for(
        lambda: (status_of(agent.pod("env-wait"), "app").get("state") or {}).get("waiting"),
        30,
        "waiting",
    )
    waiting = agent.wait_for(
        lambda: (
            (w := status_of(agent.pod("env-wait"), "app")["state"]["waiting"])
            and w.get("reason") == "CreateContainerConfigError"
            and w
        ),
        30,
        "CreateContainerConfigError",
    )
    assert waiting["message"] == 'configmap "later" not found'
    assert find_event(agent, "env-wait", "Failed", 'Error: configmap "later" not found')

    volume = {"name": "conf", "configMap": {"name": "later"}}
    mounted = sh("app", SLEEP, volumeMounts=[{"name": "conf", "mountPath": "/conf"}])
    agent.apply(pod("mount-wait", mounted, volumes=[volume]))
    agent.wait_for(
        lambda: find_event(
            agent,
            "mount-wait",
            "FailedMount",
            'MountVolume.SetUp failed for volume "conf" : configmap "later" not found',
        ),
        30,
        "FailedMount",
    )
    waiting = status_of(agent.pod("mount-wait"), "app")["state"]["waiting"]
    assert waiting["reason"] == "ContainerCreating"

    create(agent, config_map("later", k="v"))  # both pods start once it exists
    for name in ("env-wait", "mount-wait"):
        agent.wait_for(
            lambda n=name: "running" in status_of(agent.pod(n), "app").get("state", {}),  # type: ignore[misc]
            60,
            f"{name} running",
        )
