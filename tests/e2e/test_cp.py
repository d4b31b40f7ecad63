"""`minikubelet cp` against a live node, with kubectl 1.32's `cp` as the oracle: files and trees
both ways, the default container's note (stderr to a pod, stdout from one: kubectl's exec
ErrOut), tar's own stderr on stdout, and kubectl's errors, exit codes included.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.pods import pod, sh, wait_running
from tests.e2e.test_exec import CLIENTS
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("cp")) as running:
        running.agent.apply(pod("web", sh("app", "exec sleep 3600"), sh("side", "sleep 3600")))
        wait_running(running.agent, "web", "app")
        yield running


def _both(node: Node, cwd: Path, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """(kubectl's, minikubelet's) exit code, stdout and stderr, run from `cwd`."""
    found = []
    for argv in (
        [CLIENTS["1.32-websocket"][0], *args],
        [sys.executable, "-m", "minikubelet", *args],
    ):
        done = subprocess.run(
            argv, env={**node.env, "PYTHONPATH": str(ROOT)}, cwd=cwd, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        found.append((done.returncode, done.stdout, done.stderr.replace("minikubelet", "kubectl")))
    return found[0], found[1]


def _from_a_pod(kubectl: tuple[int, str, str], ours: tuple[int, str, str]) -> None:
    """kubectl cp from a pod exits as soon as its untar has read the archive's end, racing the
    copy of tar's stderr (its stdout may be cut: `tar: `) and tar's exit code (a missing file
    may exit 0): what kubectl printed is a prefix of ours, and its exit code 0 or ours."""
    assert ours[1].startswith(kubectl[1]) and ours[2].startswith(kubectl[2]), (kubectl, ours)
    assert kubectl[0] in (0, ours[0]), (kubectl, ours)


def _md5(node: Node, path: str) -> str:
    argv = [CLIENTS["1.32-websocket"][0], "exec", "web", "-c", "app", "--", "md5sum", path]
    done = subprocess.run(argv, env=node.env, capture_output=True, text=True, timeout=60)
    return done.stdout.split()[0] if done.returncode == 0 else done.stderr


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_file_both_ways(node: Node, tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_bytes(b"hello cp\n" * 1000)
    digest = hashlib.md5((tmp_path / "small.txt").read_bytes()).hexdigest()
    to_pod = _both(node, tmp_path, "cp", "small.txt", "web:/tmp/dest.txt")
    assert to_pod[0] == to_pod[1] == (0, "", 'Defaulted container "app" out of: app, side\n')
    assert _md5(node, "/tmp/dest.txt") == digest
    kubectl, ours = _both(node, tmp_path, "cp", "web:/tmp/dest.txt", "back.txt", "-c", "app")
    assert ours == (0, "tar: Removing leading `/' from member names\n", "")
    _from_a_pod(kubectl, ours)
    assert (tmp_path / "back.txt").read_bytes() == (tmp_path / "small.txt").read_bytes()
    # from a pod, the default container's note is on stdout, as kubectl's exec ErrOut is Out
    kubectl, ours = _both(node, tmp_path, "cp", "default/web:/tmp/dest.txt", "again.txt")
    _from_a_pod(kubectl, ours)
    assert ours[1].startswith('Defaulted container "app" out of: app, side\n')


@pytest.mark.parametrize("spec, named", [("web:/tmp/d", ""), ("default/web:/tmp/d", "default")])
def test_a_symlink_from_a_pod_is_skipped_with_kubectls_hint(
    node: Node, tmp_path: Path, spec: str, named: str
) -> None:
    """The hint's `-n` is the namespace the spec named, "" when it named none."""
    setup = [CLIENTS["1.32-websocket"][0], "exec", "web", "-c", "app", "--", "sh", "-c",
             "mkdir -p /tmp/d && echo x > /tmp/d/f && ln -sf f /tmp/d/l"]  # fmt: skip
    assert subprocess.run(setup, env=node.env, timeout=60).returncode == 0
    kubectl, ours = _both(node, tmp_path, "cp", spec, "outM", "-c", "app")
    _from_a_pod(kubectl, ours)
    assert ours[0] == 0
    assert ours[2] == (
        'warning: skipping symlink: "outM/l" -> "f" (consider using "kubectl exec -n '
        f'"{named}" "web" -- tar cf - "/tmp/d" | tar xf -")\n'
    )
    assert (tmp_path / "outM" / "f").read_text() == "x\n"


def test_a_tree_into_a_directory_and_back(node: Node, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "a.txt").write_bytes(b"a\n")
    (tree / "sub" / "b.bin").write_bytes(bytes(range(256)) * 300)
    for client, target in [("kubectl", "/tmp/k"), ("minikubelet", "/tmp/m")]:
        setup = [CLIENTS["1.32-websocket"][0], "exec", "web", "-c", "app", "--", "mkdir", target]
        assert subprocess.run(setup, env=node.env, timeout=60).returncode == 0
        argv = [CLIENTS["1.32-websocket"][0]] if client == "kubectl" else [
            sys.executable, "-m", "minikubelet"
        ]  # fmt: skip
        done = subprocess.run(
            [*argv, "cp", "tree", f"web:{target}", "-c", "app"], env=node.env, cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, ""), client
        assert (
            _md5(node, f"{target}/tree/sub/b.bin")
            == hashlib.md5((tree / "sub" / "b.bin").read_bytes()).hexdigest()
        )
    kubectl, ours = _both(node, tmp_path, "cp", "web:/tmp/m/tree", "back", "-c", "app")
    _from_a_pod(kubectl, ours)
    assert ours[0] == 0
    assert _tree(tmp_path / "back") == _tree(tree)
    assert (tmp_path / "back" / "empty").is_dir()


@pytest.mark.parametrize(
    "args",
    [
        ["cp", "nope.txt", "web:/tmp/x"],
        ["cp", "nothere:/etc/hostname", "here"],
        ["cp", "web:/etc/hostname", "web:/tmp/x"],
        ["cp", "a", "b"],
        ["cp", "a"],
        [":x", "y"],
        ["cp", "a/b/c:/x", "y"],
        ["cp", "web:", "y"],
    ],
    ids=lambda args: " ".join(args),
)
def test_errors_as_kubectls(node: Node, tmp_path: Path, args: list[str]) -> None:
    if args[0] != "cp":
        args = ["cp", *args]
    kubectl, ours = _both(node, tmp_path, *args)
    assert ours == kubectl
    assert ours[0] != 0


def test_a_missing_file_in_the_pod(node: Node, tmp_path: Path) -> None:
    kubectl, ours = _both(node, tmp_path, "cp", "web:/nope", "here", "-c", "app")
    assert ours == (
        2,
        "tar: Removing leading `/' from member names\ntar: /nope: Cannot stat: No such file or "
        "directory\ntar: Exiting with failure status due to previous errors\n",
        "command terminated with exit code 2\n",
    )
    _from_a_pod(kubectl, ours)
