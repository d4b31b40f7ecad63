"""Regular and init containers (`validateContainers`, `validateInitContainers`,
`validateContainerCommon`, `validateContainerPorts`, `checkHostPortConflicts`).

The order of checks is upstream's, since it sets the order of `causes` a client sees.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from minikubelet.api.models import Container, PodSpec
from minikubelet.api.validation.env import validate_env, validate_env_from
from minikubelet.api.validation.field import (
    FieldError,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    required,
)
from minikubelet.api.validation.names import (
    is_dns1123_label,
    is_valid_port_name,
    is_valid_port_num,
)
from minikubelet.api.validation.probes import validate_lifecycle, validate_probe
from minikubelet.api.validation.resources import validate_resources
from minikubelet.api.validation.security import validate_container_security
from minikubelet.api.validation.volumes import validate_volume_mounts

__all__ = [
    "containers_with_path",
    "validate_containers",
    "validate_image_whitespace",
    "validate_init_containers",
]


def containers_with_path(spec: PodSpec, spec_path: Path) -> Iterator[tuple[Container, Path]]:
    """`VisitContainersWithPath`: init containers, then containers, then ephemeral ones, each
    with its path under `spec_path`."""
    for group, items in (
        ("initContainers", spec.initContainers or []),
        ("containers", spec.containers or []),
        ("ephemeralContainers", spec.ephemeral_containers()),
    ):
        for i, container in enumerate(items):
            yield container, spec_path.child(group).index(i)


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_INIT_FORBIDDEN = "may not be set for init containers without restartPolicy=Always"
# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's strip also drops \x1c-\x1f).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)


def _choice(value: str | None, supported: Sequence[str], path: Path) -> list[FieldError]:
    """The Required/NotSupported switch upstream repeats for each enum field."""
    if not value:
        return [required(path)]
    return [] if value in supported else [not_supported(path, value, supported)]


def _validate_ports(container: Container, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(container.ports or []):
        port_path = path.index(i)
        if port.name:
            messages = is_valid_port_name(port.name)
            errs += [invalid(port_path.child("name"), port.name, m) for m in messages]
            if not messages and port.name in names:
                errs.append(duplicate(port_path.child("name"), port.name))
            elif not messages:
                names.add(port.name)
        if port.containerPort == 0:
            errs.append(required(port_path.child("containerPort")))
        else:
            number = port.containerPort
            errs += [
                invalid(port_path.child("containerPort"), number, m)
                for m in is_valid_port_num(number)
            ]
        if port.hostPort:
            errs += [
                invalid(port_path.child("hostPort"), port.hostPort, m)
                for m in is_valid_port_num(port.hostPort)
            ]
        errs += _choice(port.protocol, ("SCTP", "TCP", "UDP"), port_path.child("protocol"))
    return errs


def _validate_common(container: Container, volumes: set[str], path: Path) -> list[FieldError]:
    """`validateContainerCommon`: what every kind of container shares."""
    errs: list[FieldError] = []
    name_path = path.child("name")
    if not container.name:
        errs.append(required(name_path))
    else:
        errs += [invalid(name_path, container.name, m) for m in is_dns1123_label(container.name)]
    if not container.image:
        errs.append(required(path.child("image")))
    policies = ("File", "FallbackToLogsOnError")
    tmp_path = path.child("terminationMessagePolicy")
    errs += _choice(container.terminationMessagePolicy, policies, tmp_path)
    errs += _validate_ports(container, path.child("ports"))
    errs += validate_env(container.env, path.child("env"))
    errs += validate_env_from(container.extra.get("envFrom"), path.child("envFrom"))
    errs += validate_volume_mounts(container, volumes, path.child("volumeMounts"))
    pull = ("Always", "IfNotPresent", "Never")
    errs += _choice(container.imagePullPolicy, pull, path.child("imagePullPolicy"))
    errs += validate_resources(container.resources, path.child("resources"))
    context = container.extra.get("securityContext")
    errs += validate_container_security(context, path.child("securityContext"))
    return errs


def _host_port_conflicts(
    containers: Sequence[Container], path: Path, seen: set[str]
) -> list[FieldError]:
    """Clashes keyed `<protocol>/<hostIP>/<hostPort>`, the later port reported."""
    errs: list[FieldError] = []
    for ci, container in enumerate(containers):
        for pi, port in enumerate(container.ports or []):
            if not port.hostPort:
                continue
            key = f"{port.protocol or ''}/{port.hostIP or ''}/{port.hostPort}"
            if key in seen:
                errs.append(
                    duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key)
                )
            seen.add(key)
    return errs


def _validate_probes(container: Container, grace: int, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    lifecycle = container.extra.get("lifecycle")
    if lifecycle is not None:
        errs += validate_lifecycle(lifecycle, grace, path.child("lifecycle"))
    for kind in _PROBES:
        errs += validate_probe(kind, getattr(container, kind), grace, path.child(kind))
    return errs


def validate_containers(
    containers: list[Container] | None, volumes: set[str], grace: int, path: Path
) -> list[FieldError]:
    """Regular containers; host port clashes are checked once, across all of them."""
    if not containers:
        return [required(path)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, container in enumerate(containers):
        ctr_path = path.index(i)
        errs += _validate_common(container, volumes, ctr_path)
        if container.name in names:
            errs.append(duplicate(ctr_path.child("name"), container.name))
        names.add(container.name)
        errs += _validate_probes(container, grace, ctr_path)
        if container.restartPolicy is not None:
            detail = "may not be set for non-init containers"
            errs.append(forbidden(ctr_path.child("restartPolicy"), detail))
    return errs + _host_port_conflicts(containers, path, set())


def validate_init_containers(
    init: list[Container] | None,
    regular: list[Container] | None,
    volumes: set[str],
    grace: int,
    path: Path,
) -> list[FieldError]:
    """Init containers; a name clash with a regular or earlier init container is reported here.

    Host ports are checked one container at a time, passed as a one-element list: upstream's
    error path therefore always says `initContainers[0]`, whichever container clashed.
    """
    errs: list[FieldError] = []
    names = {c.name for c in regular or []}
    for i, container in enumerate(init or []):
        ctr_path = path.index(i)
        errs += _validate_common(container, volumes, ctr_path)
        sidecar = False
        if container.restartPolicy is not None:
            policy_path = ctr_path.child("restartPolicy")
            if container.restartPolicy != "Always":
                errs.append(not_supported(policy_path, container.restartPolicy, ("Always",)))
            sidecar = container.restartPolicy == "Always"
        if container.name in names:
            errs.append(duplicate(ctr_path.child("name"), container.name))
        elif container.name:
            names.add(container.name)
        errs += _host_port_conflicts([container], path, set())
        if sidecar:
            errs += _validate_probes(container, grace, ctr_path)
            continue
        if container.extra.get("lifecycle") is not None:
            errs.append(forbidden(ctr_path.child("lifecycle"), _INIT_FORBIDDEN))
        for kind in _PROBES:
            if getattr(container, kind) is not None:
                errs.append(forbidden(ctr_path.child(kind), _INIT_FORBIDDEN))
    return errs


def validate_image_whitespace(containers: list[Container] | None, path: Path) -> list[FieldError]:
    """`validateContainersOnlyForPod`: Pods (not templates) reject padded image names."""
    errs: list[FieldError] = []
    for i, container in enumerate(containers or []):
        image = container.image or ""
        if image != image.strip(_GO_SPACE):
            detail = "must not have leading or trailing whitespace"
            errs.append(invalid(path.index(i).child("image"), image, detail))
    return errs


_EPHEMERAL = "cannot be set for an Ephemeral Container"


def _ephemeral_forbidden(container: Container, path: Path) -> list[FieldError]:
    """`validateFieldAllowList`: the fields outside the allow-list that are set, in the order
    of Go's EphemeralContainerCommon."""
    resources = container.resources
    set_fields = {
        "ports": bool(container.ports),
        "resources": bool(
            resources and (resources.limits or resources.requests or resources.extra)
        ),
        "resizePolicy": bool(container.extra.get("resizePolicy")),
        "restartPolicy": container.restartPolicy is not None,
        "livenessProbe": container.livenessProbe is not None,
        "readinessProbe": container.readinessProbe is not None,
        "startupProbe": container.startupProbe is not None,
        "lifecycle": container.extra.get("lifecycle") is not None,
    }
    errs = [forbidden(path.child(name), _EPHEMERAL) for name, found in set_fields.items() if found]
    for j, mount in enumerate(container.volumeMounts or []):
        for key in ("subPath", "subPathExpr"):
            if mount.subPath if key == "subPath" else mount.extra.get(key):
                errs.append(forbidden(path.child("volumeMounts").index(j).child(key), _EPHEMERAL))
    return errs


def validate_ephemeral_containers(
    ephemeral: list[Container],
    regular: list[Container] | None,
    init: list[Container] | None,
    volumes: set[str],
    path: Path,
) -> list[FieldError]:
    """`validateEphemeralContainers`: each as any container, a name unique across every kind,
    a target among the regular and init containers, and only the allowed fields."""
    errs: list[FieldError] = []
    others = {c.name for c in [*(regular or []), *(init or [])]}
    names = set(others)
    for i, container in enumerate(ephemeral):
        ctr_path = path.index(i)
        errs += _validate_common(container, volumes, ctr_path)
        image = container.image or ""
        if image != image.strip(_GO_SPACE):
            detail = "must not have leading or trailing whitespace"
            errs.append(invalid(ctr_path.child("image"), image, detail))
        if container.name in names:
            errs.append(duplicate(ctr_path.child("name"), container.name))
        else:
            names.add(container.name)
        target = container.extra.get("targetContainerName")
        if target and target not in others:
            errs.append(not_found(ctr_path.child("targetContainerName"), target))
        errs += _ephemeral_forbidden(container, ctr_path)
    return errs
