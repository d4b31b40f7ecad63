"""The official `kubernetes` Python client, unchanged, against a live node: a `Configuration`
loaded from the kubeconfig `minikubelet kubeconfig` prints, then list, create, read status,
read logs, patch, list events, watch and delete pods, as a user's scripts do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch  # type: ignore[import-untyped]

from tests.e2e.pods import pod, sh
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with listening_node(tmp_path_factory.mktemp("pyclient")) as running:
        yield running


@pytest.fixture(scope="module")
def v1(node: Node) -> Iterator[Any]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(node.kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        yield client.CoreV1Api(api)


def _ready(obj: Any) -> bool:
    conditions = obj.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def test_pod_lifecycle_through_the_python_client(node: Node, v1: Any) -> None:
    assert [p.metadata.name for p in v1.list_namespaced_pod("default").items] == []
    manifest = pod("py", sh("c", "echo hello from python; exec sleep 300"))
    created = v1.create_namespaced_pod("default", manifest)
    assert (created.metadata.name, created.status.phase) == ("py", "Pending")
    stream = watch.Watch()
    seen: list[tuple[str, str]] = []
    for event in stream.stream(
        v1.list_namespaced_pod, "default", field_selector="metadata.name=py", timeout_seconds=40
    ):
        seen.append((event["type"], event["object"].status.phase))
        if _ready(event["object"]):
            stream.stop()
    assert seen[0][0] == "ADDED" and seen[-1] == ("MODIFIED", "Running")
    status = v1.read_namespaced_pod_status("py", "default")
    assert status.status.pod_ip and _ready(status)
    node.agent.wait_for(
        lambda: v1.read_namespaced_pod_log("py", "default") == "hello from python\n", 10
    )
    patched = v1.patch_namespaced_pod("py", "default", {"metadata": {"labels": {"via": "py"}}})
    assert patched.metadata.labels == {"via": "py"}
    listed = v1.list_namespaced_pod("default", label_selector="via=py").items
    assert [p.metadata.name for p in listed] == ["py"]
    reasons = {
        e.reason
        for e in v1.list_namespaced_event("default", field_selector="involvedObject.name=py").items
    }
    assert {"Scheduled", "Started"} <= reasons
    assert [n.metadata.name for n in v1.list_node().items] == ["e2e-node"]
    deleted = v1.delete_namespaced_pod("py", "default")
    assert deleted.metadata.deletion_timestamp is not None
    node.agent.wait_for(lambda: node.agent.gone("py"), 30, "the pod to go")


def test_errors_arrive_as_api_exceptions(v1: Any) -> None:
    with pytest.raises(client.ApiException) as missing:
        v1.read_namespaced_pod("nope", "default")
    assert missing.value.status == 404
    bad = pod("bad", sh("c", "true"), restartPolicy="Sometimes")
    with pytest.raises(client.ApiException) as invalid:
        v1.create_namespaced_pod("default", bad)
    assert invalid.value.status == 422 and "Unsupported value" in invalid.value.body
