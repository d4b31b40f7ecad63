"""What kubectl reads before it touches a pod: discovery, namespaces, OpenAPI v3; and the
HTTPS listener's token, kubeconfig and credentials."""

from __future__ import annotations

import base64
import json
import ssl
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from starlette.testclient import TestClient

from minikubelet.clock import FakeClock
from minikubelet.server import ApiDeps, create_app
from minikubelet.server.auth import TokenAuth
from minikubelet.server.deps import Listener
from minikubelet.server.tls import (
    client_cipher_order,
    ensure_credentials,
    parse_listen,
    server_url,
)
from minikubelet.store import Store

AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def test_legacy_discovery_answers_plain_json_even_when_aggregated_is_preferred(
    api: TestClient,
) -> None:
    versions = api.get("/api", headers={"Accept": AGGREGATED})
    assert versions.status_code == 200
    assert versions.json()["kind"] == "APIVersions" and versions.json()["versions"] == ["v1"]
    groups = api.get("/apis", headers={"Accept": AGGREGATED}).json()
    coordination = {"groupVersion": "coordination.k8s.io/v1", "version": "v1"}
    discovery = {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}
    assert groups == {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": "coordination.k8s.io",
                "versions": [coordination],
                "preferredVersion": coordination,
            },
            {"name": "discovery.k8s.io", "versions": [discovery], "preferredVersion": discovery},
        ],
    }


def test_api_v1_lists_resources_with_verbs_and_short_names(api: TestClient) -> None:
    body = api.get("/api/v1").json()
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "v1")
    by_name = {r["name"]: r for r in body["resources"]}
    assert {"pods", "pods/log", "pods/status", "events", "nodes", "namespaces"} <= set(by_name)
    assert by_name["pods/exec"]["kind"] == "PodExecOptions"
    assert by_name["pods/exec"]["verbs"] == ["create", "get"]
    assert set(by_name) >= {"services", "services/status", "endpoints"}
    assert by_name["services"]["shortNames"] == ["svc"]
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["categories"] == ["all"]
    assert {"create", "delete", "get", "list", "patch", "watch"} <= set(by_name["pods"]["verbs"])
    shorts = {n: r.get("shortNames") for n, r in by_name.items()}
    assert (shorts["events"], shorts["nodes"], shorts["namespaces"]) == (["ev"], ["no"], ["ns"])
    assert by_name["nodes"]["namespaced"] is False
    assert by_name["configmaps"]["shortNames"] == ["cm"] and "shortNames" not in by_name["secrets"]
    assert {"create", "get", "list", "update", "watch"} <= set(by_name["secrets"]["verbs"])


