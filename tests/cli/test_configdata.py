"""ConfigMaps and Secrets through the API app and the CLI: apply, get, describe, label, delete,
and the API server's refusals in kubectl's words."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.cli.main import main

CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  mode: fast
  app.conf: |
    a=1
binaryData:
  logo: iVBORw==
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  username: admin
data:
  password: czNjcmV0
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_configmap_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "cm.yaml", CONFIG_MAP)
    assert run(capsys, "apply", "-f", path) == (0, "configmap/cfg created\n", "")
    assert run(capsys, "apply", "-f", path) == (0, "configmap/cfg unchanged\n", "")
    code, out, _ = run(capsys, "get", "cm")
    assert code == 0
    assert out.splitlines() == ["NAME   DATA   AGE", "cfg    3      0s"]
    code, out, _ = run(capsys, "describe", "configmap", "cfg")
    assert code == 0
    assert "app.conf:\n----\na=1\n\n\n" in out
    assert "BinaryData\n====\nlogo: 4 bytes\n\nEvents:  <none>\n" in out
    assert run(capsys, "label", "cm", "cfg", "tier=web")[:2] == (0, "configmap/cfg labeled\n")
    code, out, _ = run(capsys, "get", "configmaps", "cfg", "-o", "json")
    assert json.loads(out)["metadata"]["labels"] == {"tier": "web"}
    assert run(capsys, "delete", "configmap", "cfg")[:2] == (0, 'configmap "cfg" deleted\n')
    code, _, err = run(capsys, "get", "cm", "cfg")
    assert (code, err) == (1, 'Error from server (NotFound): configmaps "cfg" not found\n')


def test_secret_stringdata_merged_and_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: TestClient
) -> None:
    assert run(capsys, "apply", "-f", write(tmp_path, "s.yaml", SECRET))[:2] == (
        0,
        "secret/db created\n",
    )
    stored = api.get("/api/v1/namespaces/default/secrets/db").json()
    assert stored["type"] == "Opaque"
    assert "stringData" not in stored
    assert base64.b64decode(stored["data"]["username"]) == b"admin"
    code, out, _ = run(capsys, "get", "secrets")
    assert out.splitlines() == ["NAME   TYPE     DATA   AGE", "db     Opaque   2      0s"]
    code, out, _ = run(capsys, "describe", "secret", "db")
    assert out.endswith("Type:  Opaque\n\nData\n====\npassword:  6 bytes\nusername:  5 bytes\n")
    assert "admin" not in out and "s3cret" not in out


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {'a b': x}\n",
            'The ConfigMap "bad" is invalid: data[a b]: Invalid value: "a b": a valid config key '
            "must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
            "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            id="bad key",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ndata: {a: '!!'}\n",
            'Error from server (BadRequest): error when creating "{path}": Secret in version '
            '"v1" cannot be handled as a Secret: illegal base64 data at input byte 0',
            id="bad base64",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\n"
            "type: kubernetes.io/dockerconfigjson\n",
            'The Secret "bad" is invalid: data[.dockerconfigjson]: Required value',
            id="docker config without its key",
        ),
    ],
)
def test_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: str, expected: str
) -> None:
    path = write(tmp_path, "bad.yaml", manifest)
    code, _, err = run(capsys, "apply", "-f", path)
    assert code == 1
    assert err.splitlines()[0] == expected.replace("{path}", path)


def test_immutable_secret_refuses_new_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: k}\nimmutable: true\nstringData: {a: '1'}\n"
    )
    assert run(capsys, "apply", "-f", write(tmp_path, "k.yaml", text))[0] == 0
    code, _, err = run(capsys, "apply", "-f", write(tmp_path, "k.yaml", text.replace("'1'", "'2'")))
    assert code == 1
    assert err.splitlines()[0] == (
        'The Secret "k" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )
