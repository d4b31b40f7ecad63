"""The scheduler's filter and queue for one node (`node/scheduler.py`), against the 1.32
plugins' reasons and FitError texts (kube-scheduler v1.32.5, `framework/types.go`,
`plugins/*`, `preemption.go`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.create import mutate_pod_affinity
from minikubelet.api.models import Pod
from minikubelet.api.raw import JSON
from minikubelet.node.scheduler import Attempt, filter_node, pod_requests

NOT_HELPFUL = "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
NO_VICTIMS = "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
HOSTNAME = "kubernetes.io/hostname"


def node(labels: dict[str, str] | None = None, **spec: Any) -> JSON:
    return {
        "metadata": {"name": "node1", "labels": {HOSTNAME: "node1", **(labels or {})}},
        "spec": spec,
        "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "110"}},
    }


def pod(
    name: str = "p", labels: dict[str, str] | None = None, ns: str = "default", **spec: Any
) -> JSON:
    containers = spec.pop("containers", [{"name": "app", "image": "x"}])
    return {
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "labels": labels or {}},
        "spec": {"containers": containers, **spec},
    }


def message(p: JSON, n: JSON, others: list[JSON] | None = None) -> str:
    unfit = filter_node(p, n, others or [])
    assert unfit is not None
    return unfit.message()


def fits(p: JSON, n: JSON, others: list[JSON] | None = None) -> bool:
    return filter_node(p, n, others or []) is None


def anti(selector: JSON | None, key: str = HOSTNAME, **term: Any) -> JSON:
    required = [{"labelSelector": selector, "topologyKey": key, **term}]
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def affinity(selector: JSON | None, key: str = HOSTNAME) -> JSON:
    required = [{"labelSelector": selector, "topologyKey": key}]
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def node_terms(*terms: JSON) -> JSON:
    required = {"nodeSelectorTerms": list(terms)}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


APP_WEB = {"matchLabels": {"app": "web"}}


def test_a_node_selector_that_does_not_match() -> None:
    assert message(pod(nodeSelector={"disk": "ssd"}), node()) == (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        + NOT_HELPFUL
    )
    assert fits(pod(nodeSelector={"disk": "ssd"}), node({"disk": "ssd"}))


@pytest.mark.parametrize(
    ("expression", "labels", "matches"),
    [
        ({"key": "disk", "operator": "In", "values": ["ssd", "nvme"]}, {"disk": "nvme"}, True),
        ({"key": "disk", "operator": "NotIn", "values": ["hdd"]}, {}, True),
        ({"key": "disk", "operator": "NotIn", "values": ["hdd"]}, {"disk": "hdd"}, False),
        ({"key": "disk", "operator": "Exists"}, {"disk": ""}, True),
        ({"key": "disk", "operator": "DoesNotExist"}, {"disk": "x"}, False),
        ({"key": "gen", "operator": "Gt", "values": ["3"]}, {"gen": "4"}, True),
        ({"key": "gen", "operator": "Gt", "values": ["3"]}, {"gen": "three"}, False),
        ({"key": "gen", "operator": "Lt", "values": ["3"]}, {"gen": "2"}, True),
        ({"key": "gen", "operator": "Lt", "values": ["3"]}, {}, False),
    ],
)
def test_required_node_affinity_operators(
    expression: JSON, labels: dict[str, str], matches: bool
) -> None:
    assert (
        fits(pod(affinity=node_terms({"matchExpressions": [expression]})), node(labels)) is matches
    )


def test_node_selector_terms_are_ored_and_an_empty_term_matches_nothing() -> None:
    ssd = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
    os = {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "Exists"}]}
    assert not fits(pod(affinity=node_terms(ssd)), node())
    assert fits(
        pod(affinity=node_terms(ssd, {"matchExpressions": []}, os)),
        node({"kubernetes.io/os": "linux"}),
    )
    assert not fits(pod(affinity=node_terms({})), node())


def test_match_fields_on_the_node_name() -> None:
    named = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node1"]}]}
    assert fits(pod(affinity=node_terms(named)), node())
    other = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node2"]}]}
    assert message(pod(affinity=node_terms(other)), node()) == (
        "0/1 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity]. " + NOT_HELPFUL
    )
    both = {"matchFields": [*other["matchFields"], *named["matchFields"]]}
    assert message(pod(affinity=node_terms(both)), node()) == (
        "0/1 nodes are available: pod affinity terms conflict. " + NOT_HELPFUL
    )
    not_in = {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node1"]}]}
    assert message(pod(affinity=node_terms(not_in)), node()).startswith(
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
    )


def test_a_claim_the_node_does_not_have_fails_the_prefilter() -> None:
    """VolumeRestrictions' PreFilter reads the claim before any node is filtered: its message
    has no count, and comes before a taint or a selector that would also refuse the pod."""
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "mysql-pv-claim"}}]
    tainted = node(taints=[{"key": "k", "effect": "NoSchedule"}])
    assert message(pod(volumes=volumes, nodeSelector={"disk": "ssd"}), tainted) == (
        '0/1 nodes are available: persistentvolumeclaim "mysql-pv-claim" not found. ' + NOT_HELPFUL
    )
    other = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node2"]}]}
    assert message(pod(affinity=node_terms(other)), tainted).startswith(
        "0/1 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )


def test_taints_then_cordon_in_the_plugins_order() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    tainted = node(taints=[taint])
    assert message(pod(nodeSelector={"disk": "ssd"}), tainted) == (
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. " + NOT_HELPFUL
    )
    assert fits(pod(tolerations=[{"key": "dedicated", "operator": "Exists"}]), tainted)
    assert fits(pod(tolerations=[{"key": "dedicated", "value": "gpu"}]), tainted)
    assert not fits(pod(tolerations=[{"key": "dedicated", "value": "cpu"}]), tainted)
    assert not fits(
        pod(tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]),
        tainted,
    )
    assert fits(pod(tolerations=[{"operator": "Exists"}]), tainted)
    assert fits(pod(), node(taints=[{"key": "soft", "effect": "PreferNoSchedule"}]))
    cordoned = node(unschedulable=True, taints=[taint])
    assert message(pod(), cordoned) == (
        "0/1 nodes are available: 1 node(s) were unschedulable. " + NOT_HELPFUL
    )
    tolerant = [
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
        {"operator": "Exists"},
    ]
    assert fits(pod(tolerations=tolerant), cordoned)


def ports(*entries: JSON) -> list[JSON]:
    return [{"name": "app", "image": "x", "ports": list(entries)}]


def test_host_ports_held_by_another_pod() -> None:
    holder = pod("holder", containers=ports({"containerPort": 80, "hostPort": 8080}))
    wanted = pod(containers=ports({"containerPort": 80, "hostPort": 8080}))
    assert message(wanted, node(), [holder]) == (
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
        + NO_VICTIMS
    )
    udp = pod(containers=ports({"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}))
    assert fits(udp, node(), [holder])
    on_ip = pod(containers=ports({"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.1"}))
    assert not fits(on_ip, node(), [holder])  # the holder's 0.0.0.0 covers every address
    holder_ip = pod(
        "h2", containers=ports({"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.2"})
    )
    assert fits(on_ip, node(), [holder_ip])
    init_holder = pod("init", initContainers=ports({"containerPort": 80, "hostPort": 8080}))
    assert fits(wanted, node(), [init_holder])  # 1.32 reads spec.containers only


def requesting(name: str, cpu: str = "", memory: str = "", **spec: Any) -> JSON:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container = {"name": "app", "image": "x", "resources": {"requests": requests}}
    return pod(name, containers=[container], **spec)


def test_requests_beyond_what_is_left() -> None:
    assert fits(requesting("a", "1500m", "512Mi"), node())
    used = [requesting("a", "1500m", "512Mi")]
    assert message(requesting("b", "600m", "600Mi"), node(), used) == (
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. " + NO_VICTIMS
    )
    assert fits(requesting("b", "500m"), node(), used)
    assert fits(pod("c"), node(), used)  # no requests: always fits
    full = node()
    full["status"]["allocatable"]["pods"] = "1"
    assert message(pod("c"), full, [pod("d")]).startswith(
        "0/1 nodes are available: 1 Too many pods."
    )


def test_pod_requests_with_init_containers_and_sidecars() -> None:
    def c(cpu: str, **extra: Any) -> JSON:
        return {"name": cpu, "image": "x", "resources": {"requests": {"cpu": cpu}}, **extra}

    spec = {
        "containers": [c("100m"), c("200m")],
        "initContainers": [c("1"), c("50m", restartPolicy="Always"), c("400m")],
        "overhead": {"cpu": "10m"},
    }
    # sum 300m + sidecar 50m = 350m; init max(1, 400m + 50m) = 1: the larger, plus overhead
    assert pod_requests(spec)["cpu"] == Decimal("1.010")


def spread(key: str = "zone", selector: JSON | None = None, **extra: Any) -> list[JSON]:
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": APP_WEB if selector is None else selector, **extra}]  # fmt: skip


def test_topology_spread_on_one_node() -> None:
    web = pod("w", {"app": "web"}, topologySpreadConstraints=spread())
    assert message(web, node()) == (
        "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints "
        "(missing required label). " + NOT_HELPFUL
    )
    zoned = node({"zone": "a"})
    others = [pod(f"o{i}", {"app": "web"}) for i in range(3)]
    assert fits(web, zoned, others)  # one domain: never skewed
    soft = pod(
        "w", {"app": "web"}, topologySpreadConstraints=spread(whenUnsatisfiable="ScheduleAnyway")
    )
    assert fits(soft, node())
    few = pod("w", {"app": "web"}, topologySpreadConstraints=spread(minDomains=2))
    assert fits(few, zoned)  # 0 + itself = 1: within maxSkew 1
    assert message(few, zoned, others[:1]) == (
        "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints. "
        + NO_VICTIMS
    )
    elsewhere = [pod("o", {"app": "web"}, ns="other")]
    assert fits(few, zoned, elsewhere)  # other namespaces do not count
    terminating = pod("t", {"app": "web"})
    terminating["metadata"]["deletionTimestamp"] = "2026-12-04T00:00:00Z"
    assert fits(few, zoned, [terminating])
    everything = pod(
        "w", {"app": "web"}, topologySpreadConstraints=spread(selector={}, minDomains=2)
    )
    assert fits(everything, zoned, others)  # `{}` is Empty(): it counts no pod


def test_topology_spread_match_label_keys() -> None:
    constraint = spread(minDomains=2, matchLabelKeys=["rev"])
    new = pod("w", {"app": "web", "rev": "2"}, topologySpreadConstraints=constraint)
    old = [pod("o", {"app": "web", "rev": "1"})]
    assert fits(new, node({"zone": "a"}), old)
    assert not fits(new, node({"zone": "a"}), [pod("o", {"app": "web", "rev": "2"})])


def test_pod_affinity() -> None:
    follower = pod("f", {"app": "cache"}, affinity=affinity(APP_WEB))
    assert message(follower, node()) == (
        "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. " + NOT_HELPFUL
    )
    assert fits(follower, node(), [pod("w", {"app": "web"})])
    assert not fits(follower, node(), [pod("w", {"app": "web"}, ns="other")])
    first = pod("first", {"app": "web"}, affinity=affinity(APP_WEB))
    assert fits(first, node())  # the first of a group that selects itself
    assert fits(first, node(), [pod("x", {"app": "web"}, ns="other")])  # another namespace
    no_key = pod("first", {"app": "web"}, affinity=affinity(APP_WEB, key="zone"))
    assert not fits(no_key, node())  # the key must be on the node, even for the first pod
    assert not fits(
        pod("n", {"app": "web"}, affinity=affinity(None)), node(), [pod("w", {"app": "web"})]
    )


def test_pod_anti_affinity_the_pods_own_and_the_others() -> None:
    second = pod("b", {"app": "web"}, affinity=anti(APP_WEB))
    running = pod("a", {"app": "web"}, affinity=anti(APP_WEB))
    assert message(second, node(), [running]) == (
        "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. " + NO_VICTIMS
    )
    assert fits(second, node())
    unkeyed = pod("b", {"app": "web"}, affinity=anti(APP_WEB, key="zone"))
    assert fits(unkeyed, node(), [pod("a", {"app": "web"})])  # the node has no zone
    plain = pod("c", {"app": "web"})
    assert message(plain, node(), [running]) == (
        "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules. "
        + NO_VICTIMS
    )
    assert fits(pod("c", {"app": "web"}, ns="other"), node(), [running])  # its own namespace
    everywhere = pod("a", {"app": "web"}, affinity=anti(APP_WEB, namespaceSelector={}))
    assert not fits(pod("c", {"app": "web"}, ns="other"), node(), [everywhere])
    listed = pod("a", {"app": "web"}, affinity=anti(APP_WEB, namespaces=["other"]))
    assert not fits(pod("c", {"app": "web"}, ns="other"), node(), [listed])
    assert fits(plain, node(), [listed])


def test_match_label_keys_in_pod_anti_affinity_as_the_api_server_merged_them() -> None:
    new = pod("b", {"app": "web", "rev": "2"})
    new["spec"]["affinity"] = anti(APP_WEB, matchLabelKeys=["rev"])
    mutate_pod_affinity_json(new)
    assert fits(new, node(), [pod("a", {"app": "web", "rev": "1"})])
    assert not fits(new, node(), [pod("a", {"app": "web", "rev": "2"})])


def mutate_pod_affinity_json(body: JSON) -> None:
    model = from_dict(Pod, body)
    mutate_pod_affinity(model)
    body["spec"]["affinity"] = model.spec.extra["affinity"]


def attempt(p: JSON, n: JSON, others: list[JSON], at: float = 0.0, count: int = 1) -> Attempt:
    unfit = filter_node(p, n, others)
    assert unfit is not None
    return Attempt(at, count, unfit, p, n, {o["metadata"]["uid"]: o for o in others})


def test_back_off_and_the_five_minute_flush() -> None:
    p = pod(nodeSelector={"disk": "ssd"})
    last = attempt(p, node(), [], count=1)
    assert not last.due(p, node(), [], 60)  # nothing changed: unschedulable
    assert last.due(p, node(), [], 300)  # flushUnschedulablePodsLeftover
    labelled = node({"disk": "ssd"})
    assert last.due(p, labelled, [], 1.0)  # the node now matches: after the 1 s back-off
    assert not last.due(p, labelled, [], 0.5)
    assert not attempt(p, node(), [], count=5).due(p, labelled, [], 9.9)  # 10 s at most
    assert attempt(p, node(), [], count=5).due(p, labelled, [], 10)
    assert not last.due(p, node({"other": "x"}), [], 5)  # a label change that does not help


def test_queueing_hints_for_pods_that_go() -> None:
    holder = pod("holder", containers=ports({"containerPort": 80, "hostPort": 8080}))
    wanted = pod(containers=ports({"containerPort": 80, "hostPort": 8080}))
    last = attempt(wanted, node(), [holder])
    assert not last.due(wanted, node(), [holder, pod("new")], 5)
    assert last.due(wanted, node(), [], 5)
    # the pod whose own anti-affinity kept this one out goes: 1.32 has no hint for that
    running = pod("a", {"app": "web"}, affinity=anti(APP_WEB))
    plain = pod("c", {"app": "web"})
    blocked = attempt(plain, node(), [running])
    assert not blocked.due(plain, node(), [], 5)
    assert blocked.due(plain, node(), [], 300)
    # but one this pod's own anti-affinity selects does move it
    second = pod("b", {"app": "web"}, affinity=anti(APP_WEB))
    assert attempt(second, node(), [running]).due(second, node(), [], 5)
    # a pod its affinity needs arrives
    follower = pod("f", {"app": "cache"}, affinity=affinity(APP_WEB))
    waiting = attempt(follower, node(), [])
    assert not waiting.due(follower, node(), [pod("x", {"app": "db"})], 5)
    assert waiting.due(follower, node(), [pod("w", {"app": "web"})], 5)


def test_a_missing_claim_waits_for_the_flush_whatever_else_changes() -> None:
    """VolumeRestrictions has no hint a pod or node event satisfies: only the 5-minute flush
    tries the pod again, however many pods come and go."""
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    p = pod(volumes=volumes)
    last = attempt(p, node(), [pod("a")])
    assert not last.due(p, node({"x": "y"}), [pod("b"), pod("c")], 60)
    assert last.due(p, node(), [], 300)


def test_anti_affinity_hints_read_all_the_terms() -> None:
    """1.32's `podMatchesAllAffinityTerms`: a deleted pod moves the pending one only if it
    matched every anti-affinity term."""
    two_terms = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": APP_WEB, "topologyKey": HOSTNAME},
                {"labelSelector": {"matchLabels": {"tier": "db"}}, "topologyKey": HOSTNAME},
            ]
        }
    }
    pending = pod("p", affinity=two_terms)
    web = pod("w", {"app": "web"})
    last = attempt(pending, node(), [web])
    assert not last.due(pending, node(), [], 5)  # web matched one term of two
    both = pod("b", {"app": "web", "tier": "db"})
    assert attempt(pending, node(), [both]).due(pending, node(), [], 5)


def test_the_queue_waits_without_reading_the_cluster_while_nothing_changed() -> None:
    p = pod(nodeSelector={"disk": "ssd"})
    unfit = filter_node(p, node(), [])
    assert unfit is not None
    last = Attempt(0.0, 3, unfit, p, node(), {}, marker=(7, "12"))
    assert last.waiting(3.0)  # the back-off of a third attempt: 4 s
    assert last.waiting(60.0, (7, "12"))  # nothing changed since
    assert not last.waiting(60.0, (8, "12"))  # a pod event: read the cluster
    assert not last.waiting(300.0, (7, "12"))  # the flush
