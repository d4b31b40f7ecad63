"""ConfigMap and Secret in the API server: decoding, stringData, defaults, validation, updates.

Expected texts are kube-apiserver 1.32's (`ValidateConfigMap`, `ValidateSecret`, their updates,
the v1 decoder), spelled out here independently of the implementation.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from minikubelet.api import configdata, gobase64
from minikubelet.api.raw import JSON
from minikubelet.errors import BadRequest

CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
MIB = 1024 * 1024


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def secret(**fields: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, **fields}


def config_map(**fields: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, **fields}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("aGVsbG8=", b"hello", id="padded"),
        pytest.param("aGVs\nbG8=\r\n", b"hello", id="newlines skipped"),
        pytest.param("", b"", id="empty"),
        pytest.param("abc", "illegal base64 data at input byte 0", id="short final group"),
        pytest.param("abcde", "illegal base64 data at input byte 4", id="one symbol left"),
        pytest.param("aGVsbG8", "illegal base64 data at input byte 4", id="missing padding"),
        pytest.param("ab=c", "illegal base64 data at input byte 2", id="bad second pad"),
        pytest.param("YQ=", "illegal base64 data at input byte 3", id="one pad of two"),
        pytest.param("YQ==x", "illegal base64 data at input byte 4", id="data after padding"),
        pytest.param("a===", "illegal base64 data at input byte 1", id="pad too early"),
        pytest.param("hé==", "illegal base64 data at input byte 1", id="non-ASCII byte"),
    ],
)
def test_go_base64(text: str, expected: bytes | str) -> None:
    if isinstance(expected, bytes):
        assert gobase64.decode(text) == expected
    else:
        with pytest.raises(gobase64.CorruptInput) as err:
            gobase64.decode(text)
        assert str(err.value) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            secret(stringData={"user": "admin"}),
            {"data": {"user": b64("admin")}, "type": "Opaque"},
            id="stringData becomes data, type defaults",
        ),
        pytest.param(
            secret(data={"user": b64("x"), "a": b64("1")}, stringData={"user": "admin"}),
            {"data": {"user": b64("admin"), "a": b64("1")}, "type": "Opaque"},
            id="a stringData key wins over data",
        ),
        pytest.param(
            secret(data={"k": "YQ\n=="}, type="kubernetes.io/basic-auth"),
            {"data": {"k": "YQ=="}, "type": "kubernetes.io/basic-auth"},
            id="base64 re-encoded canonically, type kept",
        ),
        pytest.param(secret(data=None), {"type": "Opaque"}, id="null data dropped"),
    ],
)
def test_decode_secret(body: JSON, expected: JSON) -> None:
    obj = configdata.decode_secret(body)
    assert {k: v for k, v in obj.items() if k in ("data", "stringData", "type")} == expected


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        pytest.param(
            "Secret",
            secret(data={"a": "not base64!"}),
            'Secret in version "v1" cannot be handled as a Secret: '
            "illegal base64 data at input byte 3",
            id="secret data not base64",
        ),
        pytest.param(
            "ConfigMap",
            config_map(binaryData={"a": "YQ="}),
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
            "illegal base64 data at input byte 3",
            id="binaryData not base64",
        ),
        pytest.param(
            "Secret",
            secret(data={"a": 1}),
            'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal '
            "number into Go struct field Secret.data of type []uint8",
            id="secret data value a number",
        ),
        pytest.param(
            "ConfigMap",
            config_map(data={"a": True}),
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
            "bool into Go struct field ConfigMap.data of type string",
            id="configmap data value a bool",
        ),
        pytest.param(
            "ConfigMap",
            config_map(data=["a"]),
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
            "array into Go struct field ConfigMap.data of type map[string]string",
            id="configmap data a list",
        ),
        pytest.param(
            "Secret",
            secret(spec={}),
            'Secret in version "v1" cannot be handled as a Secret: '
            'strict decoding error: unknown field "spec"',
            id="unknown field",
        ),
    ],
)
def test_decoding_errors(kind: str, body: JSON, message: str) -> None:
    decode = configdata.decode_secret if kind == "Secret" else configdata.decode_config_map
    with pytest.raises(BadRequest) as err:
        decode(body)
    assert err.value.message == message


def test_unknown_fields_named_for_field_validation() -> None:
    body = config_map(extra=1, metadata={"name": "c", "nope": 2})
    assert configdata.unknown_fields(body, "ConfigMap") == ["metadata.nope", "extra"]


def lines(errors: list[Any]) -> list[str]:
    return [str(e) for e in errors]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(config_map(data={"a.b-c_D": "1"}), [], id="valid keys"),
        pytest.param(
            config_map(data={"bad key": "1", ".": "x"}),
            [
                "data[.]: Invalid value: \".\": must not be '.'",
                f'data[bad key]: Invalid value: "bad key": {CONFIG_KEY}',
            ],
            id="bad keys, sorted",
        ),
        pytest.param(
            config_map(data={"..x": "1"}, binaryData={"..x": b64("1")}),
            [
                "data[..x]: Invalid value: \"..x\": must not start with '..'",
                'data[..x]: Invalid value: "..x": duplicate of key present in binaryData',
                "binaryData[..x]: Invalid value: \"..x\": must not start with '..'",
            ],
            id="key in both maps",
        ),
        pytest.param(
            config_map(data={"a": "x" * MIB}, binaryData={"b": b64("y")}),
            ["[]: Too long: must have at most 1048576 bytes"],
            id="over 1 MiB, data and binaryData together",
        ),
        pytest.param(config_map(data={"a": "x" * MIB}), [], id="exactly 1 MiB"),
        pytest.param(
            config_map(data={"k" * 254: "1"}),
            [
                f'data[{"k" * 254}]: Invalid value: "{"k" * 254}": '
                "must be no more than 253 characters"
            ],
            id="key too long",
        ),
    ],
)
def test_validate_config_map(body: JSON, expected: list[str]) -> None:
    obj = configdata.decode_config_map(body)
    assert lines(configdata.validate_config_map(obj)) == expected


DOCKER_JSON = '{"auths":{"r.example":{"username":"u","password":"p","auth":"dTpw"}}}'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(secret(stringData={"k": "v"}), [], id="opaque"),
        pytest.param(secret(type="example.com/any"), [], id="a type of one's own"),
        pytest.param(
            secret(stringData={"bad/key": "v"}),
            [f'data[bad/key]: Invalid value: "bad/key": {CONFIG_KEY}'],
            id="stringData key checked as data",
        ),
        pytest.param(
            secret(data={"a": b64(b"x" * MIB), "b": b64("y")}),
            ["data: Too long: must have at most 1048576 bytes"],
            id="over 1 MiB decoded",
        ),
        pytest.param(
            secret(type="kubernetes.io/dockerconfigjson"),
            ["data[.dockerconfigjson]: Required value"],
            id="dockerconfigjson without its key",
        ),
        pytest.param(
            secret(type="kubernetes.io/dockerconfigjson", stringData={".dockerconfigjson": "{"}),
            [
                'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": '
                "unexpected end of JSON input"
            ],
            id="dockerconfigjson not JSON",
        ),
        pytest.param(
            secret(type="kubernetes.io/dockerconfigjson", stringData={".dockerconfigjson": "[1]"}),
            [
                'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": '
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            ],
            id="dockerconfigjson not an object",
        ),
        pytest.param(
            secret(
                type="kubernetes.io/dockerconfigjson",
                stringData={".dockerconfigjson": DOCKER_JSON},
            ),
            [],
            id="dockerconfigjson valid",
        ),
        pytest.param(
            secret(type="kubernetes.io/dockercfg", stringData={".dockercfg": "x"}),
            [
                'data[.dockercfg]: Invalid value: "<secret contents redacted>": '
                "invalid character 'x' looking for beginning of value"
            ],
            id="dockercfg not JSON",
        ),
        pytest.param(
            secret(type="kubernetes.io/basic-auth"),
            ["data[username]: Required value", "data[password]: Required value"],
            id="basic-auth needs a user or a password",
        ),
        pytest.param(
            secret(type="kubernetes.io/basic-auth", stringData={"password": ""}),
            [],
            id="basic-auth with an empty password",
        ),
        pytest.param(
            secret(type="kubernetes.io/ssh-auth", stringData={"ssh-privatekey": ""}),
            ["data[ssh-privatekey]: Required value"],
            id="ssh-auth needs a non-empty key",
        ),
        pytest.param(
            secret(type="kubernetes.io/tls", stringData={"tls.key": "k"}),
            ["data[tls.crt]: Required value"],
            id="tls needs both",
        ),
        pytest.param(
            secret(type="kubernetes.io/service-account-token"),
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
            id="service-account-token needs its annotation",
        ),
    ],
)
def test_validate_secret(body: JSON, expected: list[str]) -> None:
    obj = configdata.decode_secret(body)
    assert lines(configdata.validate_secret(obj)) == expected


IMMUTABLE = "Forbidden: field is immutable when `immutable` is set"
Mutate = Callable[[JSON], None]


@pytest.mark.parametrize(
    ("old", "change", "expected"),
    [
        pytest.param(
            secret(stringData={"a": "1"}),
            lambda s: s.update(data={"a": b64("2")}),
            [],
            id="data may change",
        ),
        pytest.param(
            secret(stringData={"a": "1"}),
            lambda s: s.update(type="kubernetes.io/basic-auth"),
            ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable'],
            id="type is immutable",
        ),
        pytest.param(
            secret(stringData={"a": "1"}, immutable=True),
            lambda s: s.update(data={"a": b64("2")}),
            [f"data: {IMMUTABLE}"],
            id="immutable data",
        ),
        pytest.param(
            secret(stringData={"a": "1"}, immutable=True),
            lambda s: s.update(immutable=False),
            [f"immutable: {IMMUTABLE}"],
            id="immutable cannot be unset",
        ),
        pytest.param(
            secret(stringData={"a": "1"}, immutable=True),
            lambda s: s["metadata"].update(labels={"x": "y"}),
            [],
            id="immutable: labels may change",
        ),
    ],
)
def test_validate_secret_update(old: JSON, change: Mutate, expected: list[str]) -> None:
    before = configdata.decode_secret(old)
    after = configdata.decode_secret(before)
    change(after)
    assert lines(configdata.validate_secret_update(after, before)) == expected


def test_validate_config_map_update() -> None:
    old = configdata.decode_config_map(config_map(data={"a": "1"}, immutable=True))
    new = configdata.decode_config_map(config_map(binaryData={"b": b64("x")}))
    assert lines(configdata.validate_config_map_update(new, old)) == [
        f"immutable: {IMMUTABLE}",
        f"data: {IMMUTABLE}",
        f"binaryData: {IMMUTABLE}",
    ]
    assert configdata.validate_config_map_update(new, new) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"tls.crt": "x", "tls.key": "y"},
            ["tls: failed to find any PEM data in certificate input"],
            id="no PEM",
        ),
        pytest.param(
            {"tls.crt": "-----BEGIN CERTIFICATE-----", "tls.key": ""},
            ["tls: failed to find any PEM data in key input"],
            id="no key PEM",
        ),
    ],
)
def test_tls_warnings(data: dict[str, str], expected: list[str]) -> None:
    obj = configdata.decode_secret(secret(type="kubernetes.io/tls", stringData=data))
    assert configdata.secret_warnings(obj) == expected
    assert configdata.secret_warnings(configdata.decode_secret(secret())) == []
