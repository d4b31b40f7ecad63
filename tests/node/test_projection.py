"""Config volumes: the files of each source, and the atomic writer that puts them on disk."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minikubelet.api.create import decode_pod
from minikubelet.api.models import Pod
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.node.atomic_writer import DATA_DIR, PathError, validate_path, write_payload
from minikubelet.node.projection import FileProjection, VolumeError, payload
from tests.node.test_envvars import CFG, SEC, Objects

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
BIN = {
    "kind": "ConfigMap",
    "metadata": {"name": "bin"},
    "binaryData": {"logo": base64.b64encode(b"\x89PNG").decode()},
}


def pod(volume: JSON) -> Pod:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u1",
            "labels": {"app": "w", "tier": "front"},
        },
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "resources": {"limits": {"memory": "64Mi"}}}
            ],
            "volumes": [{"name": "v", **volume}],
        },
    }
    return decode_pod(body)


def files_of(volume: JSON) -> dict[str, tuple[bytes, int]]:
    p = pod(volume)
    raw = p.spec.volumes[0]  # type: ignore[index]
    body = {"name": raw.name, **raw.extra}
    found = payload(p, body, Objects(CFG, SEC, BIN), {"cpu": Quantity.parse("2")})
    return {path: (f.data, f.mode) for path, f in found.items()}


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        pytest.param(
            {"configMap": {"name": "cfg"}},
            {"MODE": (b"fast", 0o644), "a.b": (b"1", 0o644)},
            id="configMap, every key, mode 0644 by default",
        ),
        pytest.param(
            {"configMap": {"name": "bin", "defaultMode": 0o400}},
            {"logo": (b"\x89PNG", 0o400)},
            id="binaryData, defaultMode",
        ),
        pytest.param(
            {
                "configMap": {
                    "name": "cfg",
                    "items": [{"key": "MODE", "path": "conf/mode", "mode": 0o600}],
                }
            },
            {"conf/mode": (b"fast", 0o600)},
            id="items with path and mode",
        ),
        pytest.param(
            {"secret": {"secretName": "db"}}, {"PASSWORD": (b"s3cret", 0o644)}, id="secret decoded"
        ),
        pytest.param(
            {"secret": {"secretName": "nope", "optional": True}}, {}, id="optional missing: empty"
        ),
        pytest.param(
            {"configMap": {"name": "cfg", "optional": True, "items": [{"key": "x", "path": "x"}]}},
            {},
            id="optional missing item skipped",
        ),
        pytest.param(
            {
                "downwardAPI": {
                    "items": [
                        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                        {"path": "./name", "fieldRef": {"fieldPath": "metadata.name"}},
                        {
                            "path": "mem",
                            "resourceFieldRef": {
                                "containerName": "c",
                                "resource": "limits.memory",
                                "divisor": "1Mi",
                            },
                        },
                    ]
                }
            },
            {
                "labels": (b'app="w"\ntier="front"', 0o644),
                "name": (b"web", 0o644),
                "mem": (b"64", 0o644),
            },
            id="downwardAPI: labels map, cleaned path, resource",
        ),
        pytest.param(
            {
                "projected": {
                    "defaultMode": 0o440,
                    "sources": [
                        {"configMap": {"name": "cfg", "items": [{"key": "MODE", "path": "mode"}]}},
                        {"secret": {"name": "db"}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}
                                ]
                            }
                        },
                    ],
                }
            },
            {"mode": (b"fast", 0o440), "PASSWORD": (b"s3cret", 0o440), "ns": (b"default", 0o440)},
            id="projected sources share defaultMode",
        ),
    ],
)
def test_payload(volume: JSON, expected: dict[str, tuple[bytes, int]]) -> None:
    assert files_of(volume) == expected


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        pytest.param({"configMap": {"name": "nope"}}, 'configmap "nope" not found', id="configmap"),
        pytest.param({"secret": {"secretName": "nope"}}, 'secret "nope" not found', id="secret"),
        pytest.param(
            {"configMap": {"name": "cfg", "items": [{"key": "x", "path": "x"}]}},
            "configmap references non-existent config key: x",
            id="configmap key",
        ),
        pytest.param(
            {"secret": {"secretName": "db", "items": [{"key": "x", "path": "x"}]}},
            "secret references non-existent secret key: x",
            id="secret key",
        ),
        pytest.param(
            {"projected": {"sources": [{"configMap": {"name": "a"}}, {"secret": {"name": "b"}}]}},
            '[configmap "a" not found, secret "b" not found]',
            id="projected aggregates",
        ),
    ],
)
def test_payload_errors(volume: JSON, message: str) -> None:
    with pytest.raises(VolumeError) as err:
        files_of(volume)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("", 'invalid path: must not be empty: ""', id="empty"),
        pytest.param("/etc/x", "invalid path: must be relative path: /etc/x", id="absolute"),
        pytest.param("a/../b", "invalid path: must not contain '..': a/../b", id="backstep"),
        pytest.param("..x/y", "invalid path: must not start with '..': ..x/y", id="dotdot prefix"),
        pytest.param(
            "a" * 256,
            "invalid path: filenames must be less than or equal to 255 characters",
            id="long name",
        ),
    ],
)
def test_validate_path(path: str, message: str) -> None:
    with pytest.raises(PathError) as err:
        validate_path(path)
    assert str(err.value) == message


def listing(target: Path) -> dict[str, str]:
    """Visible entries: symlink targets and the content read through them."""
    out = {}
    for entry in sorted(os.listdir(target)):
        if entry.startswith(".."):
            continue
        link = os.readlink(target / entry)
        out[entry] = link
    return out


def test_atomic_writer_layout_update_and_removal(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    first = {"a": FileProjection(b"1", 0o644), "dir/b": FileProjection(b"2", 0o600)}
    assert write_payload(target, first, NOW) is True
    data = os.readlink(target / DATA_DIR)
    assert data.startswith("..2025_01_01_12_00_00.")
    assert oct((target / data).stat().st_mode & 0o777) == "0o755"
    assert listing(target) == {"a": "..data/a", "dir": "..data/dir"}
    assert (target / "dir" / "b").read_bytes() == b"2"
    assert oct((target / data / "dir" / "b").stat().st_mode & 0o777) == "0o600"

    assert write_payload(target, first, NOW) is False  # same bytes: nothing written
    assert os.readlink(target / DATA_DIR) == data

    second = {"a": FileProjection(b"changed", 0o644), "c": FileProjection(b"3", 0o644)}
    assert write_payload(target, second, NOW) is True
    new_data = os.readlink(target / DATA_DIR)
    assert new_data != data and not (target / data).exists()
    assert listing(target) == {"a": "..data/a", "c": "..data/c"}
    assert (target / "a").read_bytes() == b"changed"
    assert not (target / "..data_tmp").exists()

    assert write_payload(target, {}, NOW) is True  # an object that lost every key
    assert listing(target) == {}


def test_atomic_writer_reader_sees_whole_versions(tmp_path: Path) -> None:
    """An open directory handle on the old version keeps reading the old bytes."""
    target = tmp_path / "vol"
    write_payload(target, {"k": FileProjection(b"old", 0o644)}, NOW)
    with open(target / "k", "rb") as before:
        write_payload(target, {"k": FileProjection(b"new", 0o644)}, NOW)
        assert before.read() == b"old"
    assert (target / "k").read_bytes() == b"new"
