"""ConfigMap and Secret in the API server: decoding, defaulting, conversion and validation.

The steps of `pkg/registry/core/{configmap,secret}` and `pkg/apis/core/validation`
(`ValidateConfigMap`, `ValidateSecret` and their updates), in the server's words:

- strict decoding: unknown fields, Go's JSON type errors, and Go's base64 for the `[]byte`
  maps (Secret `data`, ConfigMap `binaryData`): `illegal base64 data at input byte N`;
- defaulting (Secret `type` `Opaque`) and the v1 conversion, which merges `stringData` into
  `data` (a `stringData` key wins) and drops it;
- validation: keys (`IsConfigMapKey`), 1 MiB of values, the rules of each Secret `type`,
  `immutable`, and the update rules.

Objects stay JSON (`dict`) here, with `[]byte` values as canonical base64 (Go re-encodes what it
decoded, so `YQ\\n==` is stored as `YQ==`). Map keys are walked sorted where Go walks its maps in
random order, so the errors come out in one stable order.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from minikubelet.api.gobase64 import CorruptInput, decode, encode
from minikubelet.api.raw import JSON
from minikubelet.api.schema import check_object
from minikubelet.api.strategy import ObjectStrategy
from minikubelet.api.validation.field import FieldError, Path, forbidden, invalid, required
from minikubelet.api.validation.field import too_long as _too_long
from minikubelet.api.validation.names import is_config_map_key
from minikubelet.errors import BadRequest

__all__ = [
    "CONFIG_MAP_STRATEGY",
    "MAX_SECRET_SIZE",
    "SECRET_STRATEGY",
    "ConfigMapStrategy",
    "SecretStrategy",
    "decode_config_map",
    "decode_secret",
    "default_secret",
    "secret_warnings",
    "unknown_fields",
    "validate_config_map",
    "validate_config_map_update",
    "validate_secret",
    "validate_secret_update",
]

MAX_SECRET_SIZE = 1024 * 1024  # core.MaxSecretSize, also the ConfigMap limit
_IMMUTABLE_SET = "field is immutable when `immutable` is set"
_REDACTED = "<secret contents redacted>"
_BYTES_FIELDS = {"ConfigMap": "binaryData", "Secret": "data"}


def unknown_fields(body: JSON, kind: str) -> list[str]:
    """Paths of the fields core/v1 does not know (what `fieldValidation` acts on)."""
    return check_object(body, kind).unknown


def _decode(body: JSON, kind: str) -> JSON:
    """Strict decoding of a ConfigMap or Secret body; raises the decoder's BadRequest."""
    problem = check_object(body, kind).message()
    if problem is None:
        problem = _base64_problem(body.get(_BYTES_FIELDS[kind]))
    if problem is not None:
        raise BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: {problem}')
    obj = copy.deepcopy(body)
    for key in ("data", "binaryData", "stringData"):
        if obj.get(key) is not None:  # a null value decodes to "" (string) or nil ([]byte)
            obj[key] = {k: v if v is not None else "" for k, v in obj[key].items()}
    if obj.get(_BYTES_FIELDS[kind]):
        obj[_BYTES_FIELDS[kind]] = {
            k: encode(decode(v)) for k, v in obj[_BYTES_FIELDS[kind]].items()
        }
    return obj


def _base64_problem(table: Any) -> str | None:
    for value in (table or {}).values():  # JSON object order: the decoder's order
        try:
            decode(value or "")
        except CorruptInput as exc:
            return str(exc)
    return None


def decode_config_map(body: JSON) -> JSON:
    """The ConfigMap the server goes on with (no defaults of its own); raises BadRequest."""
    obj = _decode(body, "ConfigMap")
    for key in ("data", "binaryData"):
        if key in obj and obj[key] is None:
            del obj[key]
    return obj


def decode_secret(body: JSON) -> JSON:
    """Decode, default and convert a Secret body: `stringData` merged into `data`."""
    obj = default_secret(_decode(body, "Secret"))
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = dict(obj.get("data") or {})
        for key, value in string_data.items():
            data[key] = encode(str(value).encode())
        obj["data"] = data
    if "data" in obj and obj["data"] is None:
        del obj["data"]
    return obj


def default_secret(obj: JSON) -> JSON:
    """`SetDefaults_Secret`: an empty `type` is `Opaque`."""
    if not obj.get("type"):
        obj["type"] = "Opaque"
    return obj


def _key_errors(table: JSON | None, path: Path) -> list[FieldError]:
    return [
        invalid(path.key(key), key, message)
        for key in sorted(table or {})
        for message in is_config_map_key(key)
    ]


def validate_config_map(obj: JSON) -> list[FieldError]:
    """`ValidateConfigMap` after ObjectMeta: keys, keys in both maps, the 1 MiB total."""
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    errs: list[FieldError] = []
    for key in sorted(data):
        errs += [invalid(Path("data").key(key), key, m) for m in is_config_map_key(key)]
        if key in binary:
            detail = "duplicate of key present in binaryData"
            errs.append(invalid(Path("data").key(key), key, detail))
    errs += _key_errors(binary, Path("binaryData"))
    total = sum(len(str(v).encode()) for v in data.values())
    total += sum(len(decode(v)) for v in binary.values())
    if total > MAX_SECRET_SIZE:
        # The server passes the empty path for the whole object, printed `[]`.
        errs.append(_too_long(Path("[]"), "", MAX_SECRET_SIZE))
    return errs


