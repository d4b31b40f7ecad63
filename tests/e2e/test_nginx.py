"""The seed's first manifest, `manifests/nginx-pod.yml` (`nginx:latest`), unchanged and pulled.

Where `images/ensure-engine.sh` started the engine, dockerd has `--registry-mirror` to a
loopback registry that `images/build.sh` filled with nginx built from Debian's package, so the
pull of `docker.io/library/nginx:latest` really happens and the pod serves port 80. An engine
started otherwise has no such mirror: there this test skips (and fails under CI=true, where
ensure-engine.sh always starts the engine).
"""

from __future__ import annotations

import os
import re
import urllib.request

import docker
import docker.errors
import pytest
import yaml

from tests.e2e.conftest import ROOT, Agent
from tests.e2e.pods import find_event, status_of, wait_running

pytestmark = pytest.mark.e2e

MANIFEST = ROOT / "manifests" / "nginx-pod.yml"
MIRROR = os.environ.get("MINIKUBELET_MIRROR", "127.0.0.1:5110")  # images/mirror.sh


def _engine_mirrors() -> list[str]:
    client = docker.from_env()
    try:
        mirrors: list[str] = client.info().get("RegistryConfig", {}).get("Mirrors") or []
        return mirrors
    finally:
        client.close()


@pytest.fixture
def mirrored_engine() -> None:
    if any(MIRROR in m for m in _engine_mirrors()):
        return
    problem = (
        f"the engine has no --registry-mirror to {MIRROR} (start it with images/ensure-engine.sh)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


@pytest.fixture
def no_local_nginx() -> object:
    """The pull must happen: a local nginx:latest is untagged first, and after the test."""
    client = docker.from_env()
    try:
        try:
            client.images.remove("nginx:latest")
        except docker.errors.NotFound:
            pass
        yield None
        try:
            client.images.remove("nginx:latest")
        except docker.errors.NotFound:
            pass
    finally:
        client.close()


@pytest.mark.usefixtures("mirrored_engine", "no_local_nginx")
def test_nginx_pod_pulls_nginx_latest_and_serves_port_80(agent: Agent) -> None:
    agent.apply(yaml.safe_load(MANIFEST.read_text()))
    running = wait_running(agent, "nginx", "nginx", 120)
    pulling = find_event(agent, "nginx", "Pulling")
    assert pulling is not None and pulling["message"] == 'Pulling image "nginx:latest"'
    pulled = find_event(agent, "nginx", "Pulled")
    assert pulled is not None, agent.events("nginx")
    assert re.fullmatch(
        r'Successfully pulled image "nginx:latest" in \S+ \(\S+ including waiting\)\. '
        r"Image size: [1-9]\d* bytes\.",
        pulled["message"],
    ), pulled["message"]
    assert status_of(running, "nginx")["image"] == "nginx:latest"
    ip = running["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:80/", timeout=10) as reply:
        assert reply.status == 200
        assert b"<title>Welcome to nginx!</title>" in reply.read()
