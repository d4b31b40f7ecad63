"""The real kubectl 1.32 creates, reads and deletes ConfigMaps and Secrets on a live node: its
`create configmap|secret` subcommands send protobuf, `get` reads Tables, `describe` the objects."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("configdata")) as running:
        yield running


def test_kubectl_create_configmap_from_literal_and_file(node: Node, tmp_path: Path) -> None:
    conf = tmp_path / "app.conf"
    conf.write_text("a=1\n")
    created = node.kubectl(
        "create", "configmap", "cfg", "--from-literal=mode=fast", f"--from-file={conf}"
    )
    assert created.stdout == "configmap/cfg created\n"
    again = node.kubectl("create", "configmap", "cfg", "--from-literal=k=v", check=False)
    assert again.returncode == 1
    assert again.stderr == 'error: failed to create configmap: configmaps "cfg" already exists\n'
    assert node.kubectl("get", "cm").stdout.splitlines()[1].split()[:2] == ["cfg", "2"]
    mine = node.minikubelet("get", "configmaps").stdout.splitlines()[1].split()[:2]
    assert mine == ["cfg", "2"]
    described = node.kubectl("describe", "configmap", "cfg").stdout
    # kubectl walks Go maps, so the keys come in random order; minikubelet sorts them.
    assert "app.conf:\n----\na=1\n\n" in described and "mode:\n----\nfast\n\n" in described
    assert described.endswith("BinaryData\n====\n\nEvents:  <none>\n")
    mine_text = node.minikubelet("describe", "configmap", "cfg").stdout
    assert sorted(mine_text.splitlines()) == sorted(described.splitlines())  # kubectl, the oracle
    assert node.kubectl("delete", "cm", "cfg").stdout == 'configmap "cfg" deleted\n'
    gone = node.kubectl("get", "cm", "cfg", check=False)
    assert gone.stderr == 'Error from server (NotFound): configmaps "cfg" not found\n'


def test_kubectl_create_secrets(node: Node) -> None:
    generic = node.kubectl(
        "create", "secret", "generic", "db", "--from-literal=username=admin",
        "--from-literal=password=s3cret",
    )  # fmt: skip
    assert generic.stdout == "secret/db created\n"
    registry = node.kubectl(
        "create", "secret", "docker-registry", "reg", "--docker-server=registry.example",
        "--docker-username=u", "--docker-password=p",
    )  # fmt: skip
    assert registry.stdout == "secret/reg created\n"
    rows = [line.split() for line in node.kubectl("get", "secrets").stdout.splitlines()]
    assert [r[:3] for r in rows] == [
        ["NAME", "TYPE", "DATA"],
        ["db", "Opaque", "2"],
        ["reg", "kubernetes.io/dockerconfigjson", "1"],
    ]
    described = node.kubectl("describe", "secret", "db").stdout
    head, data = described.split("Data\n====\n")
    assert sorted(data.splitlines()) == ["password:  6 bytes", "username:  5 bytes"]
    assert "s3cret" not in described
    mine = node.minikubelet("describe", "secret", "db").stdout
    assert mine == f"{head}Data\n====\npassword:  6 bytes\nusername:  5 bytes\n"
    stored = json.loads(node.kubectl("get", "secret", "reg", "-o", "json").stdout)
    config = json.loads(base64.b64decode(stored["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example"]["username"] == "u"
    opaque = node.kubectl("get", "secrets", "--field-selector", "type=Opaque", "-o", "name")
    assert opaque.stdout == "secret/db\n"
    node.kubectl("delete", "secret", "db", "reg")
    assert node.kubectl("get", "secrets", check=False).stderr == (
        "No resources found in default namespace.\n"
    )
