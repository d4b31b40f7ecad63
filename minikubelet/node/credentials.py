"""Registry credentials from a pod's `imagePullSecrets`, as the 1.32 kubelet finds them.

Ported from `pkg/credentialprovider`: `secrets.MakeDockerKeyring` (a Secret of type
`kubernetes.io/dockerconfigjson` gives its `.dockerconfigjson` `auths`, one of type
`kubernetes.io/dockercfg` its `.dockercfg`), `DockerConfigEntry.UnmarshalJSON` (`auth` is
base64 `user:password` and wins over `username`/`password`), `BasicDockerKeyring.Add` (keys
without scheme, `/v1/` and `/v2/` paths meaning the host) and `Lookup` (`URLsMatchStr`: same
port, as many host labels, each a glob, the key's path a prefix of the image's; the most
specific key first; Docker Hub's `index.docker.io` entry for Hub images when nothing else
matches). `kuberuntime_image.go` `PullImage` then tries each match in order.

The node's own keyring (the kubelet's `~/.docker/config.json` providers) is the engine's: a
pull with no matching secret sends no credentials and the engine's client config applies.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from minikubelet.api.gobase64 import CorruptInput, decode
from minikubelet.node.imageref import DEFAULT_DOMAIN
from minikubelet.runtime.types import RegistryAuth

__all__ = [
    "DOCKER_CONFIG_JSON",
    "DOCKERCFG",
    "Keyring",
    "KeyringError",
    "make_keyring",
    "missing_secrets_message",
]

DOCKER_CONFIG_JSON = ("kubernetes.io/dockerconfigjson", ".dockerconfigjson")
DOCKERCFG = ("kubernetes.io/dockercfg", ".dockercfg")
_DEFAULT_REGISTRY_HOST = "index.docker.io"


class KeyringError(ValueError):
    """A pull secret's content does not decode; the pull fails with this message."""


def missing_secrets_message(names: Iterable[str]) -> str:
    """The `FailedToRetrieveImagePullSecret` event (`getPullSecretsForPod`)."""
    return (
        f"Unable to retrieve some image pull secrets ({', '.join(names)}); "
        "attempting to pull the image may not succeed."
    )


def _field(obj: Mapping[str, Any], name: str) -> Any:
    """Go's encoding/json matches field names case-insensitively (exact match first)."""
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _decode_auth(field: str) -> tuple[str, str]:
    """`decodeDockerConfigFieldAuth`: padded input by StdEncoding, unpadded by RawStdEncoding."""
    try:
        if field.strip().endswith("="):
            raw = decode(field)
        else:
            raw = base64.b64decode(field + "=" * (-len(field) % 4), validate=True)
    except (CorruptInput, binascii.Error) as exc:
        raise KeyringError(
            str(exc) if isinstance(exc, CorruptInput) else "illegal base64 data"
        ) from exc
    user, sep, password = raw.decode("utf-8", "replace").partition(":")
    if not sep:
        raise KeyringError(
            "unable to parse auth field, must be formatted as base64(username:password)"
        )
    return user, password


def _entry(value: Any) -> RegistryAuth:
    """`DockerConfigEntry.UnmarshalJSON`, then `DockerConfigEntryToLazyAuthConfiguration`."""
    if not isinstance(value, Mapping):
        raise KeyringError(
            "json: cannot unmarshal into Go value of type credentialprovider.DockerConfigEntry"
        )
    auth = _text(_field(value, "auth"))
    if auth:
        user, password = _decode_auth(auth)
        return RegistryAuth(username=user, password=password)
    return RegistryAuth(
        username=_text(_field(value, "username")), password=_text(_field(value, "password"))
    )


def _config(secret: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The registry map a Secret carries, or None when it is not a docker config Secret."""
    kind = secret.get("type")
    data = secret.get("data") or {}
    for secret_type, key in (DOCKER_CONFIG_JSON, DOCKERCFG):
        if kind != secret_type or not data.get(key):
            continue
        try:
            parsed = json.loads(decode(str(data[key])))
        except (CorruptInput, ValueError) as exc:
            raise KeyringError(f"invalid {key}: {exc}") from exc
        if secret_type == DOCKER_CONFIG_JSON[0]:
            parsed = _field(parsed, "auths") if isinstance(parsed, Mapping) else None
            parsed = parsed or {}
        if not isinstance(parsed, Mapping):
            raise KeyringError(f"invalid {key}: not a JSON object")
        return parsed
    return None


def _key(location: str) -> str | None:
    """`BasicDockerKeyring.Add`'s index key: host, plus the path unless it is `/`, `/v1/`…"""
    value = location
    if not value.startswith(("https://", "http://")):
        value = "https://" + value
    try:
        parsed = urlsplit(value)
        host = parsed.netloc.rpartition("@")[2]
    except ValueError:
        return None
    path = parsed.path
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return host + path if path and path != "/" else host


def _split(target: str) -> tuple[list[str], str, str]:
    """`parseSchemelessURL` + `splitURL`: host labels, port, path."""
    parsed = urlsplit("https://" + target)
    host = parsed.netloc.rpartition("@")[2]
    name, port = host, ""
    if host.startswith("["):
        inner, _, rest = host[1:].partition("]")
        name, port = inner, rest.removeprefix(":") if rest.startswith(":") else ""
    elif host.count(":") == 1:
        name, port = host.split(":")
    try:
        ipaddress.IPv6Address(name)
        labels = [name]
    except ValueError:
        labels = name.split(".")
    return labels, port, parsed.path


def urls_match(glob: str, target: str) -> bool:
    """`URLsMatchStr`: the same port, as many host labels each matching its glob, and the
    glob's path a prefix of the target's."""
    glob_labels, glob_port, glob_path = _split(glob)
    labels, port, path = _split(target)
    if glob_port != port or len(glob_labels) != len(labels):
        return False
    if not path.startswith(glob_path):
        return False
    return all(fnmatch.fnmatchcase(t, g) for g, t in zip(glob_labels, labels, strict=True))


def _default_registry_match(image: str) -> bool:
    """`isDefaultRegistryMatch`: the image lives on Docker Hub."""
    first, sep, _ = image.partition("/")
    if not first:
        return False
    if not sep or first in (DEFAULT_DOMAIN, _DEFAULT_REGISTRY_HOST):
        return True
    return not any(c in first for c in ".:")


class Keyring:
    """`BasicDockerKeyring`: credentials by registry key, the most specific key first."""

    def __init__(self) -> None:
        self._creds: dict[str, list[RegistryAuth]] = {}

    def add(self, config: Mapping[str, Any]) -> None:
        for location, value in config.items():
            key = _key(str(location))
            if key is None:
                continue
            self._creds.setdefault(key, []).append(_entry(value))

    def lookup(self, repository: str) -> list[RegistryAuth]:
        """Every credential for `repository` (a `repoToPull`, `docker.io/library/nginx`)."""
        found: list[RegistryAuth] = []
        for key in sorted(self._creds, reverse=True):
            if urls_match(key, repository):
                found.extend(self._creds[key])
        if not found and _default_registry_match(repository):
            found = list(self._creds.get(_DEFAULT_REGISTRY_HOST, []))
        return found


def make_keyring(secrets: Iterable[Mapping[str, Any]]) -> Keyring:
    """`MakeDockerKeyring` over the pod's pull secrets; KeyringError for one that does not
    decode (the kubelet fails the pull with that error)."""
    keyring = Keyring()
    for secret in secrets:
        config = _config(secret)
        if config is not None:
            keyring.add(config)
    return keyring
