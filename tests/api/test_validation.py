"""Pod validation: exact error lines, in the API server's order, for one mutation per case.

Each case patches a valid base manifest, decodes and defaults it as the API server does, and
compares `str(err)` line by line with what kube-apiserver 1.32 prints (reference Part 4 §2).
The long regex messages are spelled out once below, independently of the implementation.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.defaults import default_pod
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Pod
from minikubelet.api.validation import FieldError, Path, invalid_error, validate_pod
from minikubelet.api.validation.field import duplicate, forbidden, invalid, required

SUB = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
NAME_PART = "name part " + QUALIFIED
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
HEADER = (
    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', "
    "regex used for validation is '[-A-Za-z0-9]+')"
)
ENV = (
    "a valid environment variable name must consist only of printable ASCII characters other "
    "than '='"
)
RANGE = "must be between 1 and 65535, inclusive"
ONE_HANDLER = "Forbidden: may not specify more than 1 handler type"
ONE_VOLUME = "Forbidden: may not specify more than 1 volume type"
INIT_ONLY = "Forbidden: may not be set for init containers without restartPolicy=Always"
MODE = "must be a number between 0 and 0777 (octal), both inclusive"
C = "spec.containers[0]"
I0 = "spec.initContainers[0]"
V = "spec.volumes[0]"
T = "spec.tolerations[0]"

DELETE = object()

BASE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "app", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]}
        ]
    },
}

NGINX = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "nginx"},
    "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]},
}

WEBAPL = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "webapl"},
    "spec": {
        "containers": [
            {
                "name": "webapl",
                "image": "webapl:0.1",
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": 3000},
                    "initialDelaySeconds": 3,
                    "periodSeconds": 5,
                },
                "readinessProbe": {
                    "httpGet": {"path": "/ready", "port": 3000},
                    "initialDelaySeconds": 15,
                    "periodSeconds": 6,
                },
            }
        ]
    },
}


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set (or, with DELETE, remove) `a.b.0.c` in a JSON document, creating dicts on the way."""
    node: Any = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value


def _errors(doc: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_pod(default_pod(from_dict(Pod, doc)))]


def _run(patches: dict[str, Any]) -> list[str]:
    doc = copy.deepcopy(BASE)
    for dotted, value in patches.items():
        _set(doc, dotted, value)
    return _errors(doc)


