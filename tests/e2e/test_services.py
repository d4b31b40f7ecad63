"""Services on the engine (issue 18): Endpoints and EndpointSlices follow the pod's readiness,
`minikubelet expose` and the real kubectl's expose/get/describe against the node, the same text
from both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import ROOT
from tests.e2e.test_kubectl import listening_node

pytestmark = pytest.mark.e2e

SHORT = ROOT / "manifests" / "webapl-pod-short.yaml"


def _labelled_webapl(tmp_path: Path) -> str:
    body: dict[str, Any] = yaml.safe_load(SHORT.read_text())
    body["metadata"]["labels"] = {"app": "webapl"}
    path = tmp_path / "webapl.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def test_endpoints_follow_readiness_and_kubectl_agrees(tmp_path: Path) -> None:
    with listening_node(tmp_path) as node:
        agent = node.agent
        assert node.kubectl("apply", "-f", _labelled_webapl(tmp_path)).returncode == 0
        exposed = node.minikubelet(
            "expose", "pod", "webapl", "--port", "80", "--target-port", "3000", "--type", "NodePort"
        )
        assert (exposed.returncode, exposed.stdout) == (0, "service/webapl exposed\n")
        path = "/api/v1/namespaces/default/endpoints/webapl"

        def ready() -> list[str]:
            try:
                subsets = agent.api.request("GET", path).get("subsets") or []
            except Exception:
                return []
            return [a["ip"] for s in subsets for a in s.get("addresses") or []]

        def unready() -> bool:
            subsets = agent.api.request("GET", path).get("subsets") or []
            return any(s.get("notReadyAddresses") for s in subsets)

        ip = agent.wait_for(lambda: agent.pod("webapl")["status"].get("podIP"), 30, "a pod IP")
        assert agent.wait_for(ready, 40, "the pod in the endpoints once Ready") == [ip]
        agent.wait_for(unready, 40, "the liveness kill taking it out of the endpoints")
        assert agent.wait_for(ready, 60, "the restarted container back in them") == [ip]

        svc = node.kubectl("get", "svc", "webapl").stdout.splitlines()
        assert svc[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
        assert svc[1].split()[:2] == ["webapl", "NodePort"]
        ours = node.minikubelet("get", "svc", "webapl").stdout.splitlines()
        assert [line.split()[:5] for line in ours] == [line.split()[:5] for line in svc]
        slices = node.kubectl("get", "endpointslices").stdout.splitlines()
        assert slices[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        assert slices[1].split()[1:4] == ["IPv4", "3000", ip]
        described = node.kubectl("describe", "svc", "webapl").stdout
        mine = node.minikubelet("describe", "svc", "webapl").stdout
        assert "TargetPort:               3000/TCP\n" in described
        assert [line for line in mine.splitlines() if not line.startswith("Endpoints:")] == [
            line for line in described.splitlines() if not line.startswith("Endpoints:")
        ]  # the Endpoints line may change between the two reads
        done = node.kubectl("expose", "pod", "webapl", "--name", "web2", "--port", "8080")
        assert done.stdout == "service/web2 exposed\n"
        web2 = agent.api.request("GET", "/api/v1/namespaces/default/services/web2")
        assert web2["spec"]["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]
        assert node.kubectl("delete", "svc", "webapl").returncode == 0
        agent.wait_for(
            lambda: (
                not agent.api.request("GET", "/api/v1/namespaces/default/endpoints")["items"]
                or all(
                    e["metadata"]["name"] != "webapl"
                    for e in agent.api.request("GET", "/api/v1/namespaces/default/endpoints")[
                        "items"
                    ]
                )
            ),
            10,
            "the Endpoints to go with their Service",
        )
