"""`get` of several kinds at once, the real kubectl 1.32 as the oracle: `get svc,ep`,
`get pods,svc`, `get all` (the `all` category from discovery), their machine formats and
refusals print the same from `minikubelet get` as from kubectl against the node."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.pods import BASE, pod, sh
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e

COMMANDS = [
    ["get", "svc,ep"],
    ["get", "pods,svc"],
    ["get", "all"],
    ["get", "all", "-o", "wide"],
    ["get", "svc,ep", "--no-headers"],
    ["get", "svc,endpointslices", "--show-labels"],
    ["get", "pods,svc,po", "-o", "name"],
    ["get", "cm,svc"],
    ["get", "cm,secrets"],
    ["get", "svc,ep", "-A"],
    ["get", "all", "-l", "app=none"],
    ["get", "pods,svc", "-o", "yaml"],
    ["get", "svc,ep", "-w"],
    ["get", "svc,ep", "web"],
    ["get", "svc/web", "ep/nope"],
    ["get", "svc/web", "ep/web", "svc/webnp"],
    ["get", "svc/web", "svc/webnp", "-o", "name"],
    ["get", "svc/web", "-o", "jsonpath={.kind}"],
    ["get", "svc/web", "web"],
    ["get", "all", "web"],
    ["get", "svc/web", "ep/web", "-w"],
]


def _aged(text: str) -> str:
    """AGE cells with their digits masked (the two commands run a second apart), the width
    kept, so the layout is still compared."""
    return re.sub(r"(?<=\s)\d+s(?=\s)", lambda m: "#" * len(m.group()), text)


def _same(node: Node, argv: list[str]) -> None:
    """kubectl's and minikubelet's stdout, stderr and exit code agree (AGE digits aside); a
    run that straddles a change of the AGE's width is tried again."""
    for _ in range(3):
        theirs = node.kubectl(*argv, check=False)
        ours = node.minikubelet(*argv)
        got = (ours.returncode, _aged(ours.stdout), ours.stderr)
        # the usage hints name the program: 'kubectl get resource/...' is ours with our name
        hint = theirs.stderr.replace("'kubectl get ", "'minikubelet get ")
        want = (theirs.returncode, _aged(theirs.stdout), hint)
        if got == want:
            return
        time.sleep(0.3)
    assert got == want, argv


def test_several_kinds_print_as_kubectl_prints_them(tmp_path: Path) -> None:
    with listening_node(tmp_path) as node:
        manifest = pod("web", sh("c", "sleep 3600", BASE))
        manifest["metadata"]["labels"] = {"app": "web"}
        services = [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}
            for name, spec in (("web", {}), ("webnp", {"type": "NodePort"}))
        ]  # fmt: skip
        path = tmp_path / "objects.yaml"
        path.write_text(yaml.safe_dump_all([manifest, *services]))
        node.kubectl("apply", "-f", str(path))
        node.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
        node.agent.wait_for(
            lambda: (
                "10.89." in node.kubectl("get", "ep", "webnp").stdout
                or ":80" in node.kubectl("get", "ep", "webnp").stdout
            ),
            30,
            "the endpoints",
        )
        for argv in COMMANDS:
            _same(node, argv)
