"""Golden tests of `describe node`: kubectl 1.32's bytes for a cordoned node with a taint, its
Lease, two pods (one with requests and limits, one with neither) and its events, at a pinned
`now`.

The expected text was checked against the real kubectl 1.32.4 (`kubectl describe node` against
a stub API server serving the same node, Lease, pods and events). Several lines end in spaces
(an empty System Info value): kubectl writes them so.
"""

# ruff: noqa: E501

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.api.codec import format_time
from minikubelet.api.kinds import NODE
from minikubelet.api.raw import JSON
from minikubelet.errors import NotFound
from minikubelet.printers.describe_node import (
    DESCRIBE_NODE,
    Lookup,
    describe_node,
    pod_requests_and_limits,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


NODE_JSON: JSON = {
    "metadata": {
        "name": "node1",
        "uid": "8f0c7a4e-1b2d-4c3e-9f00-5a6b7c8d9e0f",
        "creationTimestamp": ago(10 * 86400),
        "labels": {
            "kubernetes.io/hostname": "node1",
            "kubernetes.io/os": "linux",
            "kubernetes.io/role": "worker",
            "node-role.kubernetes.io/control-plane": "",
        },
        "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
    },
    "spec": {
        "podCIDR": "10.244.0.0/24",
        "podCIDRs": ["10.244.0.0/24", "fd00:10:244::/64"],
        "providerID": "minikubelet://node1",
        "unschedulable": True,
        "taints": [
            {
                "key": "node.kubernetes.io/unschedulable",
                "effect": "NoSchedule",
                "timeAdded": ago(60),
            },
            {"key": "dedicated", "value": "gpu", "effect": "NoExecute"},
        ],
    },
    "status": {
        "capacity": {
            "cpu": "2",
            "ephemeral-storage": "100Gi",
            "example.com/gpu": "2",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "64Mi",
            "memory": "8Gi",
            "pods": "110",
        },
        "allocatable": {
            "cpu": "2",
            "ephemeral-storage": "90Gi",
            "example.com/gpu": "2",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "64Mi",
            "memory": "7680Mi",
            "pods": "110",
        },
        "conditions": [
            {
                "type": "MemoryPressure",
                "status": "False",
                "lastHeartbeatTime": ago(5),
                "lastTransitionTime": ago(10 * 86400),
                "reason": "KubeletHasSufficientMemory",
                "message": "kubelet has sufficient memory available",
            },
            {
                "type": "DiskPressure",
                "status": "False",
                "lastHeartbeatTime": ago(5),
                "lastTransitionTime": ago(10 * 86400),
                "reason": "KubeletHasNoDiskPressure",
                "message": "kubelet has no disk pressure",
            },
            {
                "type": "Ready",
                "status": "True",
                "lastHeartbeatTime": ago(5),
                "lastTransitionTime": ago(3600),
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            },
        ],
        "addresses": [
            {"type": "InternalIP", "address": "172.30.0.1"},
            {"type": "Hostname", "address": "node1"},
        ],
        "nodeInfo": {
            "machineID": "3d1219c7c4c5404aaa1f6d2a48adfda4",
            "systemUUID": "",
            "bootID": "9b5ca3d9-6f53-4a67-b0e2-ded5e5862a3a",
            "kernelVersion": "6.1.0-18-amd64",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "operatingSystem": "linux",
            "architecture": "amd64",
            "containerRuntimeVersion": "docker://20.10.24",
            "kubeletVersion": "v1.32.0",
            "kubeProxyVersion": "",
        },
    },
}

LEASE: JSON = {
    "metadata": {"name": "node1", "namespace": "kube-node-lease"},
    "spec": {
        "holderIdentity": "node1",
        "leaseDurationSeconds": 40,
        "renewTime": format_time(NOW - timedelta(seconds=3)).replace("Z", ".123456Z"),
    },
}


def _pod(namespace: str, name: str, age: float, **spec: object) -> JSON:
    meta = {"name": name, "namespace": namespace, "creationTimestamp": ago(age)}
    return {"metadata": meta, "spec": {"nodeName": "node1", **spec}, "status": {"phase": "Running"}}


# cpu: 500m + 80m = 580m of 2 cpus, which Go's float64 arithmetic makes 28% (not 29%); memory:
# 256Mi + 100M, a sum in the first addend's format that no binary suffix prints exactly.
WEB = _pod(
    "default",
    "web",
    7200,
    containers=[
        {
            "name": "app",
            "image": "webapl:1",
            "resources": {
                "requests": {
                    "cpu": "500m",
                    "memory": "256Mi",
                    "ephemeral-storage": "2Gi",
                    "hugepages-2Mi": "32Mi",
                },
                "limits": {
                    "cpu": "1",
                    "memory": "512Mi",
                    "example.com/gpu": "1",
                    "hugepages-2Mi": "32Mi",
                },
            },
        },
        {
            "name": "side",
            "image": "webapl:1",
            "resources": {"requests": {"cpu": "80m", "memory": "100M"}},
        },
    ],
)
BATCH = _pod("jobs", "batch", 90, containers=[{"name": "app", "image": "webapl:1"}])


def _event(reason: str, message: str, seconds: float, uid: str, **more: object) -> JSON:
    return {
        "involvedObject": {"kind": "Node", "name": "node1", "uid": uid},
        "type": "Normal",
        "reason": reason,
        "message": message,
        "firstTimestamp": ago(seconds),
        "lastTimestamp": ago(seconds),
        "count": 1,
        "source": {"component": "kubelet", "host": "node1"},
        **more,
    }


# The search by the node's uid comes first, then the kubelet's (its name as the uid).
EVENTS: list[JSON] = [
    _event("RegisteredNode", "Node node1 event: Registered Node node1 in Controller", 3000,
           NODE_JSON["metadata"]["uid"], source={"component": "node-controller"}),
    _event("Starting", "Starting kubelet.", 3605, "node1"),
    _event("NodeReady", "Node node1 status is now: NodeReady", 3600, "node1"),
    _event("NodeNotSchedulable", "Node node1 status is now: NodeNotSchedulable", 60, "node1",
           count=3, firstTimestamp=ago(1800)),
]  # fmt: skip

EXPECTED = """\
Name:               node1
Roles:              control-plane,worker
Labels:             kubernetes.io/hostname=node1
                    kubernetes.io/os=linux
                    kubernetes.io/role=worker
                    node-role.kubernetes.io/control-plane=
Annotations:        node.alpha.kubernetes.io/ttl: 0
CreationTimestamp:  Sun, 21 Apr 2024 12:00:00 +0000
Taints:             dedicated=gpu:NoExecute
                    node.kubernetes.io/unschedulable:NoSchedule
Unschedulable:      true
Lease:
  HolderIdentity:  node1
  AcquireTime:     <unset>
  RenewTime:       Wed, 01 May 2024 11:59:57 +0000
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Wed, 01 May 2024 11:59:55 +0000   Sun, 21 Apr 2024 12:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  DiskPressure     False   Wed, 01 May 2024 11:59:55 +0000   Sun, 21 Apr 2024 12:00:00 +0000   KubeletHasNoDiskPressure     kubelet has no disk pressure
  Ready            True    Wed, 01 May 2024 11:59:55 +0000   Wed, 01 May 2024 11:00:00 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  172.30.0.1
  Hostname:    node1
Capacity:
  cpu:                2
  ephemeral-storage:  100Gi
  example.com/gpu:    2
  hugepages-1Gi:      0
  hugepages-2Mi:      64Mi
  memory:             8Gi
  pods:               110
Allocatable:
  cpu:                2
  ephemeral-storage:  90Gi
  example.com/gpu:    2
  hugepages-1Gi:      0
  hugepages-2Mi:      64Mi
  memory:             7680Mi
  pods:               110
System Info:
  Machine ID:                 3d1219c7c4c5404aaa1f6d2a48adfda4
  System UUID:                
  Boot ID:                    9b5ca3d9-6f53-4a67-b0e2-ded5e5862a3a
  Kernel Version:             6.1.0-18-amd64
  OS Image:                   Debian GNU/Linux 12 (bookworm)
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  docker://20.10.24
  Kubelet Version:            v1.32.0
  Kube-Proxy Version:         
PodCIDR:                      10.244.0.0/24
PodCIDRs:                     10.244.0.0/24,fd00:10:244::/64
ProviderID:                   minikubelet://node1
Non-terminated Pods:          (2 in total)
  Namespace                   Name     CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----     ------------  ----------  ---------------  -------------  ---
  default                     web      580m (28%)    1 (50%)     368435456 (4%)   512Mi (6%)     120m
  jobs                        batch    0 (0%)        0 (0%)      0 (0%)           0 (0%)         90s
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests        Limits
  --------           --------        ------
  cpu                580m (28%)      1 (50%)
  memory             368435456 (4%)  512Mi (6%)
  ephemeral-storage  2Gi (2%)        0 (0%)
  hugepages-1Gi      0 (0%)          0 (0%)
  hugepages-2Mi      32Mi (50%)      32Mi (50%)
  example.com/gpu    0               1
Events:
  Type    Reason              Age                From             Message
  ----    ------              ----               ----             -------
  Normal  Starting            60m                kubelet          Starting kubelet.
  Normal  NodeReady           60m                kubelet          Node node1 status is now: NodeReady
  Normal  RegisteredNode      50m                node-controller  Node node1 event: Registered Node node1 in Controller
  Normal  NodeNotSchedulable  60s (x3 over 30m)  kubelet          Node node1 status is now: NodeNotSchedulable
"""


def test_describe_node_as_kubectl_prints_it() -> None:
    pods = [WEB, BATCH]
    text = describe_node(NODE_JSON, EVENTS, NOW, tz=UTC, pods=pods, lease=LEASE)
    assert text == EXPECTED


BARE = """\
Name:               bare
Roles:              <none>
Labels:             <none>
Annotations:        <none>
CreationTimestamp:  Mon, 01 Jan 0001 00:00:00 +0000
Taints:             <none>
Unschedulable:      false
Lease:              Failed to get lease: leases.coordination.k8s.io "bare" not found
Addresses:
System Info:
  Machine ID:                 
  System UUID:                
  Boot ID:                    
  Kernel Version:             
  OS Image:                   
  Operating System:           
  Architecture:               
  Container Runtime Version:  
  Kubelet Version:            
  Kube-Proxy Version:         
Pods:                         not authorized
Events:                       <none>
"""


def test_a_node_with_nothing_no_lease_and_pods_out_of_reach() -> None:
    """No status yet, the Lease's GET failed, the pods' list was forbidden, no events."""
    lease = NotFound('leases.coordination.k8s.io "bare" not found')
    text = describe_node({"metadata": {"name": "bare"}}, [], NOW, tz=UTC, pods=None, lease=lease)
    assert text == BARE


def test_without_events_or_lease_lookup() -> None:
    """`--show-events=false` leaves Events out; an unlooked-up Lease leaves Lease out."""
    text = describe_node(NODE_JSON, None, NOW, tz=UTC, pods=[])
    assert "Lease:" not in text and "Events:" not in text
    assert text.endswith(
        "  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age\n"
        "  ---------                   ----    ------------  ----------  ---------------  -------------  ---\n"
        "Allocated resources:\n"
        "  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
        "  Resource           Requests  Limits\n"
        "  --------           --------  ------\n"
        "  cpu                0 (0%)    0 (0%)\n"
        "  memory             0 (0%)    0 (0%)\n"
        "  ephemeral-storage  0 (0%)    0 (0%)\n"
        "  hugepages-1Gi      0 (0%)    0 (0%)\n"
        "  hugepages-2Mi      0 (0%)    0 (0%)\n"
        "  example.com/gpu    0         0\n"
    )


def test_a_pod_on_a_node_without_allocatable_cpu() -> None:
    """The per-pod percentages divide unguarded: Go's int64() of x/0 is the smallest int64."""
    node = {"metadata": {"name": "n"}, "status": {"capacity": {"memory": "1Gi"}}}
    text = describe_node(node, None, NOW, tz=UTC, pods=[WEB])
    assert "580m (-9223372036854775808%)" in text
    assert "  cpu                580m (0%)" in text  # the totals are guarded


def _container(
    name: str, requests: dict[str, str], limits: dict[str, str] | None = None, **more: object
) -> JSON:
    return {"name": name, "resources": {"requests": requests, "limits": limits or {}}, **more}


@pytest.mark.parametrize(
    ("spec", "status", "requests", "limits"),
    [
        pytest.param(
            {"containers": [_container("a", {"cpu": "100m"}, {"cpu": "200m"}), _container("b", {"cpu": "1"})]},
            {}, {"cpu": "1100m"}, {"cpu": "200m"}, id="containers summed",
        ),
        pytest.param(
            {"containers": [_container("a", {"cpu": "100m"})], "initContainers": [_container("i", {"cpu": "1"})]},
            {}, {"cpu": "1"}, {}, id="the largest init container wins",
        ),
        pytest.param(
            {
                "containers": [_container("a", {"cpu": "100m"})],
                "initContainers": [
                    _container("s", {"cpu": "200m"}, {"memory": "64Mi"}, restartPolicy="Always"),
                    _container("i", {"cpu": "250m"}),
                ],
            },
            {}, {"cpu": "450m"}, {"memory": "64Mi"}, id="a sidecar adds, and runs beside later inits",
        ),
        pytest.param(
            {"containers": [_container("a", {"cpu": "100m"}, {"cpu": "1", "memory": "0"})], "overhead": {"cpu": "10m", "memory": "1Mi"}},
            {}, {"cpu": "110m", "memory": "1Mi"}, {"cpu": "1010m", "memory": "0"}, id="overhead on requests and non-zero limits",
        ),
        pytest.param(
            {"containers": [_container("a", {"cpu": "100m", "memory": "1Gi"})]},
            {"containerStatuses": [{"name": "a", "resources": {"requests": {"cpu": "300m", "memory": "1M"}}}]},
            {"cpu": "300m", "memory": "1Gi"}, {}, id="a larger request the status reports",
        ),
        pytest.param(
            {"containers": [_container("a", {"cpu": "100m"})]},
            {"resize": "Infeasible", "containerStatuses": [{"name": "a", "resources": {"requests": {"cpu": "50m"}}}]},
            {"cpu": "50m"}, {}, id="an infeasible resize: the status's",
        ),
    ],
)  # fmt: skip
def test_pod_requests_and_limits(
    spec: JSON, status: JSON, requests: dict[str, str], limits: dict[str, str]
) -> None:
    found = pod_requests_and_limits({"spec": spec, "status": status})
    assert ({k: str(v) for k, v in found[0].items()}, {k: str(v) for k, v in found[1].items()}) == (
        requests,
        limits,
    )


def test_the_registry_names_the_describer_and_its_lookups() -> None:
    assert NODE.load("describer") is DESCRIBE_NODE
    assert DESCRIBE_NODE.lookups(NODE_JSON) == {
        "pods": Lookup(
            "Pod",
            None,
            field_selector="spec.nodeName=node1,status.phase!=Succeeded,status.phase!=Failed",
        ),
        "lease": Lookup("Lease", "kube-node-lease", "node1"),
    }
    text = DESCRIBE_NODE(NODE_JSON, EVENTS, NOW, tz=UTC, pods=[WEB, BATCH], lease=LEASE)
    assert text == EXPECTED
