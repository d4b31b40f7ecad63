"""kubectl is the oracle for `minikubelet describe pod` and `describe node`: on one live agent,
pods in every state the status tests cover, and for each one `kubectl describe pod X` (1.32,
through the kubeconfig the agent prints) beside `minikubelet describe pod X`, run at the same
moment; then the node that runs them, `kubectl describe node NAME` and `describe nodes`. They
must be byte-identical once what moves between two runs is masked: the values of the events
table's Age column and the `(lasts …)` of a Terminating pod; in the node's text, the Lease's
`RenewTime` and the Conditions' `LastHeartbeatTime` (the agent renews and heartbeats every few
seconds), nothing else.

The oldest (1.27) and newest (1.33) installed clients print `get pods`, `get pods -o wide` and
`describe` the same way for these pods, but for the release difference the reference lists
(Part 3 §9) that they touch: 1.33 prints a projected configMap's (and secret's)
`Optional: false`.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from minikubelet.api.raw import JSON
from tests.e2e.conftest import ROOT
from tests.e2e.pods import (
    BASE,
    WEBAPL,
    pod,
    pod_when,
    sh,
    status_of,
    terminated,
    waiting_reason,
)
from tests.e2e.test_kubectl import Node, listening_node

pytestmark = pytest.mark.e2e

_LASTS = re.compile(r"\(lasts [^)]*\)")
_RENEW = re.compile(r"^(  RenewTime: +)\S.*$")
_RFC1123Z = re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")


def _pods() -> dict[str, JSON]:
    """Each pod of the oracle, by name."""
    sleeper = "exec sleep 600"
    multi = pod(
        "multi",
        sh(
            "web",
            "exec python3 -m http.server 8080",
            ports=[{"containerPort": 8080, "name": "http"}],
            env=[
                {"name": "GREETING", "value": "hello world"},
                {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
            resources={
                "requests": {"cpu": "100m", "memory": "32Mi"},
                "limits": {"cpu": "500m", "memory": "128Mi"},
            },
            livenessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 30},
            readinessProbe={"tcpSocket": {"port": "http"}, "periodSeconds": 2},
            startupProbe={"exec": {"command": ["true"]}, "periodSeconds": 1},
            volumeMounts=[
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "host", "mountPath": "/host", "readOnly": True},
            ],
        ),
        sh(
            "side",
            sleeper,
            resources={"requests": {"cpu": "50m"}},
            volumeMounts=[{"name": "scratch", "mountPath": "/data", "subPath": "side"}],
        ),
        volumes=[
            {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}},
            {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}},
            {
                "name": "settings",
                "projected": {"sources": [{"configMap": {"name": "settings"}}]},
            },
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
        ],
    )
    multi["metadata"]["labels"] = {"app": "multi", "tier": "web"}
    multi["metadata"]["annotations"] = {"note": "two containers"}
    never = {"restartPolicy": "Never"}
    ref = {"configMapKeyRef": {"name": "absent", "key": "k"}}
    missing = {"name": "FROM_CONFIG", "valueFrom": ref}
    # The allocation comes at once: Docker 20.10 can miss an OOM kill in a container's first
    # moments (CI 2026-12-04: the kernel logged the kill, Docker no `oom` event), and the node
    # reads the kill from the kernel's log itself (`runtime/_oom.py`), so this pod reads
    # OOMKilled whenever the kernel killed it.
    hog = "x = bytearray(512 * 1024 * 1024); print(len(x))"
    # never scheduled, so never run: a spec with what describe prints but the node does not do
    sink = pod(
        "kitchen-sink",
        sh(
            "app",
            sleeper,
            args=["--one", "two words"],
            workingDir="/srv",
            envFrom=[
                {"configMapRef": {"name": "settings"}, "prefix": "CFG_"},
                {"secretRef": {"name": "creds", "optional": True}},
            ],
            env=[
                {"name": "FROM_CONFIG", "valueFrom": ref},
                {
                    "name": "FROM_SECRET",
                    "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                },
                {"name": "ESCAPED", "value": "line one\nline two"},
            ],
            ports=[
                {"containerPort": 80, "hostPort": 8080},
                {"containerPort": 53, "protocol": "UDP"},
            ],
            readinessProbe={"grpc": {"port": 9000}, "initialDelaySeconds": 5},
            livenessProbe={
                "httpGet": {
                    "path": "/healthz",
                    "port": 80,
                    "host": "example.local",
                    "scheme": "HTTPS",
                    "httpHeaders": [{"name": "X-Probe", "value": "1"}],
                },
                "failureThreshold": 5,
            },
            resources={"limits": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "2Gi"}},
            volumeMounts=[
                {"name": "conf", "mountPath": "/etc/conf", "readOnly": True},
                {"name": "token", "mountPath": "/var/run/token"},
            ],
        ),
        nodeSelector={"disk": "ssd", "zone": "a"},
        tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
            {"operator": "Exists"},
            {"key": "slow", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        ],
        # the Priority admission plugin refuses a class the cluster does not have, and a
        # priority other than its class's: a system class, whose value it sets
        priorityClassName="system-cluster-critical",
        serviceAccountName="builder",
        volumes=[
            {"name": "conf", "configMap": {"name": "settings", "defaultMode": 420}},
            {"name": "creds", "secret": {"secretName": "creds", "optional": True}},
            {
                "name": "token",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"secret": {"name": "creds"}},
                        {
                            "downwardAPI": {
                                "items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]
                            }
                        },
                    ]
                },
            },
            {"name": "mem", "emptyDir": {"medium": "Memory"}},
        ],
    )
    sink["metadata"]["labels"] = {"b": "2", "a": "1"}
    sink["metadata"]["annotations"] = {"long": "x" * 200, "short": "y"}
    return {
        "kitchen-sink": sink,
        "unschedulable": pod("unschedulable", sh("app", sleeper), nodeSelector={"disk": "ssd"}),
        "ready": pod("ready", sh("app", sleeper, readinessProbe={"exec": {"command": ["true"]}})),
        "not-ready": pod(
            "not-ready",
            sh("app", sleeper, readinessProbe={"exec": {"command": ["false"]}, "periodSeconds": 2}),
        ),
        "crashloop": pod("crashloop", sh("app", "echo bye; exit 1")),
        "completed": pod("completed", sh("app", "echo done"), **never),
        "error": pod("error", sh("app", "echo gave up >/dev/termination-log; exit 3"), **never),
        "init-crash": pod(
            "init-crash", sh("app", sleeper), initContainers=[sh("setup", "echo no; exit 1")]
        ),
        "oomkilled": pod(
            "oomkilled",
            {
                "name": "app",
                "image": BASE,
                "command": ["python3", "-c", hog],
                "resources": {"limits": {"memory": "32Mi"}},
            },
            **never,
        ),
        "initialized": pod(
            "initialized", sh("app", sleeper), initContainers=[sh("setup", "echo setting up")]
        ),
        "initializing": pod(
            "initializing", sh("app", sleeper), initContainers=[sh("setup", "exec sleep 600")]
        ),
        "no-image": pod("no-image", {"name": "app", "image": "minikubelet/absent:0"}),
        "config-error": pod("config-error", sh("app", sleeper, env=[missing])),
        "multi": multi,
        "gated": pod(
            "gated",
            sh("app", sleeper),
            readinessGates=[{"conditionType": "example.com/feature-1"}],
        ),
        "sysctl-forbidden": pod(
            "sysctl-forbidden",
            sh("app", sleeper),
            securityContext={"sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
        ),
        "terminating": pod(
            "terminating",
            sh("app", "trap '' TERM; while true; do sleep 1; done", image=WEBAPL),
            terminationGracePeriodSeconds=120,
        ),
    }


def _running(container: str) -> Callable[[JSON], object]:
    return lambda p: (status_of(p, container).get("state") or {}).get("running")


def _ready(p: JSON) -> bool:
    return bool(status_of(p, "app").get("ready"))


def _conditions(p: JSON) -> dict[str, str]:
    return {c["type"]: c["status"] for c in p.get("status", {}).get("conditions") or []}


_SETTLED: dict[str, Callable[[JSON], object]] = {
    "unschedulable": lambda p: _conditions(p).get("PodScheduled") == "False",
    "kitchen-sink": lambda p: _conditions(p).get("PodScheduled") == "False",
    "ready": _ready,
    "not-ready": lambda p: _running("app")(p) and _conditions(p).get("Ready") == "False",
    "crashloop": lambda p: (
        waiting_reason(p, "app") == "CrashLoopBackOff" and terminated(p, "app", last=True)
    ),
    "completed": lambda p: p["status"].get("phase") == "Succeeded",
    "error": lambda p: p["status"].get("phase") == "Failed",
    "oomkilled": lambda p: (terminated(p, "app") or {}).get("reason") == "OOMKilled",
    "initialized": _ready,
    "init-crash": lambda p: (
        waiting_reason(p, "setup", init=True) == "CrashLoopBackOff"
        and status_of(p, "setup", init=True).get("lastState", {}).get("terminated")
    ),
    "initializing": lambda p: (status_of(p, "setup", init=True).get("state") or {}).get("running"),
    "no-image": lambda p: waiting_reason(p, "app") in {"ErrImagePull", "ImagePullBackOff"},
    "config-error": lambda p: waiting_reason(p, "app") == "CreateContainerConfigError",
    "multi": lambda p: (
        all(s.get("ready") for s in p["status"].get("containerStatuses") or [])
        and len(p["status"].get("containerStatuses") or []) == 2
    ),
    "gated": lambda p: _conditions(p).get("ContainersReady") == "True",
    "sysctl-forbidden": lambda p: p["status"].get("reason") == "SysctlForbidden",
    "terminating": _running("app"),
}


def _mask(text: str) -> str:
    """The events table's Age column (header and values) becomes `<age>`; `(lasts …)` loses
    its duration; a node's Lease RenewTime and its conditions' LastHeartbeatTime (a fixed-width
    column) become `<time>`. Nothing else changes."""
    out: list[str] = []
    age = beat = -1
    for line in text.split("\n"):
        if re.match(r"^  Type +Reason +Age +From +Message$", line):
            age = line.index("Age")
        elif age >= 0 and line.startswith("  ") and len(line) > age:
            cell = re.match(r"\S+(?: \(x\d+ over \S+\))? +", line[age:])
            if cell is not None:
                line = line[:age] + "<age>  " + line[age + cell.end() :]
        if re.match(r"^  Type +Status +LastHeartbeatTime +LastTransitionTime ", line):
            beat = line.index("LastHeartbeatTime")
        elif not line.startswith("  "):
            beat = -1
        elif beat >= 0 and _RFC1123Z.match(line, beat):
            line = _RFC1123Z.sub("<time>", line, count=1)
        out.append(_RENEW.sub(r"\1<time>", _LASTS.sub("(lasts <age>)", line)))
    return "\n".join(out)


def _cells(text: str) -> str:
    """A `get` table as its cells with the AGE column's values masked: an age ticks between
    the two runs (by more than a try's worth on a loaded machine), and a tick can change the
    column's width and so every column's padding. The padding itself is checked against
    kubectl's by the golden tests of printers/."""
    lines = text.splitlines()
    if not lines:
        return text
    header = re.split(r"\s{2,}", lines[0].strip())
    age = header.index("AGE") if "AGE" in header else -1
    out = []
    for line in lines:
        cells = re.split(r"\s{2,}", line.strip())
        if 0 <= age < len(cells) and line is not lines[0]:
            cells[age] = "<age>"
        out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def _both(node: Node, theirs: list[str], ours: list[str]) -> tuple[str, str]:
    """kubectl's and minikubelet's output, the two commands started together."""
    kubectl = subprocess.Popen(theirs, env=node.env, stdout=subprocess.PIPE, text=True)
    mine = subprocess.Popen(
        [sys.executable, "-m", "minikubelet", *ours],
        env=node.env, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    a, _ = kubectl.communicate(timeout=60)
    b, _ = mine.communicate(timeout=60)
    return a, b


def _compare(
    node: Node,
    theirs: list[str],
    ours: list[str],
    masked: bool = True,
    release: tuple[str, str] | None = None,
) -> str | None:
    """None when the two agree (a few tries: a restart count or an age may tick between the
    two runs; `masked` describe texts lose their event ages, other outputs are compared as
    `get` tables' cells with AGE masked); else a unified diff of the last try. `release` is a
    documented difference of another kubectl release (its text, then 1.32's), put back before
    comparing."""
    a = b = ""
    for _ in range(4):
        a, b = _both(node, theirs, ours)
        if release is not None:
            assert release[0] in a, f"{theirs[0]} no longer prints {release[0]!r}"
            a = a.replace(*release)
        if masked:
            a, b = _mask(a), _mask(b)
        else:
            a, b = _cells(a), _cells(b)
        if a == b and a:
            return None
    diff = difflib.unified_diff(
        a.splitlines(),
        b.splitlines(),
        " ".join(theirs),
        "minikubelet " + " ".join(ours),
        lineterm="",
    )
    return "\n".join(diff) or f"empty output from {' '.join(theirs)}"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """One agent with every pod of `_pods()` in its settled state; `terminating` is being
    deleted (SIGTERM ignored, 120 s of grace)."""
    with listening_node(tmp_path_factory.mktemp("oracle")) as node:
        manifests = _pods()
        # `multi` mounts it (projected): without it the pod would wait in FailedMount
        node.kubectl("create", "configmap", "settings", "--from-literal=mode=fast")
        for manifest in manifests.values():
            node.agent.apply(manifest)
        for name, settled in _SETTLED.items():
            pod_when(node.agent, name, settled, 60, f"{name} settled")
        node.kubectl("delete", "pod", "terminating", "--wait=false")
        node.agent.wait_for(
            lambda: node.agent.pod("terminating")["metadata"].get("deletionTimestamp"), 10
        )
        yield node


# Part 3 §9 of the reference: from 1.33 on, describe prints a projected configMap's optional
# flag as `Optional: false` where 1.32 printed `ConfigMapOptional: <nil>` (its column moves
# too); a projected secret's `SecretOptionalName: <nil>` changed the same way (not in the
# reference's table). Per pod: 1.33's text, then 1.32's.
_RELEASE_1_33 = {
    "multi": (
        "    Type:           Projected"
        " (a volume that contains injected data from multiple sources)\n"
        "    ConfigMapName:  settings\n"
        "    Optional:       false\n",
        "    Type:               Projected"
        " (a volume that contains injected data from multiple sources)\n"
        "    ConfigMapName:      settings\n"
        "    ConfigMapOptional:  <nil>\n",
    ),
    "kitchen-sink": (
        "    SecretName:              creds\n    Optional:                false\n",
        "    SecretName:              creds\n    SecretOptionalName:      <nil>\n",
    ),
}


def _real_kubectl(version: str) -> str:
    real = Path(shutil.which("kubectl") or "kubectl").resolve()
    return str(real.parent / f"kubectl.{version}")


def test_describe_is_byte_identical_to_kubectl(oracle: Node) -> None:
    differences = []
    for name in _pods():
        found = _compare(oracle, ["kubectl", "describe", "pod", name], ["describe", "pod", name])
        if found is not None:
            differences.append(found)
    both = _compare(oracle, ["kubectl", "describe", "pods"], ["describe", "pods"])
    if both is not None:
        differences.append(both)
    assert not differences, "\n\n".join(differences)


def test_describe_node_is_byte_identical_to_kubectl(oracle: Node) -> None:
    """The node running the oracle's pods: its Lease, conditions, the pods that have not
    ended with their requests and limits, the totals, and its events (both searches)."""
    differences = []
    name = oracle.agent.api.request("GET", "/api/v1/nodes")["items"][0]["metadata"]["name"]
    for args in (["node", name], ["nodes"]):
        found = _compare(oracle, ["kubectl", "describe", *args], ["describe", *args])
        if found is not None:
            differences.append(found)
    assert not differences, "\n\n".join(differences)


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_oldest_and_newest_clients_print_the_same(oracle: Node, version: str) -> None:
    binary = _real_kubectl(version)
    differences = []
    for args in (["get", "pods"], ["get", "pods", "-o", "wide"]):
        found = _compare(oracle, [binary, *args], args, masked=False)
        if found is not None:
            differences.append(found)
    for name in _pods():
        release = _RELEASE_1_33.get(name) if version == "1.33" else None
        found = _compare(
            oracle, [binary, "describe", "pod", name], ["describe", "pod", name], release=release
        )
        if found is not None:
            differences.append(found)
    assert not differences, "\n\n".join(differences)