def _json_problem(raw: bytes) -> str | None:
    """Whether `json.Unmarshal(raw, &map[string]interface{}{})` fails, in Go's words."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _go_json_error(raw, exc)
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool", type(None): ""}.get(type(value))
        if kind == "":
            return None  # JSON null leaves the map nil: no error
        found = kind or "number"
        return f"json: cannot unmarshal {found} into Go value of type map[string]interface {{}}"
    return None


def _go_json_error(raw: bytes, exc: Exception) -> str:
    """The common cases of Go's syntax errors; others get the first one's shape."""
    text = raw.decode(errors="replace")
    if not text.strip():
        return "unexpected end of JSON input"
    at = getattr(exc, "pos", 0)
    if at >= len(text):
        return "unexpected end of JSON input"
    return f"invalid character {_go_char(text[at])} looking for beginning of value"


def _go_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return f"'{char}'"


def _type_rules(obj: JSON) -> list[FieldError]:
    """The `switch secret.Type` of ValidateSecret."""
    data, kind = obj.get("data") or {}, obj.get("type") or ""
    path = Path("data")
    if kind == "kubernetes.io/service-account-token":
        if not (obj.get("metadata") or {}).get("annotations", {}).get(_SA_NAME):
            return [required(Path("metadata").child("annotations").key(_SA_NAME))]
        return []
    docker = {"kubernetes.io/dockercfg": ".dockercfg", "kubernetes.io/dockerconfigjson": _DCJ}
    if kind in docker:
        key = docker[kind]
        if key not in data:
            return [required(path.key(key))]
        problem = _json_problem(decode(data[key]))
        return [invalid(path.key(key), _REDACTED, problem)] if problem else []
    if kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            return [required(path.key("username")), required(path.key("password"))]
        return []
    if kind == "kubernetes.io/ssh-auth":
        if not decode(data.get("ssh-privatekey") or ""):
            return [required(path.key("ssh-privatekey"))]
        return []
    if kind == "kubernetes.io/tls":
        return [required(path.key(k)) for k in ("tls.crt", "tls.key") if k not in data]
    return []


_SA_NAME = "kubernetes.io/service-account.name"
_DCJ = ".dockerconfigjson"


def validate_secret(obj: JSON) -> list[FieldError]:
    """`ValidateSecret` after ObjectMeta: keys, the 1 MiB total, then the type's rules."""
    data = obj.get("data") or {}
    errs = _key_errors(data, Path("data"))
    if sum(len(decode(v)) for v in data.values()) > MAX_SECRET_SIZE:
        errs.append(_too_long(Path("data"), "", MAX_SECRET_SIZE))
    return errs + _type_rules(obj)


def _immutable_rules(new: JSON, old: JSON, fields: tuple[str, ...]) -> list[FieldError]:
    if not old.get("immutable"):
        return []
    errs = [] if new.get("immutable") else [forbidden(Path("immutable"), _IMMUTABLE_SET)]
    for name in fields:
        if (new.get(name) or {}) != (old.get(name) or {}):
            errs.append(forbidden(Path(name), _IMMUTABLE_SET))
    return errs


def validate_config_map_update(new: JSON, old: JSON) -> list[FieldError]:
    """`ValidateConfigMapUpdate` beyond metadata: `immutable` holds data and binaryData."""
    return _immutable_rules(new, old, ("data", "binaryData"))


def validate_secret_update(new: JSON, old: JSON) -> list[FieldError]:
    """`ValidateSecretUpdate` beyond metadata: the type is immutable, and so is `immutable`."""
    errs: list[FieldError] = []
    if new.get("type") != old.get("type"):
        errs.append(invalid(Path("type"), new.get("type"), "field is immutable"))
    return errs + _immutable_rules(new, old, ("data",))


def secret_warnings(obj: JSON) -> list[str]:
    """`warningsForSecret`: a TLS Secret whose certificate or key holds no PEM data.

    The server runs Go's `tls.X509KeyPair`; only its first checks (PEM present) are made here.
    """
    if obj.get("type") != "kubernetes.io/tls":
        return []
    data = obj.get("data") or {}
    for key, what in (("tls.crt", "certificate"), ("tls.key", "key")):
        if b"-----BEGIN " not in decode(data.get(key) or ""):
            return [f"tls: failed to find any PEM data in {what} input"]
    return []


class ConfigMapStrategy(ObjectStrategy):
    """`pkg/registry/core/configmap`: decode, then ObjectMeta and ValidateConfigMap."""

    kind = "ConfigMap"

    def unknown_fields(self, body: JSON) -> list[str]:
        return unknown_fields(body, self.kind)

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        return super().create(decode_config_map(body), namespace, now)

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        return super().update(old, decode_config_map(body), now)

    def validate(self, obj: JSON) -> list[FieldError]:
        return validate_config_map(obj)

    def validate_update(self, new: JSON, old: JSON) -> list[FieldError]:
        return validate_config_map_update(new, old)


class SecretStrategy(ObjectStrategy):
    """`pkg/registry/core/secret`: decode (stringData merged), default, validate, warn (TLS)."""

    kind = "Secret"

    def unknown_fields(self, body: JSON) -> list[str]:
        return unknown_fields(body, self.kind)

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        obj, warnings = super().create(decode_secret(body), namespace, now)
        return obj, warnings + secret_warnings(obj)

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        obj, warnings = super().update(old, decode_secret(body), now)
        return obj, warnings + secret_warnings(obj)

    def validate(self, obj: JSON) -> list[FieldError]:
        return validate_secret(obj)

    def validate_update(self, new: JSON, old: JSON) -> list[FieldError]:
        return validate_secret_update(new, old)


CONFIG_MAP_STRATEGY = ConfigMapStrategy()
SECRET_STRATEGY = SecretStrategy()
