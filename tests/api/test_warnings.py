"""What the API server sends with a created Pod besides the Pod: `WarningsOnCreate` /
`GetWarningsForPod` (`pkg/api/pod/warnings.go`), and AppArmor's annotations kept beside the
fields (`applyAppArmorVersionSkew`), with their validation on create and update."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.codec import to_dict
from minikubelet.api.create import create_with_warnings, decode_pod
from minikubelet.api.defaults import default_pod
from minikubelet.api.update import prepare_update
from minikubelet.api.warnings import pod_warnings
from minikubelet.errors import StatusError

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
APPARMOR = "container.apparmor.security.beta.kubernetes.io/"
DEPRECATED = 'deprecated since v1.30; use the "appArmorProfile" field instead'


def body(**spec: Any) -> dict[str, Any]:
    meta = spec.pop("metadata", {})
    containers = spec.pop("containers", [{"name": "app", "image": "i"}])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", **meta},
        "spec": {"containers": containers, **spec},
    }


def create(manifest: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    pod, warnings = create_with_warnings(copy.deepcopy(manifest), "default", NOW)
    return to_dict(pod), warnings


def warnings_of(**spec: Any) -> list[str]:
    return create(body(**spec))[1]


def test_a_plain_pod_has_no_warnings() -> None:
    assert warnings_of() == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"metadata": {"name": "web.v1"}},
            [
                "metadata.name: this is used in the Pod's hostname, which can result in "
                "surprising behavior; a DNS label is recommended: [must not contain dots]"
            ],
            id="a name that is no DNS label",
        ),
        pytest.param(
            {"nodeSelector": {"beta.kubernetes.io/arch": "amd64"}},
            [
                "spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use "
                '"kubernetes.io/arch" instead'
            ],
            id="a deprecated node label",
        ),
        pytest.param(
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "failure-domain.beta.kubernetes.io/zone",
                                            "operator": "Exists",
                                        }
                                    ]
                                }
                            ]
                        }
                    },
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/os"}}
                        ]
                    },
                }
            },
            [
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                "nodeSelectorTerms[0].matchExpressions[0].key: "
                "failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use "
                '"topology.kubernetes.io/zone" instead',
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                ".podAffinityTerm.labelSelector: a null labelSelector results in matching no pod",
            ],
            id="affinity",
        ),
        pytest.param(
            {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "beta.kubernetes.io/os",
                        "whenUnsatisfiable": "DoNotSchedule",
                    }
                ]
            },
            [
                "spec.topologySpreadConstraints[0].topologyKey: beta.kubernetes.io/os is "
                'deprecated since v1.14; use "kubernetes.io/os" instead',
                "spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results "
                "in matching no pod",
            ],
            id="topology spread",
        ),
        pytest.param(
            {
                "metadata": {
                    "annotations": {
                        "security.alpha.kubernetes.io/sysctls": "a=b",
                        "seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
                        "container.seccomp.security.alpha.kubernetes.io/app": "runtime/default",
                    }
                }
            },
            [
                "metadata.annotations[security.alpha.kubernetes.io/sysctls]: non-functional in "
                'v1.11+; use the "sysctls" field instead',
                "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: non-functional "
                'in v1.27+; use the "seccompProfile" field instead',
                "metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: "
                'non-functional in v1.27+; use the "seccompProfile" field instead',
            ],
            id="deprecated annotations",
        ),
        pytest.param(
            {
                "serviceAccountName": "default",
                "volumes": [
                    {"name": "src", "gitRepo": {"repository": "r"}},
                    {
                        "name": "all",
                        "projected": {
                            "sources": [
                                {"serviceAccountToken": {"path": "token"}},
                                {
                                    "configMap": {
                                        "name": "c",
                                        "items": [{"key": "k", "path": "token"}],
                                    }
                                },
                            ]
                        },
                    },
                ],
            },
            [
                "spec.volumes[0].gitRepo: deprecated in v1.11",
                "spec.volumes[1].projected.sources.configMap[0]: has duplicated path with "
                'ServiceAccountToken "token"',
            ],
            id="volumes",
        ),
        pytest.param(
            {
                "hostAliases": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}],
                "imagePullSecrets": [{"name": "a"}, {"name": "a"}, {}],
            },
            [
                'spec.hostAliases[1].ip: duplicate ip "10.0.0.1"',
                'spec.imagePullSecrets[1].name: duplicate name "a"',
                'spec.imagePullSecrets[2].name: invalid empty name ""',
            ],
            id="duplicates in lists",
        ),
        pytest.param(
            {
                "containers": [
                    {"name": "app", "image": "i", "resources": {"limits": {"memory": "500m"}}}
                ]
            },
            [
                'spec.containers[0].resources.limits[memory]: fractional byte value "500m" is '
                "invalid, must be an integer",
                # the API server defaults requests from limits before it warns
                'spec.containers[0].resources.requests[memory]: fractional byte value "500m" is '
                "invalid, must be an integer",
            ],
            id="a fraction of a byte",
        ),
        pytest.param(
            {
                "containers": [
                    {
                        "name": "app",
                        "image": "i",
                        "env": [
                            {"name": "A", "value": "1"},
                            {"name": "A", "value": "2"},  # replaces it: warned
                            {"name": "B", "value": "x"},
                            {"name": "B", "value": "$(B)-y"},  # builds on it: fine
                            {"name": "C", "value": "x"},
                            {"name": "C", "value": "$(C)"},  # the same value: warned
                            {"name": "D", "value": "x"},
                            {
                                "name": "D",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                            },
                        ],
                    }
                ]
            },
            [
                f'spec.containers[0].env[{i}]: hides previous definition of "{name}", which '
                "may be dropped when using apply"
                for i, name in ((1, "A"), (5, "C"), (7, "D"))
            ],
            id="duplicate env names",
        ),
        pytest.param(
            {
                "initContainers": [
                    {"name": "init", "image": "i", "ports": [{"containerPort": 80}]}
                ],
                "containers": [
                    {
                        "name": "app",
                        "image": "i",
                        "ports": [
                            {"containerPort": 80, "hostPort": 8080},
                            {"containerPort": 81, "hostIP": "127.0.0.1"},
                            {"containerPort": 82, "hostPort": 9090, "hostIP": "127.0.0.1"},
                        ],
                    },
                    {
                        "name": "side",
                        "image": "i",
                        "ports": [
                            {"containerPort": 80},
                            {"containerPort": 82, "hostPort": 9090, "protocol": "UDP"},
                        ],
                    },
                ],
            },
            [
                "spec.containers[0].ports[0]: overlapping port definition with "
                "spec.initContainers[0].ports[0]",
                "spec.containers[0].ports[1]: hostIP set without hostPort: "
                "{Name: HostPort:0 ContainerPort:81 Protocol:TCP HostIP:127.0.0.1}",
                "spec.containers[1].ports[0]: duplicate port definition with "
                "spec.initContainers[0].ports[0]",
                "spec.containers[1].ports[0]: overlapping port definition with "
                "spec.containers[0].ports[0]",
            ],
            id="ports",
        ),
        pytest.param(
            {"terminationGracePeriodSeconds": -5},
            [
                "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid "
                "and will be treated as 1"
            ],
            id="a negative grace period",
        ),
    ],
)
def test_warnings(spec: dict[str, Any], expected: list[str]) -> None:
    assert warnings_of(**spec) == expected


def test_dangerously_ambiguous_ports() -> None:
    ports = [
        {"containerPort": 80, "hostPort": 8080},
        {"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.1"},
    ]
    found = warnings_of(containers=[{"name": "app", "image": "i", "ports": ports}])
    assert found == [
        "spec.containers[0].ports[1]: dangerously ambiguous port definition with "
        "spec.containers[0].ports[0]"
    ]


# -- AppArmor: fields and annotations ------------------------------------------------------


def test_a_profile_field_gets_its_annotations() -> None:
    pod, warnings = create(
        body(
            securityContext={"appArmorProfile": {"type": "RuntimeDefault"}},
            containers=[
                {"name": "app", "image": "i"},
                {
                    "name": "side",
                    "image": "i",
                    "securityContext": {
                        "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-x"}
                    },
                },
            ],
            initContainers=[
                {
                    "name": "init",
                    "image": "i",
                    "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                }
            ],
        )
    )
    assert warnings == []
    assert pod["metadata"]["annotations"] == {
        APPARMOR + "init": "unconfined",
        APPARMOR + "app": "runtime/default",
        APPARMOR + "side": "localhost/k8s-x",
    }


def test_an_annotation_gets_its_field_with_a_deprecation_warning() -> None:
    pod, warnings = create(
        body(
            metadata={
                "annotations": {
                    APPARMOR + "app": "localhost/k8s-x",
                    APPARMOR + "side": "runtime/default",  # as the pod's: no field, no warning
                    APPARMOR + "other": "unconfined",
                }
            },
            securityContext={"appArmorProfile": {"type": "RuntimeDefault"}},
            containers=[
                {"name": "app", "image": "i"},
                {"name": "side", "image": "i"},
                {"name": "other", "image": "i"},
            ],
        )
    )
    assert warnings == [
        f"metadata.annotations[{APPARMOR}app]: {DEPRECATED}",
        f"metadata.annotations[{APPARMOR}other]: {DEPRECATED}",
    ]
    app, side, other = pod["spec"]["containers"]
    assert app["securityContext"]["appArmorProfile"] == {
        "type": "Localhost",
        "localhostProfile": "k8s-x",
    }
    assert "securityContext" not in side
    assert other["securityContext"]["appArmorProfile"] == {"type": "Unconfined"}


def invalid_causes(manifest: dict[str, Any]) -> list[str]:
    with pytest.raises(StatusError) as caught:
        create(manifest)
    return [f"{c['field']}: {c['message']}" for c in caught.value.details["causes"]]


def test_annotations_must_name_a_container_and_a_valid_profile() -> None:
    causes = invalid_causes(
        body(metadata={"annotations": {APPARMOR + "app": "strict", APPARMOR + "ghost": ""}})
    )
    assert causes == [
        f'metadata.annotations[{APPARMOR}app]: Invalid value: "strict": invalid AppArmor '
        'profile name: "strict"',
        f'metadata.annotations[{APPARMOR}ghost]: Invalid value: "ghost": container not found',
    ]


def test_annotation_and_field_must_agree_on_create() -> None:
    causes = invalid_causes(
        body(
            metadata={
                "annotations": {APPARMOR + "app": "unconfined", APPARMOR + "b": "localhost/y"}
            },
            containers=[
                {
                    "name": "app",
                    "image": "i",
                    "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
                },
                {
                    "name": "b",
                    "image": "i",
                    "securityContext": {
                        "appArmorProfile": {"type": "Localhost", "localhostProfile": "x"}
                    },
                },
            ],
        )
    )
    assert causes == [
        "spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in "
        "annotation and field must match",
        "spec.containers[1].securityContext.appArmorProfile.localhostProfile: Forbidden: "
        "apparmor profile in annotation and field must match",
    ]


def test_apparmor_and_mirror_annotations_are_fixed_at_create() -> None:
    # bound to a node: the mirror annotation itself is valid there
    stored, _ = create(
        body(nodeName="n", securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})
    )
    stored["metadata"]["resourceVersion"] = "1"
    changed = copy.deepcopy(stored)
    annotations = changed["metadata"]["annotations"]
    annotations[APPARMOR + "app"] = "unconfined"
    annotations["kubernetes.io/config.mirror"] = "x"
    with pytest.raises(StatusError) as caught:
        prepare_update(stored, changed)
    causes = [f"{c['field']}: {c['message']}" for c in caught.value.details["causes"]]
    assert causes == [
        f"metadata.annotations[{APPARMOR}app]: Forbidden: may not remove or update AppArmor "
        "annotations",
        "metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod "
        "annotation",
    ]
    removed = copy.deepcopy(stored)
    del removed["metadata"]["annotations"][APPARMOR + "app"]
    with pytest.raises(StatusError):
        prepare_update(stored, removed)
    assert prepare_update(stored, copy.deepcopy(stored)) is not None  # unchanged: fine


# -- seccomp's annotations: checked, non-functional ----------------------------------------

SECCOMP = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_APP = "container.seccomp.security.alpha.kubernetes.io/app"


def test_seccomp_annotations_are_checked() -> None:
    causes = invalid_causes(
        body(metadata={"annotations": {SECCOMP: "strict", SECCOMP_APP: "localhost/../x"}})
    )
    # upstream names them with Child, not Key: a dot, no brackets
    assert causes == [
        f'metadata.annotations.{SECCOMP}: Invalid value: "strict": must be a valid seccomp profile',
        f"metadata.annotations.{SECCOMP_APP}: Invalid value: \"../x\": must not contain '..'",
    ]


def test_seccomp_annotations_and_fields_must_agree_on_create() -> None:
    causes = invalid_causes(
        body(
            metadata={"annotations": {SECCOMP: "unconfined", SECCOMP_APP: "localhost/a.json"}},
            securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
            containers=[
                {
                    "name": "app",
                    "image": "i",
                    "securityContext": {
                        "seccompProfile": {"type": "Localhost", "localhostProfile": "b.json"}
                    },
                }
            ],
        )
    )
    assert causes == [
        "spec.securityContext.seccompProfile.type: Forbidden: seccomp type in annotation and "
        "field must match",
        "spec.containers[0].securityContext.seccompProfile.localhostProfile: Forbidden: seccomp "
        "profile in annotation and field must match",
    ]
    # docker/default is RuntimeDefault's old name: they agree
    _, warnings = create(
        body(
            metadata={"annotations": {SECCOMP: "docker/default"}},
            securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
        )
    )
    assert warnings == []


def test_null_items_are_empty_objects_as_go_decodes_them() -> None:
    # a Helm template's `imagePullSecrets: [null]`: created, with the empty name warned about
    assert warnings_of(imagePullSecrets=[None], serviceAccountName="default") == [
        'spec.imagePullSecrets[0].name: invalid empty name ""'
    ]
    affinity = {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [None]},
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [None]},
    }
    # invalid (a weight of 0, an empty topologyKey), so a create answers 422 and no warning, as
    # BeforeCreate validates before WarningsOnCreate; the warnings alone must not crash on it
    with pytest.raises(StatusError):
        create(body(affinity=affinity))
    pod = default_pod(decode_pod(body(affinity=affinity)))
    assert pod_warnings(pod) == [
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
        "labelSelector: a null labelSelector results in matching no pod"
    ]


def test_apparmor_skew_edge_cases() -> None:
    # a null localhostProfile is an unset pointer: the annotation equals the pod's profile
    pod, warnings = create(
        body(
            metadata={"annotations": {APPARMOR + "app": "runtime/default"}},
            securityContext={
                "appArmorProfile": {"type": "RuntimeDefault", "localhostProfile": None}
            },
        )
    )
    assert warnings == [] and "securityContext" not in pod["spec"]["containers"][0]
    # a name too long for the field: no field, only the warning (the annotation stays)
    long_name = "p" * 4096
    pod, warnings = create(
        body(metadata={"annotations": {APPARMOR + "app": f"localhost/{long_name}"}})
    )
    assert warnings == [f"metadata.annotations[{APPARMOR}app]: {DEPRECATED}"]
    assert "securityContext" not in pod["spec"]["containers"][0]
    # a Windows pod is left alone
    pod, warnings = create(
        body(
            os={"name": "windows"}, securityContext={"appArmorProfile": {"type": "RuntimeDefault"}}
        )
    )
    assert APPARMOR + "app" not in (pod["metadata"].get("annotations") or {})


def test_a_pod_stored_with_a_host_network_sysctl_can_still_be_updated() -> None:
    """`AllowNamespacedSysctlsForHostNetAndHostIPC`: made before the API server refused it."""
    manifest = body(
        hostNetwork=True,
        securityContext={"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]},
    )
    with pytest.raises(StatusError):
        create(manifest)
    stored, _ = create(body(hostNetwork=True))
    stored["spec"]["securityContext"] = manifest["spec"]["securityContext"]  # an older store
    stored["metadata"]["resourceVersion"] = "1"
    relabelled = copy.deepcopy(stored)
    relabelled["metadata"]["labels"] = {"tier": "web"}
    assert prepare_update(stored, relabelled).metadata.labels == {"tier": "web"}
