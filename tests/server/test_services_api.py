"""Services through the API: create with allocation, Tables, strict decoding, update, delete,
and the expose body kubectl sends (reference A.6, A.9)."""

from __future__ import annotations

import argparse
from typing import Any

from starlette.testclient import TestClient

from minikubelet.cli.expose import build_service

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
SVC = "/api/v1/namespaces/default/services"


def test_create_get_table_update_delete(api: TestClient) -> None:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    made = api.post(SVC, json=body)
    assert made.status_code == 201, made.text
    spec = made.json()["spec"]
    assert spec["clusterIP"].startswith("10.") and 30000 <= spec["ports"][0]["nodePort"] <= 32767
    table = api.get(SVC, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector",
    ]  # fmt: skip
    cells = table["rows"][0]["cells"]
    assert cells[:5] == [
        "web", "NodePort", spec["clusterIP"], "<none>", f"80:{spec['ports'][0]['nodePort']}/TCP",
    ]  # fmt: skip
    again = api.post(SVC, json={**body, "metadata": {"name": "other"}, "spec": {**body["spec"]}})
    assert again.json()["spec"]["clusterIP"] != spec["clusterIP"]
    taken = {**body, "metadata": {"name": "third"}}
    taken["spec"] = {
        **body["spec"],
        "ports": [{"port": 80, "nodePort": spec["ports"][0]["nodePort"]}],
    }
    refused = api.post(SVC, json=taken)
    assert refused.status_code == 422
    assert refused.json()["message"].endswith("provided port is already allocated")
    put = api.get(f"{SVC}/web").json()
    put["spec"]["ports"][0]["targetPort"] = 3000
    replaced = api.put(f"{SVC}/web", json=put)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["spec"]["clusterIP"] == spec["clusterIP"]
    assert api.delete(f"{SVC}/web").status_code == 200
    reused = {**body, "metadata": {"name": "again"}}
    reused["spec"] = {**body["spec"], "clusterIP": spec["clusterIP"]}
    assert api.post(SVC, json=reused).status_code == 201, "a deleted Service frees its IP"


def test_unknown_fields_are_refused_when_strict(api: TestClient) -> None:
    body = {"metadata": {"name": "web"}, "spec": {"portz": [], "ports": [{"port": 80}]}}
    answer = api.post(f"{SVC}?fieldValidation=Strict", json=body)
    assert answer.status_code == 400
    assert answer.json()["message"] == (
        'Service in version "v1" cannot be handled as a Service: strict decoding error: '
        'unknown field "spec.portz"'
    )


def test_endpoint_kinds_are_served(api: TestClient) -> None:
    slices = api.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
    assert slices.status_code == 200 and slices.json()["kind"] == "EndpointSliceList"
    endpoints = api.get("/api/v1/namespaces/default/endpoints", headers={"Accept": TABLE})
    assert [c["name"] for c in endpoints.json()["columnDefinitions"]] == [
        "Name", "Endpoints", "Age",
    ]  # fmt: skip


def expose(**flags: str) -> argparse.Namespace:
    names = ("port", "target_port", "type", "name", "protocol", "selector", "labels")
    more = ("session_affinity", "cluster_ip", "external_ip")
    return argparse.Namespace(**{n: flags.get(n, "") for n in names + more})


def test_expose_builds_kubectls_body() -> None:
    pod = {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 3000}]}]},
    }
    assert build_service(expose(port="80"), pod) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"creationTimestamp": None, "labels": {"app": "web"}, "name": "web"},
        "spec": {
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"app": "web"},
        },
        "status": {"loadBalancer": {}},
    }
    body = build_service(expose(target_port="3000", type="NodePort"), pod)
    assert body["spec"]["ports"] == [{"port": 3000, "protocol": "TCP", "targetPort": 3000}]
    assert body["spec"]["type"] == "NodePort"
