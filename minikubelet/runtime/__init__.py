"""The node's view of a container engine: the Runtime protocol and its plain-data types.

Implementations live in submodules imported on purpose: `runtime.docker` (the Docker SDK,
imported only by the agent) and `runtime.fake` (in memory, for tests). Importing this package
never imports `docker`.
"""

from minikubelet.runtime.types import (
    LABEL_ATTEMPT,
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_POD,
    LABEL_UID,
    ContainerInfo,
    ContainerSpec,
    ExecResult,
    ImageInfo,
    InstanceState,
    LogOptions,
    Mount,
    PortMapping,
    Runtime,
    RuntimeEvent,
    SandboxInfo,
    SandboxSpec,
)

__all__ = [
    "LABEL_ATTEMPT",
    "LABEL_CONTAINER",
    "LABEL_INSTANCE",
    "LABEL_KIND",
    "LABEL_NAMESPACE",
    "LABEL_POD",
    "LABEL_UID",
    "ContainerInfo",
    "ContainerSpec",
    "InstanceState",
    "ExecResult",
    "ImageInfo",
    "LogOptions",
    "Mount",
    "PortMapping",
    "Runtime",
    "RuntimeEvent",
    "SandboxInfo",
    "SandboxSpec",
]
