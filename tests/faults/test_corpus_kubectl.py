"""kubectl is the oracle for the fault corpus: the real kubectl 1.32 and `minikubelet apply`
each apply every corpus file to the same node API (the agent's app over a real store, served
on loopback HTTP in a thread; no engine needed), and must print the same stdout and stderr,
exit with the same code and leave the same pods.

kubectl does its client-side work for real here: parsing (go-yaml v2, encoding/json), its
validation (`apiVersion not set`, `invalid object to validate`), discovery, and the requests it
then sends. Server-side words come from the node's server for both, so for them this checks how
the CLI relays them; tests/api checks the words against the API server's sources.

KUBECTL_DIFFERS names each file where they differ and why. It is strict: a listed file on
which both now agree fails, so the list shrinks as the node catches up.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from minikubelet.cli import client as cli_client
from minikubelet.cli.main import main
from minikubelet.cli.transport import HttpxTransport
from minikubelet.clock import FakeClock
from minikubelet.paths import StatePaths
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store
from tests.faults.test_corpus import CORPUS
from tests.needs import unavailable

_NO_OPENAPI_V2 = (
    "the node serves no /openapi/v2, which kubectl 1.32 falls back to for a kind the node's "
    "/openapi/v3 lacks, and fails (`failed to download openapi`); against an API server that "
    "serves it, kubectl says what the node's CLI says (`resource mapping not found ... ensure "
    "CRDs are installed first`)"
)
_PARTIAL = (
    "kubectl creates the objects before the failing one (pod {pod}) and then reports the error; "
    "the node's CLI reads the whole file first and creates nothing"
)
_APPLY_GET = (
    "kubectl apply first GETs the object by name and refuses, client-side, a name it cannot put "
    "in a URL (`{why}`); the node's CLI sends the object and the API server's validation speaks"
)
_METADATA = (
    "kubectl decodes each object's metadata as ObjectMeta before sending it (`unable to decode "
    '"FILE": json: cannot unmarshal ...`); the node\'s CLI leaves that to the API server, which '
    "refuses it in the same terms"
)
_DEEP = (
    "hostile input: nesting deeper than 100 levels is refused by the node's reader, where "
    "kubectl passes the document to the API server{server}"
)
KUBECTL_DIFFERS: dict[str, str] = {
    "kind-deployment.yaml": _NO_OPENAPI_V2,
    "kind-lowercase.yaml": _NO_OPENAPI_V2,
    "kind-pod-v2.yaml": _NO_OPENAPI_V2,
    "list-one-bad-kind.json": _NO_OPENAPI_V2,
    "multidoc-second-other-kind.yaml": _NO_OPENAPI_V2 + "; and " + _PARTIAL.format(pod="first2"),
    "multidoc-second-broken.yaml": _PARTIAL.format(pod="first"),
    "missing-name.yaml": _APPLY_GET.format(why="resource name may not be empty"),
    "type-metadata-null.yaml": _APPLY_GET.format(why="resource name may not be empty"),
    "name-dots-slash.yaml": _APPLY_GET.format(why="invalid resource name: may not contain '/'"),
    "name-shell-subst.yaml": _APPLY_GET.format(why="invalid resource name: may not contain '/'"),
    "name-generate-bad.yaml": _APPLY_GET.format(why="cannot use generate name with apply"),
    "type-label-list.yaml": _METADATA,
    "type-label-number.yaml": _METADATA,
    "type-metadata-string.yaml": _METADATA,
    "type-name-number.yaml": _METADATA,
    "nesting-deep-json.json": _DEEP.format(
        server=" (the node's server then refuses it: `exceeded max depth`, where Go's decoder "
        "would go on to 10,000 levels)"
    ),
    "nesting-deep-yaml.yaml": _DEEP.format(server=""),
}


def kubectl_132() -> str:
    """The kubectl 1.32 binary: `kubectl` itself, or the `kubectl.1.32` beside it (gcloud's
    dispatcher keeps one per minor version)."""
    found = shutil.which("kubectl")
    if found is None:
        unavailable("kubectl is not installed", "install kubectl 1.32")
    real = Path(found).resolve()
    sibling = real.parent / "kubectl.1.32"
    if sibling.exists():
        return str(sibling)
    out = subprocess.run(
        [str(real), "version", "--client", "-o", "json"], capture_output=True, text=True
    )
    minor = json.loads(out.stdout or "{}").get("clientVersion", {}).get("minor", "")
    if minor != "32":
        unavailable(f"kubectl at {real} is 1.{minor}, not 1.32", "install kubectl 1.32")
    return str(real)


@dataclass
class Node:
    store: Store
    url: str
    kubeconfig: Path
    home: Path

    def pods(self) -> list[str]:
        return sorted(p["metadata"]["name"] for p in self.store.list("Pod", None)[0])

    def clear(self) -> None:
        for pod in self.store.list("Pod", None)[0]:
            self.store.delete("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    home = tmp_path_factory.mktemp("oracle")
    with Store.open(home / "state.db", FakeClock()) as store:
        app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1"))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        kubeconfig = home / "kubeconfig"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "node", "cluster": {"server": url}}],
                    "users": [{"name": "user", "user": {}}],
                    "contexts": [{"name": "node", "context": {"cluster": "node", "user": "user"}}],
                    "current-context": "node",
                }
            )
        )
        try:
            yield Node(store, url, kubeconfig, home)
        finally:
            server.should_exit = True
            thread.join(30)
            sock.close()


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    pods: list[str]


def _kubectl(node: Node, binary: str, name: str) -> Outcome:
    env = {**os.environ, "KUBECONFIG": str(node.kubeconfig), "HOME": str(node.home)}
    done = subprocess.run(
        [binary, "apply", "-f", name], cwd=CORPUS, env=env, capture_output=True, text=True
    )
    return Outcome(done.returncode, done.stdout, done.stderr, node.pods())


def _minikubelet(node: Node, name: str, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.chdir(CORPUS)
    out, err = io.StringIO(), io.StringIO()
    with httpx.Client(base_url=node.url) as http:
        transport = HttpxTransport(http)
        monkeypatch.setattr(
            cli_client,
            "connect",
            lambda paths=None: cli_client.ApiClient(StatePaths(node.home), transport=transport),
        )
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["apply", "-f", name])
    return Outcome(code, out.getvalue(), err.getvalue(), node.pods())


def test_every_listed_file_is_in_the_corpus() -> None:
    assert set(KUBECTL_DIFFERS) <= {p.name for p in CORPUS.iterdir()}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir()))
def test_minikubelet_apply_does_what_kubectl_apply_does(
    node: Node, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = kubectl_132()
    node.clear()
    kubectl = _kubectl(node, binary, name)
    node.clear()
    ours = _minikubelet(node, name, monkeypatch)
    node.clear()
    if name in KUBECTL_DIFFERS:
        assert ours != kubectl, f"now the same as kubectl: take {name} off KUBECTL_DIFFERS"
    else:
        assert ours == kubectl
