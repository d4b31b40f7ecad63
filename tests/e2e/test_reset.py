"""Taking a node down: `minikubelet reset` and `reset --all` leave no container, network or
state behind, and `daemon stop` finishes the deletions under way.

On an engine of the test's own (reset --all takes down every node of its engine): two nodes
with running pods, one of whose state directories is removed by hand (its containers keep
running, with nothing left that would remove them), then `reset` of the first node alone and
`reset --all`.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from minikubelet.cli.client import ApiClient
from minikubelet.clock import poll
from minikubelet.paths import StatePaths
from minikubelet.runtime.types import LABEL_INSTANCE
from tests.e2e.conftest import Agent
from tests.e2e.engines import IMAGES, PrivateEngine, private_engine
from tests.e2e.pods import engine_containers, pod, sh, status_of

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PrivateEngine]:
    with private_engine("docker", Path(tmp_path_factory.mktemp("eng-reset"))) as started:
        monkeypatch.setenv("DOCKER_HOST", started.host)
        yield started


def cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINIKUBELET_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *argv],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def node_with_a_pod(home: Path, name: str) -> str:
    """A node (its agent started by the CLI) running one pod; its instance id."""
    assert cli(home, "daemon", "start").returncode == 0
    api = ApiClient(StatePaths(home))
    try:
        api.request(
            "POST", "/api/v1/namespaces/default/pods", body=pod(name, sh("app", "sleep 600"))
        )
        running = poll(
            lambda: bool((status_of(api.request("GET", f"/api/v1/namespaces/default/pods/{name}"),
                                    "app").get("state") or {}).get("running")),
            90.0, 0.2,
        )  # fmt: skip
        assert running, f"{name} never ran"
    finally:
        api.close()
    return (home / "instance-id").read_text().strip()


def on_engine(engine: PrivateEngine) -> tuple[set[str], set[str]]:
    """The instance labels of the engine's containers and networks."""
    client = docker.DockerClient(base_url=engine.host)
    try:
        labelled: dict[str, str | list[str] | bool] = {"label": LABEL_INSTANCE}
        containers = {
            c.labels[LABEL_INSTANCE]
            for c in client.containers.list(all=True, filters=labelled, ignore_removed=True)
        }
        networks = {
            n.attrs["Labels"][LABEL_INSTANCE] for n in client.networks.list(filters=labelled)
        }
    finally:
        client.close()
    return containers, networks


def test_reset_and_reset_all_leave_nothing(engine: PrivateEngine, tmp_path: Path) -> None:
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    one = node_with_a_pod(first, "a")
    status = cli(first, "daemon", "status")
    assert status.returncode == 0
    assert "1 pods, 1 containers running, on docker://" in status.stdout, status.stdout
    two = node_with_a_pod(second, "b")
    three = node_with_a_pod(third, "c")
    assert cli(second, "daemon", "stop").returncode == 0
    shutil.rmtree(second)  # by hand: its pod's containers run on, its network stays
    assert on_engine(engine) == ({one, two, three}, {one, two, three})

    refused = cli(first, "reset")  # not a terminal: it will not go on without --force
    assert refused.returncode == 1 and "--force" in refused.stderr
    done = cli(first, "reset", "--force")
    assert done.returncode == 0, done.stderr
    assert f"node instance {one}: 2 containers and 1 networks removed" in done.stdout
    assert not first.exists()
    assert on_engine(engine) == ({two, three}, {two, three})  # the others untouched

    everything = cli(first, "reset", "--all", "--force")
    assert everything.returncode == 0, everything.stderr
    assert on_engine(engine) == (set(), set())
    assert not third.exists()  # its agent was found, stopped, and its state removed
    assert cli(third, "daemon", "status").returncode == 3
    assert set(IMAGES) <= tags(engine), "no image removed without --images"


def test_reset_images_removes_only_the_images_the_project_built(
    engine: PrivateEngine, tmp_path: Path
) -> None:
    """`--images`: the images images/build.sh makes (tags under `minikubelet/`, or a
    `minikubelet.*` label, as webapl:0.1 has) go, after the containers that used them; an
    image the project did not build stays."""
    client = docker.DockerClient(base_url=engine.host)
    try:
        client.api.import_image_from_data(_tar_of_one_file(), repository="example/kept", tag="1")
    finally:
        client.close()
    home = tmp_path / "node"
    instance = node_with_a_pod(home, "a")  # its pause and base images in use
    done = cli(home, "reset", "--force", "--images")
    assert done.returncode == 0, done.stderr
    assert f"node instance {instance}: 2 containers and 1 networks removed" in done.stdout
    for tag in IMAGES:
        assert f"image {tag} removed" in done.stdout, done.stdout
    assert "example/kept:1" not in done.stdout
    assert tags(engine) == {"example/kept:1"}
    assert on_engine(engine) == (set(), set())


def tags(engine: PrivateEngine) -> set[str]:
    client = docker.DockerClient(base_url=engine.host)
    try:
        return {tag for image in client.images.list() for tag in image.tags}
    finally:
        client.close()


def _tar_of_one_file() -> bytes:
    """A root filesystem of one file: an image with no label, built by no one here."""
    data, buffer = b"kept\n", io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo("kept.txt")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def test_daemon_stop_finishes_the_deletions_under_way(agent: Agent) -> None:
    """Force-deleted pods, then the agent stopped at once: their containers do not outlive it
    (tried by hand on 110 pods, 106 were left running); a pod not deleted runs on."""
    uids = {
        name: agent.apply(pod(name, sh("app", "sleep 600")))["metadata"]["uid"]
        for name in ("kept", "f1", "f2", "f3")
    }
    agent.wait_for(
        lambda: all(
            (status_of(agent.pod(n), "app").get("state") or {}).get("running") for n in uids
        ),
        90,
        why="every pod running",
    )
    for name in ("f1", "f2", "f3"):
        agent.api.request(
            "DELETE",
            f"/api/v1/namespaces/default/pods/{name}",
            body={"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0},
        )
    agent.stop()  # SIGTERM, as `daemon stop` sends it
    assert agent.process.returncode == 0
    for name in ("f1", "f2", "f3"):
        assert engine_containers(agent, uids[name]) == [], f"{name} outlived the agent"
    kinds = sorted(
        c.labels["io.kubernetes.container.name"]
        for c in engine_containers(agent, uids["kept"], all_=False)
    )
    assert kinds == ["POD", "app"]
