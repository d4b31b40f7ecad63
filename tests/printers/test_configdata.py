"""`get` rows and `describe` text of ConfigMaps and Secrets, as kubectl 1.32 prints them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from minikubelet.printers.configdata import (
    config_map_row,
    describe_config_map,
    describe_secret,
    secret_row,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
CREATED = (NOW - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def meta(name: str, **more: object) -> dict[str, object]:
    return {"name": name, "namespace": "default", "creationTimestamp": CREATED, **more}


def test_rows() -> None:
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": b64("x")}}
    assert config_map_row(cm, NOW) == ["cfg", 3, "5s"]
    assert config_map_row({"metadata": meta("empty")}, NOW) == ["empty", 0, "5s"]
    tls = {
        "metadata": meta("tls"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    assert secret_row(tls, NOW) == ["tls", "kubernetes.io/tls", 2, "5s"]


def test_describe_secret_hides_values() -> None:
    secret = {
        "metadata": meta("db-pass", labels={"app": "db"}),
        "type": "Opaque",
        "data": {"username": b64("admin"), "password": b64("s3cret")},
    }
    assert describe_secret(secret, [], NOW) == (
        "Name:         db-pass\n"
        "Namespace:    default\n"
        "Labels:       app=db\n"
        "Annotations:  <none>\n"
        "\n"
        "Type:  Opaque\n"
        "\n"
        "Data\n"
        "====\n"
        "password:  6 bytes\n"
        "username:  5 bytes\n"
    )


def test_describe_service_account_token_shows_the_token() -> None:
    secret = {
        "metadata": meta("sa"),
        "type": "kubernetes.io/service-account-token",
        "data": {"token": b64("abc.def"), "ca.crt": b64("xyz")},
    }
    assert describe_secret(secret, None, NOW).endswith("ca.crt:  3 bytes\ntoken:   abc.def\n")


def test_describe_config_map() -> None:
    cm = {
        "metadata": meta("cfg", annotations={"note": "x"}),
        "data": {"mode": "fast", "app.conf": "a=1\nb=2\n"},
        "binaryData": {"logo.png": b64("\x89PNG")},
    }
    assert describe_config_map(cm, [], NOW) == (
        "Name:         cfg\n"
        "Namespace:    default\n"
        "Labels:       <none>\n"
        "Annotations:  note: x\n"
        "\n"
        "Data\n"
        "====\n"
        "app.conf:\n"
        "----\n"
        "a=1\n"
        "b=2\n"
        "\n"
        "\n"
        "mode:\n"
        "----\n"
        "fast\n"
        "\n"
        "\n"
        "BinaryData\n"
        "====\n"
        "logo.png: 5 bytes\n"
        "\n"
        "Events:  <none>\n"
    )


def test_describe_config_map_events() -> None:
    event = {
        "type": "Normal",
        "reason": "Touched",
        "message": "hello",
        "source": {"component": "me"},
        "count": 1,
        "firstTimestamp": CREATED,
        "lastTimestamp": CREATED,
    }
    text = describe_config_map({"metadata": meta("cfg")}, [event], NOW)
    assert text.endswith(
        "BinaryData\n====\n\n"
        "Events:\n"
        "  Type    Reason   Age   From  Message\n"
        "  ----    ------   ----  ----  -------\n"
        "  Normal  Touched  5s    me    hello\n"
    )
    assert describe_config_map({"metadata": meta("cfg")}, None, NOW).endswith("====\n\n")
