"""Protobuf request bodies, as kubectl 1.32's typed clients send them (bytes captured with
`kubectl create ... -v=9`), read into JSON and stored through the API."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from minikubelet.server.protobuf import PROTOBUF, UnsupportedMediaType, decode_object

# kubectl create secret generic capt --from-literal=a=b -n default
SECRET = bytes.fromhex(
    "6b38730 00a0c0a02 76311206 53656372"
    "65741227 0a1b0a04 63617074 12001a07"
    "64656661 756c7422 002a0032 00380042"
    "00120 60a0161 120162 1a001a00 2200".replace(" ", "")
)
# kubectl create configmap capt --from-literal=k=v --from-file=logo=<\x89PNG>
CONFIG_MAP = bytes.fromhex(
    "6b387300 0a0f0a02 76311209 436f6e66"
    "69674d61 70122c0a 140a0463 61707412"
    "001a0022 002a0032 00380042 00120 60a"
    "016b1201 761a0c0a 046c6f67 6f120489"
    "504e471a 002200".replace(" ", "")
)


def test_decode_secret() -> None:
    assert decode_object(SECRET) == {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "capt", "namespace": "default"},
        "data": {"a": "Yg=="},
    }


def test_decode_config_map() -> None:
    assert decode_object(CONFIG_MAP) == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "capt"},
        "data": {"k": "v"},
        "binaryData": {"logo": "iVBORw=="},
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"kind": "Secret"}', id="not protobuf"),
        pytest.param(b"k8s\x00\x0a\x09\x0a\x02v1\x12\x03Pod", id="a kind without a table"),
        pytest.param(b"k8s\x00\x0a\xff", id="truncated"),
    ],
)
def test_unreadable_bodies_are_415(body: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        decode_object(body)
    assert err.value.code == 415
    assert err.value.message.startswith("the body of the request was in an unknown format")


def test_api_stores_a_protobuf_secret(api: TestClient) -> None:
    created = api.post(
        "/api/v1/namespaces/default/secrets?fieldValidation=Strict",
        content=SECRET,
        headers={"Content-Type": PROTOBUF},
    )
    assert created.status_code == 201, created.text
    stored = api.get("/api/v1/namespaces/default/secrets/capt").json()
    assert (stored["type"], stored["data"]) == ("Opaque", {"a": "Yg=="})
    assert "generateName" not in stored["metadata"]
