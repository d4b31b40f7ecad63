"""Pull credentials from imagePullSecrets: `pkg/credentialprovider` keyring.go (`URLsMatchStr`,
`BasicDockerKeyring.Add`/`Lookup`, `isDefaultRegistryMatch`), config.go
(`decodeDockerConfigFieldAuth`) and secrets.go (`MakeDockerKeyring`); the cases are
keyring_test.go's (`TestUrlsMatch`, `TestDockerKeyringForGlob`, `TestKeyringMiss`,
`TestIsDefaultRegistryMatch`, `TestKeyringHitWith*DockerHub`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from minikubelet.node.credentials import (
    KeyringError,
    _default_registry_match,
    make_keyring,
    missing_secrets_message,
    urls_match,
)
from minikubelet.runtime.types import RegistryAuth

FOO = RegistryAuth("foo", "bar")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config_json(
    auths: dict[str, Any], kind: str = "kubernetes.io/dockerconfigjson"
) -> dict[str, Any]:
    key = ".dockerconfigjson" if kind.endswith("json") else ".dockercfg"
    body = {"auths": auths} if kind.endswith("json") else auths
    return {"type": kind, "data": {key: b64(json.dumps(body))}}


def entry(user: str = "foo", password: str = "bar") -> dict[str, str]:
    return {"email": "foo@bar.baz", "auth": b64(f"{user}:{password}")}


@pytest.mark.parametrize(
    ("glob", "target", "expected"),
    [
        ("*.kubernetes.io", "prefix.kubernetes.io", True),
        ("prefix.*.io", "prefix.kubernetes.io", True),
        ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
        ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
        ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
        ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
        ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
        ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
        ("*.kubernetes.io", "kubernetes.io", False),
        ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
        ("*.*.kubernetes.io", "kubernetes.io", False),
        ("kubernetes.io", "kubernetes.com", False),
        ("k*.io", "quay.io", False),
        ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
        ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
        ("127.0.0.1:5000", "127.0.0.1:5000/private", True),
        ("127.0.0.1:5000", "127.0.0.1:5001/private", False),
        ("127.0.0.1", "127.0.0.1:5000/private", False),
    ],
)
def test_urls_match(glob: str, target: str, expected: bool) -> None:
    assert urls_match(glob, target) is expected


@pytest.mark.parametrize(
    ("glob", "target"),
    [
        ("https://hello.kubernetes.io", "hello.kubernetes.io"),
        ("https://*.docker.io", "prefix.docker.io"),
        ("https://prefix.*.io", "prefix.docker.io"),
        ("https://*.docker.io/path", "prefix.docker.io/path"),
        ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
        ("https://*.docker.io:8888", "prefix.docker.io:8888"),
        ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
        ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
        ("*.docker.io:1111", "prefix.docker.io:1111/path"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_keyring_for_glob(glob: str, target: str) -> None:
    keyring = make_keyring([config_json({glob: entry()})])
    assert keyring.lookup(target + "/foo/bar") == [FOO]


@pytest.mark.parametrize(
    ("glob", "target"),
    [
        ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
        ("https://*.docker.com", "prefix.docker.io"),
        ("https://suffix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.c*", "prefix.docker.io"),
        ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
        ("suffix.*.io", "prefix.docker.io"),
        ("https://index.docker.io/v1/", "world.mesos.org/foo/bar"),
    ],
)
def test_keyring_miss(glob: str, target: str) -> None:
    assert make_keyring([config_json({glob: entry()})]).lookup(target + "/foo/bar") == []


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("foo/bar", True),
        ("docker.io/foo/bar", True),
        ("index.docker.io/foo/bar", True),
        ("foo", True),
        ("", False),
        ("registry.tld/foo/bar", False),
        ("registry:5000/foo/bar", False),
        ("myhostdocker.io/foo/bar", False),
    ],
)
def test_is_default_registry_match(image: str, expected: bool) -> None:
    assert _default_registry_match(image) is expected


@pytest.mark.parametrize(
    "image",
    ["google/docker-registry", "jenkins", "docker.io/library/nginx", "index.docker.io/v1/x"],
)
def test_docker_hub_credentials_for_hub_images(image: str) -> None:
    keyring = make_keyring([config_json({"https://index.docker.io/v1/": entry()})])
    assert keyring.lookup(image) == [FOO]


def test_most_specific_key_first_and_every_secret_in_order() -> None:
    """Reverse-sorted keys: `host/team` before `host`; secrets of one key in pod order."""
    first = config_json({"reg.example:5000": entry("a", "1")})
    second = config_json(
        {"reg.example:5000/team": entry("b", "2"), "reg.example:5000": entry("c", "3")}
    )
    found = make_keyring([first, second]).lookup("reg.example:5000/team/app")
    assert found == [RegistryAuth("b", "2"), RegistryAuth("a", "1"), RegistryAuth("c", "3")]


def test_username_and_password_fields_and_the_dockercfg_type() -> None:
    plain = config_json({"127.0.0.1:5000": {"username": "u", "password": "p"}})
    legacy = config_json({"127.0.0.1:5000": entry("l", "x:y")}, kind="kubernetes.io/dockercfg")
    found = make_keyring([plain, legacy]).lookup("127.0.0.1:5000/private")
    assert found == [RegistryAuth("u", "p"), RegistryAuth("l", "x:y")]  # SplitN(":", 2)


def test_other_secret_types_are_ignored() -> None:
    opaque = {"type": "Opaque", "data": {".dockerconfigjson": b64('{"auths": {}}')}}
    empty = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": ""}}
    assert make_keyring([opaque, empty]).lookup("127.0.0.1:5000/x") == []


def test_an_auth_field_without_a_colon_is_the_kubelets_error() -> None:
    bad = config_json({"127.0.0.1:5000": {"auth": b64("nocolon")}})
    with pytest.raises(KeyringError) as caught:
        make_keyring([bad])
    assert str(caught.value) == (
        "unable to parse auth field, must be formatted as base64(username:password)"
    )


def test_missing_secrets_event_message() -> None:
    """`getPullSecretsForPod`'s FailedToRetrieveImagePullSecret event."""
    assert missing_secrets_message(["a", "b"]) == (
        "Unable to retrieve some image pull secrets (a, b); "
        "attempting to pull the image may not succeed."
    )
