"""The security context a container runs with (`DetermineEffectiveSecurityContext`,
`verifyRunAsNonRoot`, `determineEffectiveSecurityContext`, `getSeccompProfile`) and how the
Docker runtime asks the engine for it."""

from __future__ import annotations

from typing import Any

import pytest

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec
from minikubelet.node.security import (
    SecurityError,
    container_security,
    effective_context,
    image_user_needed,
    pod_namespaces,
    verify_run_as_non_root,
)
from minikubelet.runtime._security import container_host_config, sandbox_host_config
from minikubelet.runtime.types import (
    ContainerSecurity,
    ContainerSpec,
    PodNamespaces,
    SandboxSpec,
)

WHERE = '(pod: "web_shop(u-1)", container: app)'


def pod(
    pod_sc: dict[str, Any] | None = None, ctr_sc: dict[str, Any] | None = None, **spec: Any
) -> Pod:
    container = Container(name="app", image="busybox")
    if ctr_sc is not None:
        container.extra["securityContext"] = ctr_sc
    made = Pod(
        metadata=ObjectMeta(name="web", namespace="shop", uid="u-1"),
        spec=PodSpec(containers=[container], hostNetwork=spec.pop("hostNetwork", None)),
    )
    made.spec.extra["securityContext"] = {} if pod_sc is None else pod_sc
    made.spec.extra.update(spec)
    return made


def app(p: Pod) -> Container:
    return (p.spec.containers or [])[0]


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "expected"),
    [
        pytest.param({}, None, {}, id="the API server's empty pod context"),
        pytest.param(
            {"runAsUser": 1, "runAsGroup": 2, "runAsNonRoot": True, "fsGroup": 3,
             "supplementalGroups": [4], "seccompProfile": {"type": "RuntimeDefault"}},
            None,
            {"runAsUser": 1, "runAsGroup": 2, "runAsNonRoot": True,
             "seccompProfile": {"type": "RuntimeDefault"}},
            id="pod fields a container inherits (not fsGroup, supplementalGroups)",
        ),
        pytest.param(
            {"runAsUser": 1, "runAsNonRoot": True},
            {"runAsUser": 0, "privileged": True, "runAsNonRoot": None},
            {"runAsUser": 0, "runAsNonRoot": True, "privileged": True},
            id="the container wins field by field; null is unset",
        ),
    ],
)  # fmt: skip
def test_effective_context(
    pod_sc: dict[str, Any], ctr_sc: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    p = pod(pod_sc, ctr_sc)
    assert effective_context(p, app(p)) == expected


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "image_user", "expected"),
    [
        pytest.param({}, None, "", None, id="not asked"),
        pytest.param({"runAsNonRoot": False}, None, "", None, id="false allows root"),
        pytest.param(
            {"runAsNonRoot": True}, None, "",
            f"container has runAsNonRoot and image will run as root {WHERE}",
            id="image without USER is root",
        ),
        pytest.param(
            {"runAsNonRoot": True}, None, "0:0",
            f"container has runAsNonRoot and image will run as root {WHERE}",
            id="uid 0 with a group",
        ),
        pytest.param({"runAsNonRoot": True}, None, "1000:50", None, id="numeric image user"),
        pytest.param(
            {"runAsNonRoot": True}, None, "nginx",
            "container has runAsNonRoot and image has non-numeric user (nginx), "
            f"cannot verify user is non-root {WHERE}",
            id="named image user",
        ),
        pytest.param(
            {"runAsNonRoot": True}, {"runAsUser": 0}, "1000",
            f"container's runAsUser breaks non-root policy {WHERE}",
            id="runAsUser 0",
        ),
        pytest.param({"runAsNonRoot": True, "runAsUser": 5}, None, "", None, id="pod runAsUser"),
        pytest.param(
            {}, {"runAsNonRoot": True}, "4294967296",
            "container has runAsNonRoot and image has an invalid user id (4294967296). "
            "(Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive "
            f"{WHERE}",
            id="uid out of range",
        ),
    ],
)  # fmt: skip
def test_verify_run_as_non_root(
    pod_sc: dict[str, Any], ctr_sc: dict[str, Any] | None, image_user: str, expected: str | None
) -> None:
    p = pod(pod_sc, ctr_sc)
    assert verify_run_as_non_root(p, app(p), image_user) == expected
    if expected is not None:
        with pytest.raises(SecurityError, match="runAsNonRoot|runAsUser"):
            container_security(p, app(p), image_user)


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "needed"),
    [
        ({}, None, False),
        ({"runAsNonRoot": True}, None, True),
        ({"runAsNonRoot": True}, {"runAsUser": 7}, False),
        ({"runAsGroup": 7}, None, True),
        ({"runAsUser": 7, "runAsGroup": 7}, None, False),
    ],
)
def test_image_user_needed(pod_sc: dict[str, Any], ctr_sc: Any, needed: bool) -> None:
    p = pod(pod_sc, ctr_sc)
    assert image_user_needed(p, app(p)) is needed


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "image_user", "expected"),
    [
        pytest.param({}, None, "", ContainerSecurity(seccomp="unconfined"),
                     id="nothing set: the image's user, Unconfined as the kubelet's default"),
        pytest.param(
            {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
             "supplementalGroups": [4000, 2000]},
            None, "",
            ContainerSecurity(user="1000:3000", group_add=("2000", "4000"), seccomp="unconfined"),
            id="user, group, fsGroup first then supplementalGroups",
        ),
        pytest.param({"runAsUser": 1000}, None, "",
                     ContainerSecurity(user="1000", seccomp="unconfined"),
                     id="runAsUser alone: the engine finds the group"),
        pytest.param({"runAsGroup": 3000}, None, "nginx:101",
                     ContainerSecurity(user="nginx:3000", seccomp="unconfined"),
                     id="runAsGroup alone keeps the image's user"),
        pytest.param({"runAsGroup": 3000}, None, "",
                     ContainerSecurity(user="0:3000", seccomp="unconfined"),
                     id="runAsGroup alone, image without USER"),
        pytest.param(
            {"seccompProfile": {"type": "RuntimeDefault"}},
            {"readOnlyRootFilesystem": True, "privileged": True, "allowPrivilegeEscalation": False,
             "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
            "",
            ContainerSecurity(read_only_rootfs=True, privileged=True, no_new_privs=True,
                              cap_add=("NET_ADMIN",), cap_drop=("ALL",), seccomp="runtime/default"),
            id="container fields, the pod's seccomp profile",
        ),
        pytest.param({"seccompProfile": {"type": "RuntimeDefault"}},
                     {"seccompProfile": {"type": "Unconfined"},
                      "allowPrivilegeEscalation": True}, "",
                     ContainerSecurity(seccomp="unconfined"), id="the container's profile wins"),
    ],
)  # fmt: skip
def test_container_security(
    pod_sc: dict[str, Any], ctr_sc: Any, image_user: str, expected: ContainerSecurity
) -> None:
    p = pod(pod_sc, ctr_sc)
    assert container_security(p, app(p), image_user) == expected


