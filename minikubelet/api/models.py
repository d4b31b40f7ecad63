"""The typed core/v1 Pod: the fields the node acts on, named as in Kubernetes JSON.

Every class keeps the fields it does not model in `extra` (see `codec`), so a Pod read from a
manifest and written back is the same Pod. Lists and maps default to None rather than empty, so
"absent" and "empty" stay apart as they do in the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON

__all__ = [
    "Container",
    "ContainerPort",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "HostPathVolumeSource",
    "IntOrString",
    "ObjectFieldSelector",
    "ObjectMeta",
    "Pod",
    "PodCondition",
    "PodIP",
    "PodSpec",
    "PodStatus",
    "Probe",
    "ResourceRequirements",
    "TCPSocketAction",
    "Volume",
    "VolumeMount",
]

IntOrString = int | str
Extra = JSON  # the fields a class does not model, kept as the API wrote them


def _extra() -> Extra:
    return {}


@dataclass(kw_only=True, slots=True)
class ObjectMeta:
    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resourceVersion: str | None = None
    generation: int | None = None
    creationTimestamp: datetime | None = None
    deletionTimestamp: datetime | None = None
    deletionGracePeriodSeconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ExecAction:
    command: list[str] | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class TCPSocketAction:
    port: IntOrString | None = None
    host: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class HTTPHeader:
    name: str = ""
    value: str = ""
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class HTTPGetAction:
    path: str | None = None
    port: IntOrString | None = None
    host: str | None = None
    scheme: str | None = None
    httpHeaders: list[HTTPHeader] | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class GRPCAction:
    port: int | None = None
    service: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class Probe:
    exec: ExecAction | None = None
    httpGet: HTTPGetAction | None = None
    tcpSocket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initialDelaySeconds: int | None = None
    timeoutSeconds: int | None = None
    periodSeconds: int | None = None
    successThreshold: int | None = None
    failureThreshold: int | None = None
    terminationGracePeriodSeconds: int | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ObjectFieldSelector:
    fieldPath: str = ""
    apiVersion: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class EnvVarSource:
    fieldRef: ObjectFieldSelector | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class EnvVar:
    name: str = ""
    value: str | None = None
    valueFrom: EnvVarSource | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerPort:
    name: str | None = None
    containerPort: int = 0
    hostPort: int | None = None
    hostIP: str | None = None
    protocol: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ResourceRequirements:
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class VolumeMount:
    name: str = ""
    mountPath: str = ""
    readOnly: bool | None = None
    subPath: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class Container:
    name: str = ""
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    workingDir: str | None = None
    ports: list[ContainerPort] | None = None
    env: list[EnvVar] | None = None
    resources: ResourceRequirements | None = None
    volumeMounts: list[VolumeMount] | None = None
    livenessProbe: Probe | None = None
    readinessProbe: Probe | None = None
    startupProbe: Probe | None = None
    terminationMessagePath: str | None = None
    terminationMessagePolicy: str | None = None
    imagePullPolicy: str | None = None
    restartPolicy: str | None = None
    stdin: bool | None = None
    stdinOnce: bool | None = None
    tty: bool | None = None
    extra: Extra = field(default_factory=_extra)

    def probes(self) -> dict[str, Probe]:
        """The probes this container sets, keyed by their field name."""
        found = {
            "livenessProbe": self.livenessProbe,
            "readinessProbe": self.readinessProbe,
            "startupProbe": self.startupProbe,
        }
        return {k: v for k, v in found.items() if v is not None}


@dataclass(kw_only=True, slots=True)
class EmptyDirVolumeSource:
    medium: str | None = None
    sizeLimit: Quantity | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class HostPathVolumeSource:
    path: str = ""
    type: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class Volume:
    name: str = ""
    emptyDir: EmptyDirVolumeSource | None = None
    hostPath: HostPathVolumeSource | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class PodSpec:
    containers: list[Container] | None = None
    initContainers: list[Container] | None = None
    volumes: list[Volume] | None = None
    nodeSelector: dict[str, str] | None = None
    nodeName: str | None = None
    restartPolicy: str | None = None
    terminationGracePeriodSeconds: int | None = None
    activeDeadlineSeconds: int | None = None
    dnsPolicy: str | None = None
    hostname: str | None = None
    subdomain: str | None = None
    serviceAccountName: str | None = None
    hostNetwork: bool | None = None
    extra: Extra = field(default_factory=_extra)

    def all_containers(self) -> list[Container]:
        """Init containers first, then regular ones: the order Kubernetes lists them in."""
        return [*(self.initContainers or []), *(self.containers or [])]

    def ephemeral_containers(self) -> list[Container]:
        """`ephemeralContainers`, kept as JSON in `extra` (only its own subresource writes it):
        each as a Container, its `targetContainerName` in the Container's `extra`."""
        from minikubelet.api.codec import from_dict  # the codec reads this module's types

        found = self.extra.get("ephemeralContainers") or []
        return [from_dict(Container, c) for c in found if isinstance(c, dict)]


@dataclass(kw_only=True, slots=True)
class PodCondition:
    # metav1.Time is a struct: `omitempty` never drops it, and a zero one is `null`
    ALWAYS: ClassVar[tuple[str, ...]] = ("lastProbeTime", "lastTransitionTime")

    type: str = ""
    status: str = ""
    lastProbeTime: datetime | None = None
    lastTransitionTime: datetime | None = None
    reason: str | None = None
    message: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerStateRunning:
    startedAt: datetime | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerStateWaiting:
    reason: str | None = None
    message: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerStateTerminated:
    exitCode: int = 0
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    startedAt: datetime | None = None
    finishedAt: datetime | None = None
    containerID: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerState:
    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class ContainerStatus:
    name: str = ""
    state: ContainerState | None = None
    lastState: ContainerState | None = None
    ready: bool = False
    restartCount: int = 0
    image: str = ""
    imageID: str = ""
    containerID: str | None = None
    started: bool | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class PodIP:
    ip: str = ""
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class PodStatus:
    phase: str | None = None
    conditions: list[PodCondition] | None = None
    message: str | None = None
    reason: str | None = None
    hostIP: str | None = None
    podIP: str | None = None
    podIPs: list[PodIP] | None = None
    startTime: datetime | None = None
    initContainerStatuses: list[ContainerStatus] | None = None
    containerStatuses: list[ContainerStatus] | None = None
    qosClass: str | None = None
    extra: Extra = field(default_factory=_extra)


@dataclass(kw_only=True, slots=True)
class Pod:
    apiVersion: str = "v1"
    kind: str = "Pod"
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PodSpec = field(default_factory=PodSpec)
    status: PodStatus | None = None
    extra: Extra = field(default_factory=_extra)

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or "default"