def test_namespaces_are_the_clusters_own_and_those_with_pods(api: TestClient) -> None:
    pod = {"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert api.post("/api/v1/namespaces/team/pods", json=pod).status_code == 201
    names = [n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system", "team"]
    one = api.get("/api/v1/namespaces/team").json()
    assert (one["kind"], one["status"]["phase"]) == ("Namespace", "Active")
    missing = api.get("/api/v1/namespaces/nope")
    assert (missing.status_code, missing.json()["message"]) == (404, 'namespaces "nope" not found')
    table = api.get("/api/v1/namespaces", headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    rows = [r["cells"][:2] for r in table["rows"]]
    assert rows[::4] == [["default", "Active"], ["team", "Active"]]


def _v3(api: TestClient) -> dict[str, Any]:
    root = api.get("/openapi/v3").json()
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    protobuf_first = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf,application/json"
    response = api.get(url, headers={"Accept": protobuf_first})
    assert response.headers["content-type"].startswith("application/json")
    doc: dict[str, Any] = response.json()
    return doc


def test_openapi_v3_has_the_patch_operation_kubectl_checks_for_field_validation(
    api: TestClient,
) -> None:
    """kubectl 1.32 leaves validation to the server only when it finds this (reference §7)."""
    doc = _v3(api)
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    query = {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert "fieldValidation" in query
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]


def test_openapi_v3_pod_schema_carries_gvk_and_patch_merge_keys(api: TestClient) -> None:
    schemas = _v3(api)["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "version": "v1", "kind": "Pod"}]
    spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert spec["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert spec["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    container = schemas["io.k8s.api.core.v1.Container"]["properties"]
    assert container["ports"]["x-kubernetes-patch-merge-key"] == "containerPort"
    assert container["volumeMounts"]["x-kubernetes-patch-merge-key"] == "mountPath"
    assert "x-kubernetes-patch-merge-key" not in container["args"]
    ref = spec["containers"]["items"]["allOf"][0]["$ref"]
    assert ref == "#/components/schemas/io.k8s.api.core.v1.Container"
    meta = schemas["io.k8s.api.core.v1.Pod"]["properties"]["metadata"]["allOf"][0]["$ref"]
    assert meta.endswith("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    for name, schema in schemas.items():  # every reference resolves
        for match in json.dumps(schema).split('"#/components/schemas/')[1:]:
            assert match.split('"')[0] in schemas, name


def _tokened(store: Store, clock: FakeClock, listener: Listener | None = None) -> TestClient:
    deps = ApiDeps(store=store, clock=clock, node_name="node1", listener=listener)
    return TestClient(TokenAuth(create_app(deps), "s3cret"), base_url="https://minikubelet")


def test_requests_without_the_token_get_401_as_a_status(store: Store, clock: FakeClock) -> None:
    client = _tokened(store, clock)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        response = client.get("/api/v1/namespaces/default/pods", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)
    ok = client.get("/api/v1/namespaces/default/pods", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["kind"] == "PodList"


def test_kubeconfig_endpoint(store: Store, clock: FakeClock, api: TestClient) -> None:
    missing = api.get("/minikubelet/v1/kubeconfig")
    assert missing.status_code == 404
    assert missing.json()["message"] == "this node agent has no HTTPS listener"
    listener = Listener("https://127.0.0.1:6443", b"PEM", "tok")
    deps = ApiDeps(store=store, clock=clock, node_name="node1", listener=listener)
    config = TestClient(create_app(deps)).get("/minikubelet/v1/kubeconfig").json()
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"PEM"
    assert config["users"] == [{"name": "minikubelet", "user": {"token": "tok"}}]
    context = config["contexts"][0]
    assert context["name"] == config["current-context"] == "minikubelet"
    assert context["context"]["namespace"] == "default"


def test_listen_addresses() -> None:
    assert parse_listen("6443") == ("127.0.0.1", 6443)
    assert parse_listen("0.0.0.0:6443") == ("0.0.0.0", 6443)
    assert parse_listen("[::1]:6443") == ("::1", 6443)
    assert server_url("0.0.0.0", 1) == "https://127.0.0.1:1"
    assert server_url("::1", 1) == "https://[::1]:1"
    for bad in ("x", "127.0.0.1:0", "127.0.0.1:99999", "h:p"):
        try:
            parse_listen(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_credentials_are_private_reused_and_cover_the_address(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = ensure_credentials(tmp_path, "127.0.0.1", now)
    files = [tmp_path / "token", *sorted((tmp_path / "pki").iterdir())]
    assert [f.name for f in files] == ["token", "ca.crt", "ca.key", "server.crt", "server.key"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    again = ensure_credentials(tmp_path, "127.0.0.1", now)
    assert again == first  # same token, CA and certificate
    cert = x509.load_pem_x509_certificate(first.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    moved = ensure_credentials(tmp_path, "10.1.2.3", now)  # a new address: a new serving cert
    assert (moved.ca_pem, moved.token) == (first.ca_pem, first.token)
    cert = x509.load_pem_x509_certificate(moved.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "10.1.2.3" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    ca = x509.load_pem_x509_certificate(first.ca_pem)
    cert.verify_directly_issued_by(ca)


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str:
    """A TLS handshake in memory; the cipher suite both ends agreed on."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    ours = server.wrap_bio(to_server, to_client, server_side=True)
    theirs = client.wrap_bio(to_client, to_server, server_hostname="localhost")
    for _ in range(10):
        for end in (theirs, ours):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        if ours.cipher() and theirs.cipher():
            break
    cipher = theirs.cipher()
    assert cipher is not None and ours.cipher() == cipher
    return cipher[0]


def test_the_listener_takes_the_clients_cipher_order(tmp_path: Path) -> None:
    """As Go's API server does: kubectl, which lists AES-128-GCM first on AES hardware, gets
    it rather than OpenSSL's first choice, AES-256-GCM. A Python client cannot order TLS 1.3's
    suites, so TLS 1.2's stand in for them."""
    creds = ensure_credentials(tmp_path, "127.0.0.1", datetime(2026, 1, 1, tzinfo=UTC))

    def default() -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(creds.cert_file, creds.key_file)
        return context

    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cadata=creds.ca_pem.decode())
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384")
    assert _handshake(default(), client) == "ECDHE-ECDSA-AES256-GCM-SHA384"  # server's order
    assert _handshake(client_cipher_order(None, default), client) == "ECDHE-ECDSA-AES128-GCM-SHA256"


def test_healthz_says_ok_once_the_agent_has_started(store: Store, clock: FakeClock) -> None:
    deps = ApiDeps(store=store, clock=clock, node_name="node1")
    deps.started = False  # the socket serves while the node and the services start
    with TestClient(create_app(deps), base_url="http://minikubelet") as client:
        starting = client.get("/healthz")
        assert (starting.status_code, starting.text) == (503, "node starting")
        assert client.get("/version").status_code == 200  # the API itself answers already
        deps.started = True
        assert (client.get("/healthz").status_code, client.get("/healthz").text) == (200, "ok")


def test_every_streaming_subresource_is_routed() -> None:
    """The app routes exec, attach and portforward to the streaming module without importing
    it (it is imported on the first such request): the two tables must agree."""
    from minikubelet.server.app import STREAMING, SUBRESOURCES
    from minikubelet.server.streams import routes

    assert {key for key in SUBRESOURCES if key[0] in STREAMING} == set(routes.SUBRESOURCES)
