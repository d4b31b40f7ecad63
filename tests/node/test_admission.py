"""The kubelet's admission on this node (`node/admission.py`): the sysctl allowlist and AppArmor,
as functions and through the whole node in virtual time (`rejectPod`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.models import Pod, PodStatus
from minikubelet.api.sysctls import (
    SysctlAllowlist,
    normalize,
    safe_sysctls,
    sysctl_namespace,
    unsafe_sysctl_patterns,
)
from minikubelet.errors import MinikubeletError
from minikubelet.node.admission import (
    Admission,
    Rejection,
    apparmor_enabled,
    predicates,
    rejected_status,
    rejection_of,
)
from minikubelet.node.security import container_security, pod_sysctls
from minikubelet.node.worker import PodWorker
from minikubelet.printers.pods import pod_row
from tests.node.test_manager import IMAGE, Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]  # the fixtures, used here by name

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FORBIDDEN_SOMAXCONN = 'forbidden sysctl: "net.core.somaxconn" not allowlisted'
NO_APPARMOR = "Cannot enforce AppArmor: AppArmor is not enabled on the host"


def pod(*, annotations: dict[str, str] | None = None, **spec: Any) -> Pod:
    container = spec.pop("container", {})
    body = {
        "metadata": {"name": "p", "annotations": annotations or {}},
        "spec": {"containers": [{"name": "app", "image": "i", **container}], **spec},
    }
    return from_dict(Pod, body)


def admit(target: Pod, apparmor: bool, unsafe: tuple[str, ...] = ()) -> Rejection | None:
    allowlist = SysctlAllowlist.build([*safe_sysctls("6.1.0"), *unsafe])
    return Admission(apparmor=apparmor, sysctls=allowlist).admit(target)


def sysctls(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"sysctls": [{"name": name, "value": value} for name, value in pairs]}


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dotted", "namespace"),
    [
        ("net.ipv4.ip_local_port_range", "net.ipv4.ip_local_port_range", "net"),
        ("net/ipv4/ip_local_port_range", "net.ipv4.ip_local_port_range", "net"),
        ("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "net"),
        ("kernel.shm_rmid_forced", "kernel.shm_rmid_forced", "ipc"),
        ("kernel.sem", "kernel.sem", "ipc"),
        ("kernel.msgmax", "kernel.msgmax", "ipc"),
        ("fs.mqueue.msg_max", "fs.mqueue.msg_max", "ipc"),
        ("kernel.semx", "kernel.semx", ""),  # kernel.sem is an exact name, not a prefix
        ("vm.swappiness", "vm.swappiness", ""),
    ],
)
def test_names_and_namespaces(name: str, dotted: str, namespace: str) -> None:
    assert normalize(name) == dotted
    assert sysctl_namespace(name) == namespace


# -- the sysctl allowlist --------------------------------------------------------------------


def test_every_safe_sysctl_is_admitted() -> None:
    safe = safe_sysctls("6.1.0-28-amd64")
    assert len(safe) == 12
    context = sysctls(*((name, "1") for name in safe))
    assert admit(pod(securityContext=context), apparmor=False) is None


def test_the_safe_set_follows_the_kernel() -> None:
    assert "net.ipv4.tcp_rmem" not in safe_sysctls("4.14.0")  # namespaced in 4.15
    assert "net.ipv4.tcp_fin_timeout" not in safe_sysctls("4.5.7")
    assert "net.ipv4.tcp_keepalive_time" in safe_sysctls("4.5.7")
    assert len(safe_sysctls("3.10.0")) == 5
    assert len(safe_sysctls("not a release")) == 5  # unknown: only those that need none


def test_unsafe_sysctls_the_node_allows() -> None:
    assert unsafe_sysctl_patterns(" net.core.somaxconn, kernel.msg*,") == (
        "net.core.somaxconn",
        "kernel.msg*",
    )
    context = sysctls(("net.core.somaxconn", "1024"), ("kernel.msgmax", "65536"))
    allowed = ("net.core.somaxconn", "kernel.msg*")
    assert admit(pod(securityContext=context), apparmor=False, unsafe=allowed) is None
    refused = admit(pod(securityContext=context, hostIPC=True), apparmor=False, unsafe=allowed)
    assert refused == Rejection(
        "SysctlForbidden",
        'forbidden sysctl: "kernel.msgmax" not allowed with host ipc enabled',
    )


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("vm.swappiness", 'the sysctl "vm.swappiness" are not known to be namespaced'),
        ("kernel.*", 'the sysctls "kernel.*" are not known to be namespaced'),
        (
            "Net.Core",
            'sysctl "Net.Core" must have at most 253 characters and match regex '
            r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]",
        ),
    ],
)
def test_a_flag_the_kubelet_would_refuse(flag: str, message: str) -> None:
    with pytest.raises(MinikubeletError) as caught:
        unsafe_sysctl_patterns(flag)
    assert str(caught.value) == f"invalid --allowed-unsafe-sysctls: {message}"


@pytest.mark.parametrize(
    ("context", "extra", "message"),
    [
        (sysctls(("net.core.somaxconn", "1024")), {}, FORBIDDEN_SOMAXCONN),
        # the first refused one names the rejection, in the spec's order
        (
            sysctls(("net.ipv4.tcp_syncookies", "1"), ("kernel.msgmax", "1"), ("vm.x", "1")),
            {},
            'forbidden sysctl: "kernel.msgmax" not allowlisted',
        ),
        # written with slashes: named dotted, as the kubelet converts it
        (
            sysctls(("net/core/somaxconn", "1")),
            {},
            FORBIDDEN_SOMAXCONN,
        ),
        # the API server refuses these at create; an older pod could still carry them
        (
            sysctls(("kernel.shm_rmid_forced", "1")),
            {"hostIPC": True},
            'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled',
        ),
        (
            sysctls(("net.ipv4.tcp_syncookies", "1")),
            {"hostNetwork": True},
            'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
        ),
    ],
)
def test_sysctls_outside_the_safe_set_are_refused(
    context: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    refused = admit(pod(securityContext=context, **extra), True)
    assert refused == Rejection("SysctlForbidden", message)


# -- AppArmor --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "annotations"),
    [
        ({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}, {}),
        (
            {
                "container": {
                    "securityContext": {
                        "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-x"}
                    }
                }
            },
            {},
        ),
        ({}, {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}),
        (
            {
                "initContainers": [
                    {
                        "name": "i",
                        "image": "i",
                        "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
                    }
                ]
            },
            {},
        ),
    ],
)
def test_a_profile_cannot_be_enforced_without_apparmor(
    spec: dict[str, Any], annotations: dict[str, str]
) -> None:
    target = pod(annotations=annotations, **spec)
    assert admit(target, apparmor=False) == Rejection("AppArmor", NO_APPARMOR)
    assert admit(target, apparmor=True) is None


def test_unconfined_needs_no_apparmor() -> None:
    unconfined = {"appArmorProfile": {"type": "Unconfined"}}
    target = pod(
        annotations={"container.apparmor.security.beta.kubernetes.io/app": "unconfined"},
        securityContext=unconfined,
        container={"securityContext": unconfined},
    )
    assert admit(target, apparmor=False) is None


def test_sysctls_are_checked_before_apparmor() -> None:
    context = {"appArmorProfile": {"type": "RuntimeDefault"}, **sysctls(("vm.x", "1"))}
    refused = admit(pod(securityContext=context), apparmor=False)
    assert refused is not None and refused.reason == "SysctlForbidden"


def test_apparmor_is_enabled_only_with_securityfs_and_the_module_on(tmp_path: Path) -> None:
    assert not apparmor_enabled(tmp_path)
    (tmp_path / "sys/kernel/security/apparmor").mkdir(parents=True)
    assert not apparmor_enabled(tmp_path)  # no module parameter to read
    flag = tmp_path / "sys/module/apparmor/parameters/enabled"
    flag.parent.mkdir(parents=True)
    flag.write_text("N\n")
    assert not apparmor_enabled(tmp_path)
    flag.write_text("Y\n")
    assert apparmor_enabled(tmp_path)


@pytest.mark.parametrize(
    ("spec", "annotations", "engine"),
    [
        ({}, {}, ""),
        ({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}, {}, ""),
        ({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}, {}, "unconfined"),
        # the container's field, else the annotation, else the pod's field
        (
            {
                "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                "container": {
                    "securityContext": {
                        "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-x"}
                    }
                },
            },
            {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"},
            "k8s-x",
        ),
        (
            {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
            {"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-y"},
            "k8s-y",
        ),
    ],
)
def test_the_engine_gets_the_profile_where_the_host_enforces_apparmor(
    spec: dict[str, Any], annotations: dict[str, str], engine: str
) -> None:
    target = pod(annotations=annotations, **spec)
    container = (target.spec.containers or [])[0]
    assert container_security(target, container, apparmor=True).apparmor == engine
    assert container_security(target, container, apparmor=False).apparmor == ""


# -- the status rejectPod writes ---------------------------------------------------------------


def test_the_rejected_status_and_reading_it_back() -> None:
    target = pod(securityContext=sysctls(("net.core.somaxconn", "1")))
    target.status = PodStatus(phase="Pending", qosClass="BestEffort")
    rejection = Rejection("SysctlForbidden", FORBIDDEN_SOMAXCONN)
    status = rejected_status(target, rejection, NOW)
    assert status == PodStatus(
        phase="Failed",
        reason="SysctlForbidden",
        message=f"Pod was rejected: {FORBIDDEN_SOMAXCONN}",
        startTime=NOW,
        qosClass="BestEffort",
    )
    assert rejection_of(status) == rejection
    assert rejection_of(PodStatus(phase="Failed", reason="DeadlineExceeded")) is None
    assert rejection_of(PodStatus(phase="Pending", reason="SysctlForbidden")) is None


def test_the_sandbox_gets_the_sysctls_dotted() -> None:
    context = sysctls(("net/ipv4/ip_unprivileged_port_start", "0"), ("kernel.shm_rmid_forced", "1"))
    assert pod_sysctls(pod(securityContext=context)) == (
        ("net.ipv4.ip_unprivileged_port_start", "0"),
        ("kernel.shm_rmid_forced", "1"),
    )
    assert pod_sysctls(pod()) == ()


# -- through the node --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_forbidden_sysctl_fails_the_pod_before_anything_runs(harness: Harness) -> None:
    harness.apply("tuned", securityContext=sysctls(("net.core.somaxconn", "1024")))
    await harness.until(lambda: harness.pod("tuned").get("status", {}).get("phase") == "Failed")
    status = harness.pod("tuned")["status"]
    assert set(status) == {"phase", "reason", "message", "startTime", "qosClass"}
    assert (status["reason"], status["message"]) == (
        "SysctlForbidden",
        f"Pod was rejected: {FORBIDDEN_SOMAXCONN}",
    )
    (event,) = harness.events("SysctlForbidden")
    assert (event["type"], event["message"], event["source"]["component"]) == (
        "Warning",
        FORBIDDEN_SOMAXCONN,
        "kubelet",
    )
    assert harness.reasons() == ["Scheduled", "SysctlForbidden"]
    row = pod_row(harness.pod("tuned"), harness.clock.utcnow())
    assert row[1:4] == ["0/1", "SysctlForbidden", "0"]
    assert not [c for c in harness.runtime.calls if c[0] == "run_sandbox"]
    await harness.clock.advance(120)  # resyncs: no second event, nothing starts
    await harness.settle()
    assert len(harness.events("SysctlForbidden")) == 1
    assert not harness.runtime.containers


@pytest.mark.anyio
async def test_a_safe_sysctl_reaches_the_sandbox(harness: Harness) -> None:
    context = sysctls(("net.ipv4.ip_unprivileged_port_start", "0"))
    harness.apply("tuned", securityContext=context)
    await harness.until(lambda: harness.running())
    (spec,) = [c[1][0] for c in harness.runtime.calls if c[0] == "run_sandbox"]
    assert spec.sysctls == (("net.ipv4.ip_unprivileged_port_start", "0"),)


@pytest.mark.anyio
async def test_an_apparmor_profile_fails_the_pod_where_the_host_has_none(
    harness: Harness,
) -> None:
    harness.node.admission = Admission(apparmor=False)
    harness.apply("armored", securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})
    await harness.until(lambda: harness.events("AppArmor"))
    status = harness.pod("armored")["status"]
    assert (status["phase"], status["reason"], status["message"]) == (
        "Failed",
        "AppArmor",
        f"Pod was rejected: {NO_APPARMOR}",
    )
    assert not harness.runtime.containers


@pytest.mark.anyio
async def test_a_rejected_pod_is_not_admitted_again_after_a_restart(harness: Harness) -> None:
    harness.apply("tuned", securityContext=sysctls(("vm.x", "1")))
    await harness.until(lambda: harness.events("SysctlForbidden"))
    body = harness.pod("tuned")
    # a new agent's worker for the pod: the store as the last one left it
    worker = PodWorker(body["metadata"]["uid"], "default", "tuned", harness.node)
    assert await worker.sync() == worker.resync
    assert not worker.admitted
    assert len(harness.events("SysctlForbidden")) == 1
    assert harness.pod("tuned")["status"] == body["status"]


@pytest.mark.anyio
async def test_a_rejected_pod_is_deleted_at_once(harness: Harness) -> None:
    harness.apply("tuned", securityContext=sysctls(("vm.x", "1")))
    await harness.until(lambda: harness.events("SysctlForbidden"))
    body = harness.pod("tuned")
    body["metadata"]["deletionTimestamp"] = body["metadata"]["creationTimestamp"]
    body["metadata"]["deletionGracePeriodSeconds"] = 30
    harness.store.update("Pod", body, expected_rv=None)
    await harness.until(lambda: not harness.store.list("Pod", "default")[0], within=5)


def test_an_empty_localhost_profile_is_refused_where_apparmor_is_enforced() -> None:
    # `localhost/` passes the API server (it only warns) and reaches the kubelet's parser
    target = pod(annotations={"container.apparmor.security.beta.kubernetes.io/app": "localhost/"})
    refused = admit(target, apparmor=True)
    assert refused is not None and refused.reason == "AppArmor"
    assert refused.message.startswith(
        "Cannot enforce AppArmor: invalid empty AppArmor profile name: "
    )
    container = (target.spec.containers or [])[0]
    padded = pod(
        annotations={"container.apparmor.security.beta.kubernetes.io/app": "localhost/ k8s-x"}
    )
    assert admit(padded, apparmor=True) is None  # the engine refuses that name itself
    assert container_security(padded, container, apparmor=True).apparmor == " k8s-x"


def test_apparmor_is_not_checked_again_for_a_running_pod() -> None:
    target = pod(securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})
    assert Admission(apparmor=False).admit(target, pending=False) is None
    assert Admission(apparmor=False).admit(target, pending=True) is not None


@pytest.mark.anyio
async def test_a_running_pod_whose_sysctl_is_no_longer_allowed_is_stopped(
    harness: Harness,
) -> None:
    """An agent restarted without the --allowed-unsafe-sysctls its pod ran with: the kubelet
    admits every pod again, fails this one and stops what runs of it."""
    allowing = SysctlAllowlist.build([*safe_sysctls(), "net.core.somaxconn"])
    harness.node.admission = Admission(sysctls=allowing)
    harness.apply("tuned", securityContext=sysctls(("net.core.somaxconn", "1024")))
    await harness.until(lambda: harness.running())
    assert not harness.events("SysctlForbidden")
    harness.node.admission = Admission()  # the safe set only
    body = harness.pod("tuned")
    worker = PodWorker(body["metadata"]["uid"], "default", "tuned", harness.node)
    harness.node.workers[worker.uid] = worker  # as the restarted agent's, in place of the old
    await worker.sync()
    await harness.until(lambda: not harness.running(), within=30)
    status = harness.pod("tuned")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "SysctlForbidden")
    assert status["message"] == f"Pod was rejected: {FORBIDDEN_SOMAXCONN}"
    assert len(harness.events("SysctlForbidden")) == 1


@pytest.mark.anyio
async def test_an_apparmor_pod_that_runs_is_not_rejected_after_a_restart(
    harness: Harness,
) -> None:
    harness.node.admission = Admission(apparmor=True)
    harness.apply("armored", securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})
    await harness.until(lambda: harness.running())
    await harness.until(lambda: harness.pod("armored")["status"].get("phase") == "Running")
    harness.node.admission = Admission(apparmor=False)
    body = harness.pod("armored")
    worker = PodWorker(body["metadata"]["uid"], "default", "armored", harness.node)
    await worker.sync()
    assert worker.admitted
    assert harness.pod("armored")["status"]["phase"] == "Running"
    assert not harness.events("AppArmor")


# -- the predicates, for a pod that names the node itself -----------------------------------


NODE: dict[str, Any] = {
    "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
    "spec": {},
    "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "110"}},
}


def raw(name: str = "p", **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "app", "image": "i"}])
    return {"metadata": {"name": name, "uid": name}, "spec": {"containers": containers, **spec}}


def test_the_predicates_in_admission_checks_order() -> None:
    """`generalFilter`: resources first (the numbers in millicores and bytes), node affinity,
    host ports, then NoExecute taints; the first failure is the rejection."""
    big = [{"name": "app", "image": "i", "resources": {"requests": {"cpu": "3"}}}]
    assert predicates(raw(containers=big, nodeSelector={"disk": "ssd"}), NODE, []) == Rejection(
        "OutOfcpu",
        "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000",
    )
    half = [{"name": "app", "image": "i", "resources": {"requests": {"memory": "600Mi"}}}]
    assert predicates(raw(containers=half), NODE, [raw("other", containers=half)]) == Rejection(
        "OutOfmemory",
        "Node didn't have enough resource: memory, requested: 629145600, used: 629145600,"
        " capacity: 1073741824",
    )
    assert predicates(raw(nodeSelector={"disk": "ssd"}), NODE, []) == Rejection(
        "NodeAffinity",
        "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    )
    port = [{"name": "app", "image": "i", "ports": [{"containerPort": 80, "hostPort": 80}]}]
    assert predicates(raw(containers=port), NODE, [raw("other", containers=port)]) == Rejection(
        "NodePorts",
        "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
    )
    tainted = {**NODE, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}
    assert predicates(raw(), tainted, []) is None  # the kubelet minds NoExecute only
    tainted["spec"]["taints"].append({"key": "k", "effect": "NoExecute"})
    assert predicates(raw(), tainted, []) == Rejection(
        "TaintToleration",
        "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    )
    assert predicates(raw(tolerations=[{"key": "k", "operator": "Exists"}]), tainted, []) is None


@pytest.mark.anyio
async def test_a_pod_naming_the_node_that_does_not_match_it_is_rejected(harness: Harness) -> None:
    harness.apply("pinned", nodeName="node1", nodeSelector={"disk": "ssd"})
    await harness.until(lambda: harness.pod("pinned").get("status", {}).get("phase") == "Failed")
    status = harness.pod("pinned")["status"]
    assert (status["reason"], status["message"]) == (
        "NodeAffinity",
        "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node"
        " affinity/selector",
    )
    assert harness.reasons() == ["NodeAffinity"]
    assert not harness.runtime.containers
    assert pod_row(harness.pod("pinned"), harness.clock.utcnow())[2] == "NodeAffinity"


def test_the_os_checks_and_extended_resources_the_node_lacks() -> None:
    """Before the resources: the pod's `kubernetes.io/os` label, then its `spec.os`; an
    extended resource the node does not have is left out (a device plugin may bring it)."""
    labelled = raw()
    labelled["metadata"]["labels"] = {"kubernetes.io/os": "windows"}
    assert predicates(labelled, NODE, []) == Rejection(
        "PodOSSelectorNodeLabelDoesNotMatch",
        "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    )
    assert predicates(raw(os={"name": "windows"}), NODE, []) == Rejection(
        "PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS"
    )
    assert predicates(raw(os={"name": "linux"}), NODE, []) is None
    gpu = [{"name": "app", "image": "i", "resources": {"requests": {"example.com/gpu": "1"}}}]
    assert predicates(raw(containers=gpu), NODE, []) is None


@pytest.mark.anyio
async def test_pods_are_admitted_in_the_order_they_were_created(harness: Harness) -> None:
    """Two pods naming the node, on the same host port: the newer one is refused, whichever
    worker runs first, as the kubelet admits in creation order."""
    port = [{"name": "app", "image": IMAGE, "ports": [{"containerPort": 80, "hostPort": 80}]}]
    await harness.clock.advance(5)
    harness.apply("aa-newer", nodeName="node1", containers=port)  # its worker starts first
    older = harness.apply("zz-older", nodeName="node1", containers=port)
    older["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z"  # as if an agent restarted
    harness.store.update("Pod", older, expected_rv=None)
    await harness.until(lambda: harness.pod("aa-newer").get("status", {}).get("phase") == "Failed")
    assert harness.pod("aa-newer")["status"]["reason"] == "NodePorts"
    await harness.until(lambda: harness.running())
    assert harness.pod("zz-older")["status"]["phase"] == "Running"