def _ctr(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", **fields}


def _probe(**fields: Any) -> dict[str, Any]:
    return {"httpGet": {"port": 80}, **fields}


def _toleration(tol: dict[str, Any]) -> dict[str, Any]:
    return {"spec.tolerations": [tol]}


def _env(var: dict[str, Any]) -> dict[str, Any]:
    return {"spec.containers.0.env": [var]}


def _vol(volume: dict[str, Any]) -> dict[str, Any]:
    return {"spec.volumes": [{"name": "data", **volume}]}


def _res(limits: dict[str, Any] | None = None, requests: dict[str, Any] | None = None) -> Any:
    body = {k: v for k, v in (("limits", limits), ("requests", requests)) if v is not None}
    return {"spec.containers.0.resources": body}


def _mounts(*mounts: dict[str, Any], volumes: list[Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"spec.containers.0.volumeMounts": list(mounts)}
    if volumes is not None:
        out["spec.volumes"] = volumes
    return out


DATA = [{"name": "data", "emptyDir": {}}]
LONG = "a" * 254

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # --- metadata -------------------------------------------------------------------------
    (
        "name-missing",
        {"metadata.name": DELETE},
        ["metadata.name: Required value: name or generateName is required"],
    ),
    ("name-upper", {"metadata.name": "Web"}, [f'metadata.name: Invalid value: "Web": {SUB}']),
    (
        "name-too-long",
        {"metadata.name": LONG},
        [f'metadata.name: Invalid value: "{LONG}": must be no more than 253 characters'],
    ),
    (
        "generate-name-bad",
        {"metadata.generateName": "Web-", "metadata.name": "Web-x2b4c"},
        [
            f'metadata.generateName: Invalid value: "Web-": {SUB}',
            f'metadata.name: Invalid value: "Web-x2b4c": {SUB}',
        ],
    ),
    (
        "generate-name-trailing-dash-ok",
        {"metadata.generateName": "web-", "metadata.name": "web-x2b4c"},
        [],
    ),
    (
        "generate-name-single-dash",
        {"metadata.generateName": "-"},
        [f'metadata.generateName: Invalid value: "-": {SUB}'],
    ),
    (
        "generation-negative",
        {"metadata.generation": -1},
        ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "namespace-upper",
        {"metadata.namespace": "Default"},
        [f'metadata.namespace: Invalid value: "Default": {LABEL}'],
    ),
    (
        "namespace-dots",
        {"metadata.namespace": "a.b"},
        ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
    ),
    (
        "labels-sorted-key-and-value",
        {"metadata.labels": {"z": "-x", "bad key": "v", "app": "w"}},
        [
            f'metadata.labels: Invalid value: "bad key": {NAME_PART}',
            f'metadata.labels: Invalid value: "-x": {LABEL_VALUE}',
        ],
    ),
    (
        "label-empty-name-part",
        {"metadata.labels": {"example.com/": "v"}},
        [
            'metadata.labels: Invalid value: "example.com/": name part must be non-empty',
            f'metadata.labels: Invalid value: "example.com/": {NAME_PART}',
        ],
    ),
    (
        "label-empty-prefix",
        {"metadata.labels": {"/x": "v"}},
        ['metadata.labels: Invalid value: "/x": prefix part must be non-empty'],
    ),
    (
        "label-bad-prefix",
        {"metadata.labels": {"Example.com/x": "v"}},
        [f'metadata.labels: Invalid value: "Example.com/x": prefix part {SUB}'],
    ),
    (
        "label-two-slashes",
        {"metadata.labels": {"a/b/c": "v"}},
        [
            f'metadata.labels: Invalid value: "a/b/c": a qualified name {QUALIFIED} with '
            "an optional "
            "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ],
    ),
    (
        "label-value-too-long",
        {"metadata.labels": {"k": "v" * 64}},
        [f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'],
    ),
    (
        "label-name-part-too-long",
        {"metadata.labels": {"k" * 64: "v"}},
        [
            f'metadata.labels: Invalid value: "{"k" * 64}": name part must be no more than 63 '
            "characters"
        ],
    ),
    ("annotation-key-lowercased", {"metadata.annotations": {"MyCorp.com/Key": "x"}}, []),
    (
        "annotation-key-bad",
        {"metadata.annotations": {"Bad Key": "x"}},
        [f'metadata.annotations: Invalid value: "Bad Key": {NAME_PART}'],
    ),
    (
        "annotations-too-long",
        {"metadata.annotations": {"a": "x" * 262144}},
        ["metadata.annotations: Too long: must have at most 262144 bytes"],
    ),
    (
        "annotation-mirror-needs-node",
        {"metadata.annotations": {"kubernetes.io/config.mirror": "h"}},
        [
            'metadata.annotations[kubernetes.io/config.mirror]: Invalid value: "h": must set '
            "spec.nodeName if mirror pod annotation is set"
        ],
    ),
    (
        "annotation-deletion-cost",
        {"metadata.annotations": {"controller.kubernetes.io/pod-deletion-cost": "+5"}},
        [
            "metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid "
            'value: "+5": '
            "must be a 32bit integer"
        ],
    ),
    (
        "annotation-deletion-cost-int32",
        {"metadata.annotations": {"controller.kubernetes.io/pod-deletion-cost": "-2147483648"}},
        [],
    ),
    # --- containers -----------------------------------------------------------------------
    ("containers-empty", {"spec.containers": []}, ["spec.containers: Required value"]),
    ("container-name-missing", {"spec.containers.0.name": ""}, [f"{C}.name: Required value"]),
    (
        "container-name-upper",
        {"spec.containers.0.name": "App"},
        [f'{C}.name: Invalid value: "App": {LABEL}'],
    ),
    (
        "container-name-dots",
        {"spec.containers.0.name": "a.b"},
        [f'{C}.name: Invalid value: "a.b": must not contain dots'],
    ),
    (
        "container-name-long-dots",
        {"spec.containers.0.name": "a." * 32 + "a"},
        [
            f'{C}.name: Invalid value: "{"a." * 32}a": must be no more than 63 characters',
            f'{C}.name: Invalid value: "{"a." * 32}a": must not contain dots',
        ],
    ),
    (
        "container-duplicate",
        {"spec.containers": [_ctr("app"), _ctr("app")]},
        ['spec.containers[1].name: Duplicate value: "app"'],
    ),
    (
        "init-duplicates-regular",
        {"spec.initContainers": [_ctr("app")]},
        [f'{I0}.name: Duplicate value: "app"'],
    ),
    (
        "init-duplicates-init",
        {"spec.initContainers": [_ctr("i"), _ctr("i")]},
        ['spec.initContainers[1].name: Duplicate value: "i"'],
    ),
    ("image-missing", {"spec.containers.0.image": DELETE}, [f"{C}.image: Required value"]),
    (
        "image-whitespace-last",
        {"spec.containers.0.image": " nginx", "spec.restartPolicy": "X"},
        [
            'spec.restartPolicy: Unsupported value: "X": supported values: "Always", "OnFailure", '
            '"Never"',
            f'{C}.image: Invalid value: " nginx": must not have leading or trailing whitespace',
        ],
    ),
    (
        "image-whitespace-init-after-regular",
        {"spec.containers.0.image": "nginx\t", "spec.initContainers": [_ctr("i", image="b ")]},
        [
            f'{C}.image: Invalid value: "nginx\\t": must not have leading or trailing whitespace',
            f'{I0}.image: Invalid value: "b ": must not have leading or trailing whitespace',
        ],
    ),
    (
        "pull-policy",
        {"spec.containers.0.imagePullPolicy": "Sometimes"},
        [
            f'{C}.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"IfNotPresent", "Never"'
        ],
    ),
    (
        "termination-message-policy",
        {"spec.containers.0.terminationMessagePolicy": "x"},
        [
            f'{C}.terminationMessagePolicy: Unsupported value: "x": supported values: "File", '
            '"FallbackToLogsOnError"'
        ],
    ),
    (
        "regular-restart-policy",
        {"spec.containers.0.restartPolicy": "Always"},
        [f"{C}.restartPolicy: Forbidden: may not be set for non-init containers"],
    ),
    (
        "init-restart-policy",
        {"spec.initContainers": [_ctr("i", restartPolicy="OnFailure")]},
        [f'{I0}.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ),
    (
        "init-probes-forbidden",
        {
            "spec.initContainers": [
                _ctr(
                    "i",
                    lifecycle={"preStop": {"exec": {"command": ["x"]}}},
                    readinessProbe=_probe(),
                    startupProbe=_probe(),
                )
            ]
        },
        [
            f"{I0}.lifecycle: {INIT_ONLY}",
            f"{I0}.readinessProbe: {INIT_ONLY}",
            f"{I0}.startupProbe: {INIT_ONLY}",
        ],
    ),
    (
        "sidecar-probes-allowed",
        {
            "spec.initContainers": [
                _ctr("i", restartPolicy="Always", readinessProbe=_probe(), livenessProbe=_probe())
            ]
        },
        [],
    ),
    (
        "sidecar-probe-checked",
        {
            "spec.initContainers": [
                _ctr("i", restartPolicy="Always", livenessProbe=_probe(successThreshold=2))
            ]
        },
        [f"{I0}.livenessProbe.successThreshold: Invalid value: 2: must be 1"],
    ),
    # --- ports ------------------------------------------------------------------------------
    (
        "port-name-charset",
        {"spec.containers.0.ports.0.name": "HTTP_1"},
        [
            f'{C}.ports[0].name: Invalid value: "HTTP_1": must contain only alpha-numeric '
            "characters "
            "(a-z, 0-9), and hyphens (-)",
            f'{C}.ports[0].name: Invalid value: "HTTP_1": must contain at least one letter (a-z)',
        ],
    ),
    (
        "port-name-shape",
        {"spec.containers.0.ports.0.name": "-very--long-name-"},
        [
            f'{C}.ports[0].name: Invalid value: "-very--long-name-": must be no more than '
            "15 characters",
            f'{C}.ports[0].name: Invalid value: "-very--long-name-": must not contain consecutive '
            "hyphens",
            f'{C}.ports[0].name: Invalid value: "-very--long-name-": must not begin or end with a '
            "hyphen",
        ],
    ),
    (
        "port-name-duplicate",
        {
            "spec.containers.0.ports": [
                {"name": "http", "containerPort": 80},
                {"name": "http", "containerPort": 81},
            ]
        },
        [f'{C}.ports[1].name: Duplicate value: "http"'],
    ),
    (
        "container-port-range",
        {"spec.containers.0.ports.0.containerPort": 70000},
        [f"{C}.ports[0].containerPort: Invalid value: 70000: {RANGE}"],
    ),
    (
        "container-port-zero",
        {"spec.containers.0.ports.0.containerPort": 0},
        [f"{C}.ports[0].containerPort: Required value"],
    ),
    (
        "host-port-negative",
        {"spec.containers.0.ports.0.hostPort": -1},
        [f"{C}.ports[0].hostPort: Invalid value: -1: {RANGE}"],
    ),
    (
        "protocol",
        {"spec.containers.0.ports.0.protocol": "tcp"},
        [
            f'{C}.ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", '
            '"TCP", "UDP"'
        ],
    ),
    (
        "host-port-clash",
        {
            "spec.containers": [
                _ctr("a", ports=[{"containerPort": 80, "hostPort": 8080}]),
                _ctr("b", ports=[{"containerPort": 81, "hostPort": 8080}]),
            ]
        },
        ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
    ),
    (
        "host-port-other-protocol-ok",
        {
            "spec.containers": [
                _ctr("a", ports=[{"containerPort": 80, "hostPort": 8080}]),
                _ctr("b", ports=[{"containerPort": 81, "hostPort": 8080, "protocol": "UDP"}]),
            ]
        },
        [],
    ),
    (
        "init-host-port-clash-index-quirk",
        {
            "spec.initContainers": [
                _ctr("i0"),
                _ctr(
                    "i1",
                    ports=[
                        {"containerPort": 1, "hostPort": 9000},
                        {"containerPort": 2, "hostPort": 9000},
                    ],
                ),
            ]
        },
        ['spec.initContainers[0].ports[1].hostPort: Duplicate value: "TCP//9000"'],
    ),
    (
        "host-network-port-mismatch",
        {"spec.hostNetwork": True, "spec.containers.0.ports.0.hostPort": 81},
        [
            f"{C}.ports[0].hostPort: Invalid value: 81: must match `containerPort` when "
            "`hostNetwork` "
            "is true"
        ],
    ),
    # --- env ----------------------------------------------------------------------------------
    (
        "env-name-empty",
        _env({"name": "", "value": "x"}),
        [
            f"{C}.env[0].name: Required value",
            f'{C}.env[0].name: Invalid value: "": environment variable name must be non-empty',
        ],
    ),
    ("env-name-equals", _env({"name": "A=B"}), [f'{C}.env[0].name: Invalid value: "A=B": {ENV}']),
    ("env-name-relaxed-ok", _env({"name": "1st.var-name"}), []),
    (
        "env-value-from-empty",
        _env({"name": "A", "valueFrom": {}}),
        [
            f'{C}.env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, '
            "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        ],
    ),
    (
        "env-value-and-value-from",
        _env(
            {"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        ),
        [
            f'{C}.env[0].valueFrom: Invalid value: "": may not be specified when `value` '
            "is not empty"
        ],
    ),
    (
        "env-two-sources",
        _env(
            {
                "name": "A",
                "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.name"},
                    "secretKeyRef": {"name": "s", "key": "k"},
                },
            }
        ),
        [
            f'{C}.env[0].valueFrom: Invalid value: "": may not have more than one field '
            "specified at "
            "a time"
        ],
    ),
    (
        "field-ref-version",
        _env(
            {
                "name": "A",
                "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}},
            }
        ),
        [
            f'{C}.env[0].valueFrom.fieldRef.fieldPath: Invalid value: "metadata.name": error '
            "converting fieldPath: unsupported pod version: v2"
        ],
    ),
    (
        "field-ref-unknown",
        _env({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.foo"}}}),
        [
            f'{C}.env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting '
            "fieldPath: field label not supported: spec.foo"
        ],
    ),
    (
        "field-ref-not-for-env",
        _env({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}),
        [
            f'{C}.env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": '
            "supported "
            'values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", '
            '"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", '
            '"status.podIPs"'
        ],
    ),
    (
        "field-ref-bad-label-subscript",
        _env({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['bad key']"}}}),
        [f'{C}.env[0].valueFrom.fieldRef: Invalid value: "bad key": {NAME_PART}'],
    ),
    (
        "field-ref-spec-host-ok",
        _env({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.host"}}}),
        [],
    ),
    (
        "config-map-key-ref-empty",
        _env({"name": "A", "valueFrom": {"configMapKeyRef": {"name": "", "key": ""}}}),
        [
            f'{C}.env[0].valueFrom.configMapKeyRef.name: Invalid value: "": {SUB}',
            f"{C}.env[0].valueFrom.configMapKeyRef.key: Required value",
        ],
    ),
    (
        "secret-key-ref-dotdot",
        _env({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "..x"}}}),
        [
            f'{C}.env[0].valueFrom.secretKeyRef.key: Invalid value: "..x": must not '
            "start with '..'"
        ],
    ),
    (
        "config-map-key-bad",
        _env({"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "a b"}}}),
        [f'{C}.env[0].valueFrom.configMapKeyRef.key: Invalid value: "a b": {CONFIG_KEY}'],
    ),
    (
        "resource-field-ref",
        _env({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}),
        [
            f'{C}.env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": '
            'supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", '
            '"requests.cpu", "requests.ephemeral-storage", "requests.memory"'
        ],
    ),
    (
        "resource-field-ref-divisor",
        _env(
            {
                "name": "A",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "2"}},
            }
        ),
        [
            f'{C}.env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": only '
            "divisor's values 1m and 1 are supported with the cpu resource"
        ],
    ),
    (
        "env-from-no-source",
        {"spec.containers.0.envFrom": [{}]},
        [f'{C}.envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
    ),
    (
        "env-from-prefix-and-two-sources",
        {
            "spec.containers.0.envFrom": [
                {"prefix": "A=", "configMapRef": {"name": "cfg-"}},
                {"configMapRef": {"name": "c"}, "secretRef": {"name": "Bad"}},
            ]
        },
        [
            f'{C}.envFrom[0].prefix: Invalid value: "A=": {ENV}',
            f'{C}.envFrom[1].secretRef.name: Invalid value: "Bad": {SUB}',
            f'{C}.envFrom: Invalid value: "": may not have more than one field specified at a time',
        ],
    ),
    # --- volumes and mounts -------------------------------------------------------------------
    (
        "mount-unknown-volume",
        _mounts({"name": "cache", "mountPath": "/c"}),
        [f'{C}.volumeMounts[0].name: Not found: "cache"'],
    ),
    (
        "mount-empty",
        _mounts({"name": "", "mountPath": ""}),
        [
            f"{C}.volumeMounts[0].name: Required value",
            f'{C}.volumeMounts[0].name: Not found: ""',
            f"{C}.volumeMounts[0].mountPath: Required value",
        ],
    ),
    (
        "mount-path-unique",
        _mounts(
            {"name": "data", "mountPath": "/d"}, {"name": "data", "mountPath": "/d"}, volumes=DATA
        ),
        [f'{C}.volumeMounts[1].mountPath: Invalid value: "/d": must be unique'],
    ),
    ("mount-relative-path-ok", _mounts({"name": "data", "mountPath": "d"}, volumes=DATA), []),
    (
        "sub-path-absolute",
        _mounts({"name": "data", "mountPath": "/d", "subPath": "/x"}, volumes=DATA),
        [f'{C}.volumeMounts.subPath: Invalid value: "/x": must be a relative path'],
    ),
    (
        "sub-path-backstep",
        _mounts({"name": "data", "mountPath": "/d", "subPath": "a/../b"}, volumes=DATA),
        [f"{C}.volumeMounts.subPath: Invalid value: \"a/../b\": must not contain '..'"],
    ),
    (
        "sub-path-expr-exclusive",
        _mounts(
            {"name": "data", "mountPath": "/d", "subPath": "a", "subPathExpr": "$(X)"}, volumes=DATA
        ),
        [
            f'{C}.volumeMounts[0].subPathExpr: Invalid value: "$(X)": subPathExpr and subPath are '
            "mutually exclusive"
        ],
    ),
    (
        "mount-propagation",
        _mounts({"name": "data", "mountPath": "/d", "mountPropagation": "Shared"}, volumes=DATA),
        [
            f'{C}.volumeMounts.mountPropagation: Unsupported value: "Shared": supported values: '
            '"Bidirectional", "HostToContainer", "None"'
        ],
    ),
    (
        "mount-bidirectional",
        _mounts(
            {"name": "data", "mountPath": "/d", "mountPropagation": "Bidirectional"}, volumes=DATA
        ),
        [
            f"{C}.volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is "
            "available only to privileged containers"
        ],
    ),
    (
        "invalid-volume-not-found",
        _mounts({"name": "Data", "mountPath": "/d"}, volumes=[{"name": "Data"}]),
        [
            f'{V}.name: Invalid value: "Data": {LABEL}',
            f'{C}.volumeMounts[0].name: Not found: "Data"',
        ],
    ),
    ("volume-name-missing", {"spec.volumes": [{"emptyDir": {}}]}, [f"{V}.name: Required value"]),
    (
        "volume-duplicate",
        {"spec.volumes": [{"name": "data"}, {"name": "data"}]},
        ['spec.volumes[1].name: Duplicate value: "data"'],
    ),
    (
        "volume-two-sources",
        _vol({"emptyDir": {}, "hostPath": {"path": "/x"}}),
        [f"{V}.hostPath: {ONE_VOLUME}"],
    ),
    (
        "volume-downward-typo",
        _vol({"emptyDir": {}, "downwardAPI": {}}),
        [f"{V}.downwarAPI: {ONE_VOLUME}"],
    ),
    (
        "volume-cephfs-after-secret",
        _vol({"secret": {"secretName": "s"}, "cephfs": {}}),
        [f"{V}.cephFS: {ONE_VOLUME}"],
    ),
    (
        "volume-source-error-before-name",
        {"spec.volumes": [{"name": "D", "hostPath": {"path": ""}}]},
        [f"{V}.hostPath.path: Required value", f'{V}.name: Invalid value: "D": {LABEL}'],
    ),
    (
        "empty-dir-size-negative",
        _vol({"emptyDir": {"sizeLimit": "-1Gi"}}),
        [f"{V}.emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity"],
    ),
    (
        "host-path-backstep",
        _vol({"hostPath": {"path": "/a/../b"}}),
        [f"{V}.hostPath.path: Invalid value: \"/a/../b\": must not contain '..'"],
    ),
    (
        "host-path-type",
        _vol({"hostPath": {"path": "/a", "type": "Dir"}}),
        [
            f'{V}.hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", '
            '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'
        ],
    ),
    ("secret-name-required", _vol({"secret": {}}), [f"{V}.secret.secretName: Required value"]),
    (
        "config-map-items",
        _vol(
            {
                "configMap": {
                    "name": "c",
                    "defaultMode": 1000,
                    "items": [{"key": "", "path": "/abs"}, {"key": "k", "path": "..x", "mode": -1}],
                }
            }
        ),
        [
            f"{V}.configMap.defaultMode: Invalid value: 1000: {MODE}",
            f"{V}.configMap.items[0].key: Required value",
            f'{V}.configMap.items[0].path: Invalid value: "/abs": must be a relative path',
            f"{V}.configMap.items[1].path: Invalid value: \"..x\": must not start with '..'",
            f"{V}.configMap.items[1].mode: Invalid value: -1: {MODE}",
        ],
    ),
    (
        "pvc-claim-name",
        _vol({"persistentVolumeClaim": {}}),
        [f"{V}.persistentVolumeClaim.claimName: Required value"],
    ),
    (
        "projected-token-without-sa",
        _vol({"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}),
        [
            f"{V}.projected.sources[0].serviceAccountToken: Forbidden: must not be specified when "
            "serviceAccountName is not set"
        ],
    ),
    # --- resources ----------------------------------------------------------------------------
    (
        "resource-gpu",
        _res(limits={"gpu": "1"}),
        [
            f'{C}.resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or '
            "fully qualified",
            f'{C}.resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for '
            "containers",
            f'{C}.resources.requests[gpu]: Invalid value: "gpu": must be a standard '
            "resource type or "
            "fully qualified",
            f'{C}.resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for '
            "containers",
        ],
    ),
    (
        "resource-negative",
        _res(limits={"cpu": "-1"}),
        [
            f'{C}.resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
            f'{C}.resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
        ],
    ),
    (
        "request-above-limit",
        _res(limits={"cpu": "1"}, requests={"cpu": "2"}),
        [
            f'{C}.resources.requests: Invalid value: "2": must be less than or equal to '
            "cpu limit of 1"
        ],
    ),
    (
        "request-above-limit-canonical",
        _res(limits={"cpu": "250m"}, requests={"cpu": 0.5}),
        [
            f'{C}.resources.requests: Invalid value: "500m": must be less than or equal '
            "to cpu limit "
            "of 250m"
        ],
    ),
    (
        "resources-sorted",
        _res(limits={"memory": "-1Mi", "cpu": "-2"}),
        [
            f'{C}.resources.limits[cpu]: Invalid value: "-2": must be greater than or equal to 0',
            f'{C}.resources.limits[memory]: Invalid value: "-1Mi": must be greater than '
            "or equal to 0",
            f'{C}.resources.requests[cpu]: Invalid value: "-2": must be greater than or equal to 0',
            f'{C}.resources.requests[memory]: Invalid value: "-1Mi": must be greater than '
            "or equal to "
            "0",
        ],
    ),
    (
        "extended-not-integer",
        _res(limits={"example.com/foo": "500m"}),
        [
            f"{C}.resources.limits[example.com/foo]: Invalid value: 500m: must be an integer",
            f"{C}.resources.requests[example.com/foo]: Invalid value: 500m: must be an integer",
        ],
    ),
    (
        "extended-request-needs-limit",
        _res(requests={"example.com/foo": "1"}),
        [
            f"{C}.resources.limits: Required value: Limit must be set for non overcommitable "
            "resources"
        ],
    ),
    (
        "extended-request-equals-limit",
        _res(limits={"example.com/foo": "2"}, requests={"example.com/foo": "1"}),
        [
            f'{C}.resources.requests: Invalid value: "1": must be equal to '
            "example.com/foo limit of 2"
        ],
    ),
    (
        "extended-bad-name",
        _res(limits={"example.com/a_": "1"}),
        [
            f'{C}.resources.limits[example.com/a_]: Invalid value: "example.com/a_": {NAME_PART}',
            f'{C}.resources.requests[example.com/a_]: Invalid value: "example.com/a_": {NAME_PART}',
        ],
    ),
    (
        "hugepages-need-cpu-or-memory",
        _res(limits={"hugepages-2Mi": "2Mi"}),
        [f"{C}.resources: Forbidden: HugePages require cpu or memory"],
    ),
    (
        "hugepages-multiple",
        _res(limits={"hugepages-2Mi": "3Mi", "memory": "1Gi"}),
        [
            f'{C}.resources.limits[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not '
            "positive integer "
            "multiple of hugepages-2Mi",
            f'{C}.resources.requests[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive '
            "integer multiple of hugepages-2Mi",
        ],
    ),
    # --- probes and lifecycle -----------------------------------------------------------------
    (
        "probe-no-handler",
        {"spec.containers.0.livenessProbe": {"initialDelaySeconds": 1}},
        [f"{C}.livenessProbe: Required value: must specify a handler type"],
    ),
    (
        "probe-two-handlers",
        {"spec.containers.0.livenessProbe": _probe(exec={"command": ["t"]})},
        [f"{C}.livenessProbe.httpGet: {ONE_HANDLER}"],
    ),
    (
        "probe-handler-order",
        {"spec.containers.0.readinessProbe": _probe(tcpSocket={"port": 80}, grpc={"port": 9})},
        [f"{C}.readinessProbe.tcpSocket: {ONE_HANDLER}", f"{C}.readinessProbe.grpc: {ONE_HANDLER}"],
    ),
    (
        "probe-exec-command",
        {"spec.containers.0.livenessProbe": {"exec": {"command": []}}},
        [f"{C}.livenessProbe.exec.command: Required value"],
    ),
    (
        "probe-port-zero",
        {"spec.containers.0.livenessProbe": {"httpGet": {"port": 0}}},
        [f"{C}.livenessProbe.httpGet.port: Invalid value: 0: {RANGE}"],
    ),
    (
        "probe-port-numeric-string",
        {"spec.containers.0.livenessProbe": {"httpGet": {"port": "8080"}}},
        [
            f'{C}.livenessProbe.httpGet.port: Invalid value: "8080": must contain at '
            "least one letter "
            "(a-z)"
        ],
    ),
    (
        "probe-port-unresolved-name-ok",
        {"spec.containers.0.livenessProbe": {"httpGet": {"port": "metrics"}}},
        [],
    ),
    (
        "probe-scheme",
        {"spec.containers.0.livenessProbe": {"httpGet": {"port": 80, "scheme": "ftp"}}},
        [
            f'{C}.livenessProbe.httpGet.scheme: Unsupported value: "ftp": supported '
            'values: "HTTP", '
            '"HTTPS"'
        ],
    ),
    (
        "probe-header",
        {
            "spec.containers.0.livenessProbe": {
                "httpGet": {"port": 80, "httpHeaders": [{"name": "X Bad", "value": "v"}]}
            }
        },
        [f'{C}.livenessProbe.httpGet.httpHeaders: Invalid value: "X Bad": {HEADER}'],
    ),
    (
        "probe-tcp-port",
        {"spec.containers.0.startupProbe": {"tcpSocket": {"port": 70000}}},
        [f"{C}.startupProbe.tcpSocket.port: Invalid value: 70000: {RANGE}"],
    ),
    (
        "probe-grpc-port",
        {"spec.containers.0.livenessProbe": {"grpc": {"port": 0}}},
        [f"{C}.livenessProbe.grpc.port: Invalid value: 0: {RANGE}"],
    ),
    (
        "probe-negative-timings",
        {"spec.containers.0.readinessProbe": _probe(initialDelaySeconds=-1, periodSeconds=-5)},
        [
            f"{C}.readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater "
            "than or equal "
            "to 0",
            f"{C}.readinessProbe.periodSeconds: Invalid value: -5: must be greater than "
            "or equal to 0",
        ],
    ),
    (
        "liveness-success-threshold",
        {"spec.containers.0.livenessProbe": _probe(successThreshold=2)},
        [f"{C}.livenessProbe.successThreshold: Invalid value: 2: must be 1"],
    ),
    (
        "startup-success-negative",
        {"spec.containers.0.startupProbe": _probe(successThreshold=-1)},
        [
            f"{C}.startupProbe.successThreshold: Invalid value: -1: must be greater than "
            "or equal to 0",
            f"{C}.startupProbe.successThreshold: Invalid value: -1: must be 1",
        ],
    ),
    (
        "readiness-success-threshold-ok",
        {"spec.containers.0.readinessProbe": _probe(successThreshold=3)},
        [],
    ),
    (
        "readiness-grace",
        {"spec.containers.0.readinessProbe": _probe(terminationGracePeriodSeconds=10)},
        [
            f"{C}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must "
            "not be set for "
            "readinessProbes"
        ],
    ),
    (
        "liveness-grace-zero",
        {"spec.containers.0.livenessProbe": _probe(terminationGracePeriodSeconds=0)},
        [
            f"{C}.livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be "
            "greater than "
            "0"
        ],
    ),
    (
        "probes-in-field-order",
        {"spec.containers.0.startupProbe": {}, "spec.containers.0.livenessProbe": {}},
        [
            f"{C}.livenessProbe: Required value: must specify a handler type",
            f"{C}.startupProbe: Required value: must specify a handler type",
        ],
    ),
    (
        "lifecycle-sleep-too-long",
        {"spec.containers.0.lifecycle": {"preStop": {"sleep": {"seconds": 40}}}},
        [
            f"{C}.lifecycle.preStop.sleep: Invalid value: 40: must be greater than 0 and less than "
            "terminationGracePeriodSeconds (30). Enable "
            "AllowPodLifecycleSleepActionZeroValue feature "
            "gate for zero sleep."
        ],
    ),
    (
        "lifecycle-no-handler",
        {"spec.containers.0.lifecycle": {"postStart": {}}},
        [f"{C}.lifecycle.postStart: Required value: must specify a handler type"],
    ),
    (
        "lifecycle-exec-first",
        {"spec.containers.0.lifecycle": {"preStop": {"exec": {}, "httpGet": {"port": "8080"}}}},
        [
            f"{C}.lifecycle.preStop.exec.command: Required value",
            f"{C}.lifecycle.preStop.httpGet: {ONE_HANDLER}",
        ],
    ),
    # --- pod-level fields ---------------------------------------------------------------------
    (
        "restart-policy",
        {"spec.restartPolicy": "Sometimes"},
        [
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"OnFailure", "Never"'
        ],
    ),
    (
        "dns-policy",
        {"spec.dnsPolicy": "Foo"},
        [
            'spec.dnsPolicy: Unsupported value: "Foo": supported values: '
            '"ClusterFirstWithHostNet", '
            '"ClusterFirst", "Default", "None"'
        ],
    ),
    (
        "dns-none-needs-config",
        {"spec.dnsPolicy": "None"},
        ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"],
    ),
    (
        "dns-none-with-config",
        {"spec.dnsPolicy": "None", "spec.dnsConfig": {"nameservers": ["1.1.1.1"]}},
        [],
    ),
    (
        "active-deadline",
        {"spec.activeDeadlineSeconds": 0},
        [
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
            "inclusive"
        ],
    ),
    ("negative-grace-accepted", {"spec.terminationGracePeriodSeconds": -5}, []),
    (
        "service-account-name",
        {"spec.serviceAccountName": "Bad_SA"},
        [f'spec.serviceAccountName: Invalid value: "Bad_SA": {SUB}'],
    ),
    ("node-name", {"spec.nodeName": "Node_1"}, [f'spec.nodeName: Invalid value: "Node_1": {SUB}']),
    (
        "hostname-and-subdomain",
        {"spec.hostname": "my.host", "spec.subdomain": "Sub"},
        [
            'spec.hostname: Invalid value: "my.host": must not contain dots',
            f'spec.subdomain: Invalid value: "Sub": {LABEL}',
        ],
    ),
    (
        "priority-class-name",
        {"spec.priorityClassName": "Bad_"},
        [f'spec.priorityClassName: Invalid value: "Bad_": {SUB}'],
    ),
    (
        "node-selector",
        {"spec.nodeSelector": {"zone": "a b", "disk type": "ssd"}},
        [
            f'spec.nodeSelector: Invalid value: "disk type": {NAME_PART}',
            f'spec.nodeSelector: Invalid value: "a b": {LABEL_VALUE}',
        ],
    ),
    (
        "toleration-empty-key",
        _toleration({"operator": "Equal", "value": "x"}),
        [
            f'{T}.operator: Invalid value: "Equal": operator must be Exists when `key` is '
            "empty, which "
            'means "match all values and all keys"'
        ],
    ),
    (
        "toleration-exists-with-value",
        _toleration({"key": "k", "operator": "Exists", "value": "v"}),
        [
            f'{T}.operator: Invalid value: core.Toleration{{Key:"k", Operator:"Exists", Value:"v", '
            'Effect:"", TolerationSeconds:(*int64)(nil)}: value must be empty when `operator` is '
            "'Exists'"
        ],
    ),
    (
        "toleration-operator",
        _toleration({"key": "k", "operator": "In"}),
        [f'{T}.operator: Unsupported value: "In": supported values: "Equal", "Exists"'],
    ),
    (
        "toleration-seconds-effect",
        _toleration({"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}),
        [
            f"{T}.effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
            "`tolerationSeconds` is set"
        ],
    ),
    (
        "toleration-effect",
        _toleration({"key": "k", "effect": "Never"}),
        [
            f'{T}.effect: Unsupported value: "Never": supported values: "NoSchedule", '
            '"PreferNoSchedule", "NoExecute"'
        ],
    ),
    (
        "toleration-value",
        _toleration({"key": "k", "value": "bad value"}),
        [f'{T}.operator: Invalid value: "bad value": {LABEL_VALUE}'],
    ),
    (
        "toleration-key",
        _toleration({"key": "bad key", "operator": "Exists"}),
        [f'{T}.key: Invalid value: "bad key": {NAME_PART}'],
    ),
    (
        "ephemeral-on-create",
        {"spec.ephemeralContainers": [_ctr("dbg")]},
        ["spec.ephemeralContainers: Forbidden: cannot be set on create"],
    ),
    (
        "node-name-with-gates",
        {"spec.nodeName": "n1", "spec.schedulingGates": [{"name": "g"}]},
        ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"],
    ),
    # --- several errors at once, in the server's order ----------------------------------------
    (
        "multi-order",
        {
            "metadata.name": "Web",
            "spec.volumes": [{"name": "V"}],
            "spec.restartPolicy": "Sometimes",
            "spec.containers": [{"name": "", "image": " x", "ports": [{"containerPort": 0}]}],
            "spec.ephemeralContainers": [_ctr("dbg")],
        },
        [
            f'metadata.name: Invalid value: "Web": {SUB}',
            f'{V}.name: Invalid value: "V": {LABEL}',
            f"{C}.name: Required value",
            f"{C}.ports[0].containerPort: Required value",
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"OnFailure", "Never"',
            f'{C}.image: Invalid value: " x": must not have leading or trailing whitespace',
            "spec.ephemeralContainers: Forbidden: cannot be set on create",
        ],
    ),
    (
        "multi-container-sections",
        {
            "spec.containers": [
                _ctr(
                    "app",
                    image="",
                    terminationMessagePolicy="x",
                    imagePullPolicy="y",
                    ports=[{"containerPort": 0}],
                    env=[{"name": "A="}],
                    volumeMounts=[{"name": "nope", "mountPath": "/n"}],
                    resources={"limits": {"cpu": "-1"}},
                    livenessProbe={},
                    restartPolicy="Never",
                )
            ]
        },
        [
            f"{C}.image: Required value",
            f'{C}.terminationMessagePolicy: Unsupported value: "x": supported values: "File", '
            '"FallbackToLogsOnError"',
            f"{C}.ports[0].containerPort: Required value",
            f'{C}.env[0].name: Invalid value: "A=": {ENV}',
            f'{C}.volumeMounts[0].name: Not found: "nope"',
            f'{C}.imagePullPolicy: Unsupported value: "y": supported values: "Always", '
            '"IfNotPresent", "Never"',
            f'{C}.resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
            f'{C}.resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
            f"{C}.livenessProbe: Required value: must specify a handler type",
            f"{C}.restartPolicy: Forbidden: may not be set for non-init containers",
        ],
    ),
]


@pytest.mark.parametrize(("patches", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(patches: dict[str, Any], expected: list[str]) -> None:
    assert _run(patches) == expected


def test_corpus_is_large_and_ids_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("doc", [BASE, NGINX, WEBAPL], ids=["base", "nginx", "webapl"])
def test_valid_manifests(doc: dict[str, Any]) -> None:
    assert _errors(copy.deepcopy(doc)) == []


def test_invalid_error_single() -> None:
    err = invalid_error(
        "Pod", "web", [required(Path("spec").child("containers").index(0).child("image"))]
    )
    assert err.code == 422
    assert err.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Pod "web" is invalid: spec.containers[0].image: Required value',
        "reason": "Invalid",
        "details": {
            "name": "web",
            "kind": "Pod",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.containers[0].image",
                }
            ],
        },
        "code": 422,
    }


def test_invalid_error_several_deduplicated_in_message_only() -> None:
    path = Path("spec").child("containers").index(1).child("name")
    errs = [duplicate(path, "app"), duplicate(path, "app"), forbidden(Path("spec.x"), "no")]
    err = invalid_error("Pod", "web", errs)
    assert err.message == (
        'Pod "web" is invalid: [spec.containers[1].name: Duplicate value: "app", '
        "spec.x: Forbidden: no]"
    )
    causes = err.details["causes"]
    assert [c["reason"] for c in causes] == [
        "FieldValueDuplicate",
        "FieldValueDuplicate",
        "FieldValueForbidden",
    ]
    assert causes[0]["message"] == 'Duplicate value: "app"'


def test_invalid_error_without_name() -> None:
    err = invalid_error(
        "Pod", "", [required(Path("metadata.name"), "name or generateName is required")]
    )
    assert err.message == (
        'Pod "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    assert "name" not in err.details


def test_field_error_rendering() -> None:
    path = Path("spec").child("containers").index(0).child("resources", "limits").key("cpu")
    assert str(path) == "spec.containers[0].resources.limits[cpu]"
    err = invalid(path, None, "x")
    assert str(err) == 'spec.containers[0].resources.limits[cpu]: Invalid value: "null": x'
    assert err.reason == "FieldValueInvalid"
    assert invalid(Path("a"), True, "d").body == "Invalid value: true: d"
    assert isinstance(err, FieldError)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("web", '"web"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\n\t\x01\x7f", '"\\n\\t\\x01\\x7f"'),
        ("é\u00a0", '"é\\u00a0"'),
        ("", '""'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
