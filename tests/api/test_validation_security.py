"""Security contexts and host namespaces: the API server's messages (`ValidateSecurityContext`,
`validatePodSpecSecurityContext`, `validateSeccompProfileField`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_validation import C, _run

_RANGE = "must be between 0 and 2147483647, inclusive"
_SC = "spec.securityContext"
_SYSCTL = (
    "must have at most 253 characters and match regex "
    r"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"
)


def _sc_value(**set_fields: bool) -> str:
    names = [
        ("Capabilities", "*core.Capabilities"),
        ("Privileged", "*bool"),
        ("SELinuxOptions", "*core.SELinuxOptions"),
        ("WindowsOptions", "*core.WindowsSecurityContextOptions"),
        ("RunAsUser", "*int64"),
        ("RunAsGroup", "*int64"),
        ("RunAsNonRoot", "*bool"),
        ("ReadOnlyRootFilesystem", "*bool"),
        ("AllowPrivilegeEscalation", "*bool"),
        ("ProcMount", "*core.ProcMountType"),
        ("SeccompProfile", "*core.SeccompProfile"),
        ("AppArmorProfile", "*core.AppArmorProfile"),
    ]
    parts = [f"{n}:({t})({'0xc000000000' if set_fields.get(n) else 'nil'})" for n, t in names]
    return "core.SecurityContext{" + ", ".join(parts) + "}"


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("valid-everything", {
        "spec.securityContext": {
            "runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000],
            "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
        },
        "spec.containers.0.securityContext": {
            "runAsUser": 0, "privileged": True, "readOnlyRootFilesystem": True,
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "allowPrivilegeEscalation": True, "seccompProfile": {"type": "Unconfined"},
        },
    }, []),
    ("pod-ids-negative", {
        "spec.securityContext": {
            "runAsUser": -1, "runAsGroup": -2, "fsGroup": -3, "supplementalGroups": [5, -4],
        },
    }, [
        f"{_SC}.fsGroup: Invalid value: -3: {_RANGE}",
        f"{_SC}.runAsUser: Invalid value: -1: {_RANGE}",
        f"{_SC}.runAsGroup: Invalid value: -2: {_RANGE}",
        f"{_SC}.supplementalGroups[1]: Invalid value: -4: {_RANGE}",
    ]),
    ("container-ids-too-large", {
        "spec.containers.0.securityContext": {"runAsUser": 2147483648, "runAsGroup": -1},
    }, [
        f"{C}.securityContext.runAsUser: Invalid value: 2147483648: {_RANGE}",
        f"{C}.securityContext.runAsGroup: Invalid value: -1: {_RANGE}",
    ]),
    ("share-process-namespace-with-host-pid", {
        "spec.shareProcessNamespace": True, "spec.hostPID": True,
    }, [
        f"{_SC}.shareProcessNamespace: Invalid value: true: "
        "ShareProcessNamespace and HostPID cannot both be enabled",
    ]),
    ("seccomp-type-missing", {"spec.securityContext": {"seccompProfile": {}}}, [
        f"{_SC}.seccompProfile.type: Required value: type is required when seccompProfile is set",
    ]),
    ("seccomp-type-unknown", {
        "spec.containers.0.securityContext": {"seccompProfile": {"type": "Strict"}},
    }, [
        f'{C}.securityContext.seccompProfile.type: Unsupported value: "Strict": supported '
        'values: "Localhost", "RuntimeDefault", "Unconfined"',
    ]),
    ("seccomp-localhost-without-profile", {
        "spec.securityContext": {"seccompProfile": {"type": "Localhost"}},
    }, [
        f"{_SC}.seccompProfile.localhostProfile: Required value: "
        "must be set when seccomp type is Localhost",
    ]),
    ("fs-group-change-policy", {"spec.securityContext": {"fsGroupChangePolicy": "Never"}}, [
        f'{_SC}.fsGroupChangePolicy: Unsupported value: "Never": supported values: '
        '"OnRootMismatch", "Always"',
    ]),
    ("no-escalation-and-privileged", {
        "spec.containers.0.securityContext": {
            "allowPrivilegeEscalation": False, "privileged": True,
        },
    }, [
        f"{C}.securityContext: Invalid value: "
        + _sc_value(Privileged=True, AllowPrivilegeEscalation=True)
        + ": cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
    ]),
    ("no-escalation-and-sys-admin", {
        "spec.containers.0.securityContext": {
            "allowPrivilegeEscalation": False, "capabilities": {"add": ["CAP_SYS_ADMIN"]},
        },
    }, [
        f"{C}.securityContext: Invalid value: "
        + _sc_value(Capabilities=True, AllowPrivilegeEscalation=True)
        + ": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
    ]),
    ("sys-admin-without-prefix-is-not-caught", {
        "spec.containers.0.securityContext": {
            "allowPrivilegeEscalation": False, "capabilities": {"add": ["SYS_ADMIN"]},
        },
    }, []),
    ("sysctls-safe-and-unsafe-names-are-valid", {
        "spec.securityContext": {"sysctls": [
            {"name": "net.core.somaxconn", "value": "1024"},
            {"name": "net/ipv4/conf/eth0.100/rp_filter", "value": "1"},
        ]},
    }, []),
    ("sysctls-names", {
        "spec.securityContext": {"sysctls": [
            {"name": "", "value": "1"},
            {"name": "Net.Core", "value": "1"},
            {"name": "kernel..msgmax", "value": "1"},
            {"name": "a" * 254, "value": "1"},
            {"name": "kernel.msgmax", "value": "1"},
            {"name": "kernel.msgmax", "value": "2"},
            {"name": "kernel.shm_rmid_forced\n", "value": "1"},
        ]},
    }, [
        f"{_SC}.sysctls[0].name: Required value",
        f'{_SC}.sysctls[1].name: Invalid value: "Net.Core": {_SYSCTL}',
        f'{_SC}.sysctls[2].name: Invalid value: "kernel..msgmax": {_SYSCTL}',
        f'{_SC}.sysctls[3].name: Invalid value: "{"a" * 254}": {_SYSCTL}',
        f'{_SC}.sysctls[5].name: Duplicate value: "kernel.msgmax"',
        f'{_SC}.sysctls[6].name: Invalid value: "kernel.shm_rmid_forced\\n": {_SYSCTL}',
    ]),
    ("sysctls-of-the-host-namespaces", {
        "spec.hostNetwork": True,
        "spec.hostIPC": True,
        "spec.securityContext": {"sysctls": [
            {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"},
            {"name": "kernel/shm_rmid_forced", "value": "1"},
            {"name": "kernel.sem", "value": "1"},
            {"name": "kernel.pid_max", "value": "1"},
        ]},
    }, [
        f'{_SC}.sysctls[0].name: Invalid value: "net.ipv4.ip_unprivileged_port_start": '
        "may not be specified when 'hostNetwork' is true",
        f'{_SC}.sysctls[1].name: Invalid value: "kernel/shm_rmid_forced": '
        "may not be specified when 'hostIPC' is true",
        f'{_SC}.sysctls[2].name: Invalid value: "kernel.sem": '
        "may not be specified when 'hostIPC' is true",
    ]),
    ("apparmor-profiles", {
        "spec.securityContext": {"appArmorProfile": {"type": "Localhost"}},
        "spec.containers.0.securityContext": {
            "appArmorProfile": {"type": "RuntimeDefault", "localhostProfile": "x"},
        },
        "spec.initContainers": [
            {"name": "a", "image": "i", "securityContext": {"appArmorProfile": {}}},
            {"name": "b", "image": "i", "securityContext": {"appArmorProfile": {"type": "Strict"}}},
            {"name": "c", "image": "i", "securityContext": {
                "appArmorProfile": {"type": "Localhost", "localhostProfile": " k8s-x"}}},
            {"name": "d", "image": "i", "securityContext": {
                "appArmorProfile": {"type": "Localhost", "localhostProfile": ""}}},
            {"name": "e", "image": "i", "securityContext": {
                "appArmorProfile": {"type": "Unconfined"}}},
        ],
    }, [
        f"{C}.securityContext.appArmorProfile.localhostProfile: Invalid value: \"x\": "
        "can only be set when AppArmor type is Localhost",
        "spec.initContainers[0].securityContext.appArmorProfile.type: Required value: "
        "type is required when appArmorProfile is set",
        "spec.initContainers[1].securityContext.appArmorProfile.type: Unsupported value: "
        '"Strict": supported values: "Localhost", "RuntimeDefault", "Unconfined"',
        "spec.initContainers[2].securityContext.appArmorProfile.localhostProfile: "
        'Invalid value: " k8s-x": must not be padded with whitespace',
        "spec.initContainers[3].securityContext.appArmorProfile.localhostProfile: "
        "Required value: must be set when AppArmor type is Localhost",
        f"{_SC}.appArmorProfile.localhostProfile: Required value: "
        "must be set when AppArmor type is Localhost",
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("patches", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(patches: dict[str, Any], expected: list[str]) -> None:
    assert _run(patches) == expected