def test_localhost_seccomp_is_refused() -> None:
    p = pod({"seccompProfile": {"type": "Localhost", "localhostProfile": "my.json"}})
    with pytest.raises(SecurityError) as caught:
        container_security(p, app(p))
    assert str(caught.value) == (
        'seccomp profile type Localhost ("my.json") is not supported by minikubelet: it keeps '
        "no seccomp profile directory; use RuntimeDefault or Unconfined"
    )


def test_pod_namespaces() -> None:
    assert pod_namespaces(pod()) == PodNamespaces()
    p = pod(hostNetwork=True, hostPID=True, hostIPC=True)
    assert pod_namespaces(p) == PodNamespaces(host_network=True, host_pid=True, host_ipc=True)
    assert pod_namespaces(pod(shareProcessNamespace=True)) == PodNamespaces(share_pid=True)


def _spec(**fields: Any) -> ContainerSpec:
    return ContainerSpec(
        pod_uid="u", pod_name="p", namespace="n", name="c", attempt=0, image="i",
        sandbox_id="SB", **fields,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"pid_mode": None, "ipc_mode": "container:SB", "uts_mode": None,
                          "security_opt": None, "privileged": False, "read_only": False},
                     id="the pod's own namespaces, engine defaults"),
        pytest.param({"namespaces": PodNamespaces(share_pid=True), "pid_target": "T"},
                     {"pid_mode": "container:SB"}, id="shared PID namespace wins over --target"),
        pytest.param({"pid_target": "T"}, {"pid_mode": "container:T"}, id="--target"),
        pytest.param({"namespaces": PodNamespaces(host_pid=True, host_ipc=True, host_network=True)},
                     {"pid_mode": "host", "ipc_mode": "host", "uts_mode": "host",
                      "network_mode": "container:SB"}, id="host namespaces"),
        pytest.param(
            {"security": ContainerSecurity(
                user="1:2", group_add=("3",), privileged=True, read_only_rootfs=True,
                cap_add=("NET_ADMIN",), cap_drop=("ALL",), no_new_privs=True,
                seccomp="unconfined")},
            {"group_add": ["3"], "privileged": True, "read_only": True, "cap_add": ["NET_ADMIN"],
             "cap_drop": ["ALL"], "security_opt": ["no-new-privileges", "seccomp=unconfined"]},
            id="security settings",
        ),
        pytest.param({"security": ContainerSecurity(seccomp="runtime/default")},
                     {"security_opt": None}, id="RuntimeDefault is the engine's own profile"),
        pytest.param({"security": ContainerSecurity(apparmor="unconfined")},
                     {"security_opt": ["apparmor=unconfined"]},
                     id="an AppArmor profile by name"),
    ],
)  # fmt: skip
def test_container_host_config(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    config = container_host_config(_spec(**fields))
    assert {k: config[k] for k in expected} == expected


def test_sandbox_host_config() -> None:
    plain = SandboxSpec(pod_uid="u", pod_name="p", namespace="n")
    assert sandbox_host_config(plain, "NET") == {
        "network_mode": "NET", "ipc_mode": "shareable", "pid_mode": None, "uts_mode": None,
        "sysctls": None,
    }  # fmt: skip
    host = SandboxSpec(
        pod_uid="u", pod_name="p", namespace="n",
        namespaces=PodNamespaces(host_network=True, host_pid=True, host_ipc=True),
    )  # fmt: skip
    assert sandbox_host_config(host, "NET") == {
        "network_mode": "host", "ipc_mode": "host", "pid_mode": "host", "uts_mode": "host",
        "sysctls": None,
    }  # fmt: skip
    tuned = SandboxSpec(
        pod_uid="u", pod_name="p", namespace="n",
        sysctls=(("net.ipv4.ip_unprivileged_port_start", "0"), ("kernel.shm_rmid_forced", "1")),
    )  # fmt: skip
    assert sandbox_host_config(tuned, "NET")["sysctls"] == {
        "net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1",
    }  # fmt: skip
