"""`generate_status` as a table: a base pod, a base observation, and one row per kubelet rule.

Each row names the JSON paths it checks (`containerStatuses.0.state.waiting.reason`) in the
codec's output, so a row reads like the `kubectl get pod -o yaml` it stands for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikubelet.api.codec import to_dict
from minikubelet.api.models import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStatus,
    ObjectMeta,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Probe,
)
from minikubelet.runtime.types import ContainerInfo, InstanceState, SandboxInfo
from minikubelet.status import (
    generate_status,
    unschedulable_status,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = "2026-01-01T00:16:40Z"  # T0 + 1000s
CRASH = "back-off 10s restarting failed container=app pod=web_default(u1)"


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ts(seconds: float) -> str:
    return t(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def info(
    name: str,
    attempt: int = 0,
    state: InstanceState = InstanceState.RUNNING,
    *,
    code: int = 0,
    oom: bool = False,
    error: str = "",
    image_id: str = "sha256:abc",
    cannot_run: bool = False,
) -> ContainerInfo:
    created = t(100 * attempt + 0.25)
    exited = state is InstanceState.EXITED
    return ContainerInfo(
        id=f"{name}-{attempt}",
        pod_uid="u1",
        name=name,
        attempt=attempt,
        image="busybox",
        image_id=image_id,
        state=state,
        exit_code=code,
        oom_killed=oom,
        error=error,
        created_at=created,
        started_at=None if cannot_run or state is InstanceState.CREATED else created,
        finished_at=created + timedelta(seconds=5) if exited and not cannot_run else None,
    )


def dead(name: str, attempt: int = 0, code: int = 1, **kw: Any) -> ContainerInfo:
    return info(name, attempt, InstanceState.EXITED, code=code, **kw)


SANDBOX = SandboxInfo(
    id="sb", pod_uid="u1", pod_name="web", namespace="default", attempt=0, running=True,
    ip="10.0.0.2",
)  # fmt: skip


@dataclass
class Observed:
    sandbox: SandboxInfo | None = SANDBOX
    containers: list[ContainerInfo] = field(default_factory=lambda: [info("app")])
    previous: PodStatus | None = None
    readiness: dict[str, bool] = field(default_factory=dict)
    startup: dict[str, bool] = field(default_factory=dict)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    terminal: bool = False  # the pod is being deleted


def base_pod() -> Pod:
    return Pod(
        metadata=ObjectMeta(name="web", namespace="default", uid="u1"),
        spec=PodSpec(containers=[Container(name="app", image="busybox")], restartPolicy="Always"),
    )


def nothing(_: object) -> None:
    return None


def policy(name: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.restartPolicy = name

    return mutate


def with_inits(*extra: Callable[[Pod], None]) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.initContainers = [Container(name="init1", image="busybox"),
                                   Container(name="init2", image="busybox")]  # fmt: skip
        for fn in extra:
            fn(pod)

    return mutate


def probe(kind: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        assert pod.spec.containers
        setattr(pod.spec.containers[0], kind, Probe())

    return mutate


def deadline(seconds: int) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.activeDeadlineSeconds = seconds

    return mutate


def named(*names: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.containers = [Container(name=n, image="busybox") for n in names]

    return mutate


def obs(
    *containers: ContainerInfo, stopped: bool = False, **changes: Any
) -> Callable[[Observed], None]:
    def mutate(o: Observed) -> None:
        if containers or "containers" in changes:
            o.containers = list(containers)
        if stopped:
            o.sandbox = replace(SANDBOX, running=False)
        for key, value in changes.items():
            setattr(o, key, value)

    return mutate


def cond(ctype: str, status: str, at: float, **kw: Any) -> PodCondition:
    return PodCondition(type=ctype, status=status, lastTransitionTime=t(at), **kw)


def previous(*conditions: PodCondition, **kw: Any) -> PodStatus:
    return PodStatus(conditions=list(conditions), **kw)


def running_status(name: str) -> ContainerStatus:
    return ContainerStatus(
        name=name,
        restartCount=2,
        state=ContainerState(running=ContainerStateRunning(startedAt=t(1))),
    )


def pick(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            if part.isdigit():
                data = data[int(part)]
            else:  # a condition by type
                data = next(c for c in data if c.get("type") == part)
        else:
            data = data.get(part)
        if data is None:
            return None
    return data


READY_TRUE = {"conditions.Ready.status": "True", "conditions.ContainersReady.status": "True"}
CS = "containerStatuses.0"
IS = "initContainerStatuses"
UNREADY = "containers with unready status: [app]"

CASES = [
    pytest.param(
        nothing,
        nothing,
        {
            "phase": "Running",
            **READY_TRUE,
            "conditions.Initialized.status": "True",
            "conditions.PodReadyToStartContainers.status": "True",
            "conditions.PodScheduled.status": "True",
            f"{CS}.state": {"running": {"startedAt": ts(0)}},
            f"{CS}.lastState": {},
            f"{CS}.ready": True,
            f"{CS}.started": True,
            f"{CS}.restartCount": 0,
            f"{CS}.image": "busybox",
            f"{CS}.imageID": "docker://sha256:abc",
            f"{CS}.containerID": "docker://app-0",
            "podIP": "10.0.0.2",
            "podIPs": [{"ip": "10.0.0.2"}],
            "hostIP": "192.168.5.1",
            "hostIPs": [{"ip": "192.168.5.1"}],
            "startTime": NOW,
        },
        id="running, no probes: ready, whole seconds",
    ),
    pytest.param(
        nothing,
        obs(containers=[], sandbox=None),
        {
            "phase": "Pending",
            f"{CS}.state": {"waiting": {"reason": "ContainerCreating"}},
            f"{CS}.lastState": {},
            f"{CS}.started": False,
            f"{CS}.imageID": "",
            f"{CS}.containerID": None,
            "conditions.PodReadyToStartContainers.status": "False",
            "conditions.ContainersReady": {
                "type": "ContainersReady",
                "status": "False",
                "reason": "ContainersNotReady",
                "message": UNREADY,
                "lastProbeTime": None,
                "lastTransitionTime": NOW,
            },
            "conditions.Ready.reason": "ContainersNotReady",
            "podIP": None,
            "startTime": NOW,
        },
        id="new pod: ContainerCreating, startTime set before any container",
    ),
    pytest.param(
        with_inits(),
        obs(containers=[]),
        {
            "phase": "Pending",
            f"{IS}.0.state.waiting.reason": "PodInitializing",
            f"{IS}.1.state.waiting.reason": "PodInitializing",
            f"{CS}.state.waiting.reason": "PodInitializing",
            "conditions.Initialized.reason": "ContainersNotInitialized",
            "conditions.Initialized.message": "containers with incomplete status: [init1 init2]",
        },
        id="init containers: PodInitializing everywhere",
    ),
    pytest.param(
        probe("readinessProbe"),
        nothing,
        {
            f"{CS}.ready": False,
            f"{CS}.started": True,
            "conditions.Ready.status": "False",
            "conditions.Ready.message": UNREADY,
            "phase": "Running",
        },
        id="readiness probe without a result: not ready",
    ),
    pytest.param(
        probe("readinessProbe"),
        obs(readiness={"app": True}),
        {f"{CS}.ready": True, **READY_TRUE},
        id="readiness Success: ready",
    ),
    pytest.param(
        probe("startupProbe"),
        nothing,
        {f"{CS}.started": False, f"{CS}.ready": False},
        id="startup probe not passed: not started, not ready",
    ),
    pytest.param(
        probe("startupProbe"),
        obs(startup={"app": True}),
        {f"{CS}.started": True, f"{CS}.ready": True},
        id="startup passed: started",
    ),
    pytest.param(
        nothing,
        obs(dead("app", 1), waiting={"app": ("CrashLoopBackOff", CRASH)}),
        {
            "phase": "Running",
            f"{CS}.state": {"waiting": {"reason": "CrashLoopBackOff", "message": CRASH}},
            f"{CS}.lastState.terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": ts(100),
                "finishedAt": ts(105),
                "containerID": "docker://app-1",
            },
            f"{CS}.restartCount": 1,
            f"{CS}.ready": False,
            f"{CS}.started": False,
        },
        id="crash loop: CrashLoopBackOff over lastState Error, phase Running",
    ),
    pytest.param(
        nothing,
        obs(dead("app", 1)),
        {
            "phase": "Running",
            f"{CS}.state.terminated.reason": "Error",
            f"{CS}.lastState": {},
        },
        id="crashed, no reasonCache entry: stays terminated",
    ),
    pytest.param(
        policy("Never"),
        obs(dead("app"), stopped=True),
        {
            "phase": "Failed",
            "conditions.Ready.reason": "PodFailed",
            "conditions.ContainersReady.reason": "PodFailed",
            "conditions.PodReadyToStartContainers.status": "False",
        },
        id="Never, exit 1, pod stopped: Failed",
    ),
    pytest.param(
        policy("Never"),
        obs(dead("app"), previous=previous(phase="Running")),
        {
            "phase": "Running",
            "conditions.ContainersReady.reason": "PodFailed",
        },
        id="terminal phase held back while the sandbox runs",
    ),
    pytest.param(
        policy("Never"),
        obs(dead("app", code=0), stopped=True),
        {
            "phase": "Succeeded",
            "conditions.Initialized": {
                "type": "Initialized",
                "status": "True",
                "reason": "PodCompleted",
                "lastProbeTime": None,
                "lastTransitionTime": NOW,
            },
            "conditions.Ready.reason": "PodCompleted",
            "conditions.ContainersReady.reason": "PodCompleted",
            f"{CS}.state.terminated.reason": "Completed",
            "podIP": None,
        },
        id="Never, exit 0: Succeeded, PodCompleted",
    ),
    pytest.param(
        policy("OnFailure"),
        obs(dead("app", code=0), stopped=True),
        {"phase": "Succeeded"},
        id="OnFailure, exit 0: Succeeded",
    ),
    pytest.param(
        policy("OnFailure"),
        obs(dead("app"), waiting={"app": ("CrashLoopBackOff", CRASH)}),
        {"phase": "Running", f"{CS}.state.waiting.reason": "CrashLoopBackOff"},
        id="OnFailure crash loop: Running",
    ),
    pytest.param(
        nothing,
        obs(dead("app", code=137, oom=True)),
        {
            f"{CS}.state.terminated.reason": "OOMKilled",
            f"{CS}.state.terminated.exitCode": 137,
        },
        id="OOMKilled",
    ),
    pytest.param(
        nothing,
        obs(dead("app", code=127, error='exec: "nope": not found', cannot_run=True)),
        {
            f"{CS}.state.terminated": {
                "exitCode": 127,
                "reason": "ContainerCannotRun",
                "message": 'exec: "nope": not found',
                "startedAt": ts(0),
                "finishedAt": ts(0),
                "containerID": "docker://app-0",
            },
        },
        id="ContainerCannotRun: times from createdAt, Docker's error",
    ),
    pytest.param(
        nothing,
        obs(containers=[], waiting={"app": ("ErrImagePull", "pull failed")}),
        {
            "phase": "Pending",
            f"{CS}.state": {"waiting": {"reason": "ErrImagePull", "message": "pull failed"}},
            f"{CS}.restartCount": 0,
        },
        id="ErrImagePull: Pending, no restart counted",
    ),
    pytest.param(
        nothing,
        obs(containers=[], waiting={"app": ("ImagePullBackOff", 'Back-off pulling image "x"')}),
        {"phase": "Pending", f"{CS}.state.waiting.reason": "ImagePullBackOff"},
        id="ImagePullBackOff",
    ),
    pytest.param(
        nothing,
        obs(info("app", 0, InstanceState.CREATED)),
        {f"{CS}.state": {"waiting": {}}, "phase": "Pending"},
        id="created, not started: waiting with an empty reason",
    ),
    pytest.param(
        nothing,
        obs(dead("app", 0), info("app", 1)),
        {
            f"{CS}.state.running.startedAt": ts(100),
            f"{CS}.lastState.terminated.reason": "Error",
            f"{CS}.restartCount": 1,
        },
        id="newest two records: state and lastState",
    ),
    pytest.param(
        named("zeta", "alpha"),
        obs(info("zeta"), info("alpha")),
        {"containerStatuses.0.name": "alpha", "containerStatuses.1.name": "zeta"},
        id="containerStatuses sorted by name",
    ),
    pytest.param(
        with_inits(),
        obs(info("init1")),
        {
            "phase": "Pending",
            f"{IS}.0.state.running.startedAt": ts(0),
            f"{IS}.0.ready": False,
            f"{IS}.0.started": True,
            f"{CS}.state.waiting.reason": "PodInitializing",
        },
        id="init running: Pending, app PodInitializing",
    ),
    pytest.param(
        with_inits(),
        obs(dead("init1", 1), waiting={"init1": ("CrashLoopBackOff", "b")}),
        {
            "phase": "Pending",
            f"{IS}.0.state.waiting.reason": "CrashLoopBackOff",
            f"{IS}.0.lastState.terminated.reason": "Error",
            f"{CS}.state.waiting.reason": "PodInitializing",
            "conditions.Initialized.message": "containers with incomplete status: [init1 init2]",
        },
        id="init crash loop under Always: Pending",
    ),
    pytest.param(
        with_inits(policy("Never")),
        obs(dead("init1"), stopped=True),
        {
            "phase": "Failed",
            "conditions.Ready.reason": "PodFailed",
        },
        id="init failed under Never: Failed",
    ),
    pytest.param(
        with_inits(),
        obs(dead("init1", code=0), dead("init2", code=0), info("app")),
        {
            "phase": "Running",
            f"{IS}.0.ready": True,
            f"{IS}.1.state.terminated.reason": "Completed",
            "conditions.Initialized.status": "True",
            **READY_TRUE,
        },
        id="init done, app running",
    ),
    pytest.param(
        nothing,
        obs(previous=previous(cond("Ready", "True", 10), cond("ContainersReady", "True", 10))),
        {
            "conditions.Ready.lastTransitionTime": ts(10),
            "conditions.ContainersReady.lastTransitionTime": ts(10),
            "conditions.Initialized.lastTransitionTime": NOW,
        },
        id="lastTransitionTime kept while the status holds",
    ),
    pytest.param(
        nothing,
        obs(previous=previous(cond("Ready", "False", 10))),
        {"conditions.Ready.lastTransitionTime": NOW},
        id="lastTransitionTime moves on a flip",
    ),
    pytest.param(
        probe("readinessProbe"),
        obs(previous=previous(cond("Ready", "False", 10, reason="Other"))),
        {
            "conditions.Ready.lastTransitionTime": ts(10),
            "conditions.Ready.reason": "ContainersNotReady",
        },
        id="reason change alone keeps lastTransitionTime",
    ),
    pytest.param(
        nothing,
        obs(containers=[], sandbox=None, previous=previous(phase="Failed", reason="X")),
        {"phase": "Failed", "reason": "X"},
        id="terminal phase is sticky, reason kept",
    ),
    pytest.param(
        nothing,
        obs(previous=previous(startTime=t(3.7), qosClass="BestEffort")),
        {"startTime": ts(3), "qosClass": "BestEffort"},
        id="startTime and qosClass kept",
    ),
    pytest.param(
        nothing,
        obs(containers=[], previous=PodStatus(containerStatuses=[running_status("app")])),
        {
            f"{CS}.state.waiting.reason": "ContainerCreating",
            f"{CS}.restartCount": 3,
            "phase": "Running",
            f"{CS}.lastState.terminated": {
                "exitCode": 137,
                "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod "
                "was deleted.  The container used to be Running",
            },
        },
        id="vanished container: ContainerStatusUnknown in lastState",
    ),
    pytest.param(
        nothing,
        obs(
            info("app", 2, InstanceState.UNKNOWN),
            previous=PodStatus(containerStatuses=[running_status("app")]),
        ),
        {
            f"{CS}.state.terminated.reason": "ContainerStatusUnknown",
            f"{CS}.restartCount": 3,
        },
        id="unknown after running: terminated ContainerStatusUnknown",
    ),
    pytest.param(
        nothing,
        obs(
            stopped=True,
            containers=[dead("app", code=0)],
            previous=previous(podIP="10.0.0.9", podIPs=[PodIP(ip="10.0.0.9")]),
        ),
        {"podIP": "10.0.0.9", "conditions.PodReadyToStartContainers.status": "False"},
        id="sandbox stopped: pod IP kept",
    ),
    pytest.param(
        nothing,
        obs(dead("app", code=143), stopped=True, terminal=True),
        {"phase": "Failed"},
        id="terminating, SIGTERM death: Failed whatever the policy",
    ),
    pytest.param(
        nothing,
        obs(dead("app", code=0), stopped=True, terminal=True),
        {"phase": "Succeeded"},
        id="terminating, all exit 0: Succeeded",
    ),
    pytest.param(
        nothing,
        obs(info("app", image_id="busybox@sha256:def")),
        {f"{CS}.imageID": "docker-pullable://busybox@sha256:def"},
        id="imageID with a repo digest",
    ),
]


def with_sidecar(*extra: Callable[[Pod], None]) -> Callable[[Pod], None]:
    """A sidecar `proxy` (restartPolicy Always) before the regular init container `init2`."""

    def mutate(pod: Pod) -> None:
        pod.spec.initContainers = [
            Container(name="proxy", image="busybox", restartPolicy="Always"),
            Container(name="init2", image="busybox"),
        ]
        for fn in extra:
            fn(pod)

    return mutate


def proxy_probe(kind: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        assert pod.spec.initContainers
        setattr(pod.spec.initContainers[0], kind, Probe())

    return mutate


SIDECAR_CASES = [
    pytest.param(
        with_sidecar(),
        obs(info("proxy"), dead("init2", code=0), info("app")),
        {
            "phase": "Running",
            **READY_TRUE,
            "conditions.Initialized.status": "True",
            f"{IS}.0.started": True,
            f"{IS}.0.ready": True,
            f"{IS}.0.state.running.startedAt": ts(0),
            f"{IS}.1.ready": True,
        },
        id="sidecar running beside the app: ready, Initialized",
    ),
    pytest.param(
        with_sidecar(proxy_probe("readinessProbe")),
        obs(info("proxy"), dead("init2", code=0), info("app")),
        {
            "phase": "Running",
            f"{IS}.0.ready": False,
            "conditions.ContainersReady.message": "containers with unready status: [proxy]",
            "conditions.Ready.status": "False",
        },
        id="sidecar not ready: the pod is not Ready",
    ),
    pytest.param(
        with_sidecar(proxy_probe("readinessProbe"), probe("readinessProbe")),
        obs(info("proxy"), dead("init2", code=0), info("app")),
        {"conditions.ContainersReady.message": "containers with unready status: [proxy app]"},
        id="unready: sidecars first, in init order",
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe")),
        obs(info("proxy")),
        {
            "phase": "Pending",
            f"{IS}.0.started": False,
            f"{IS}.0.ready": False,
            f"{IS}.1.state.waiting.reason": "PodInitializing",
            "conditions.Initialized.message": "containers with incomplete status: [proxy init2]",
        },
        id="sidecar before its startup probe: Pending, incomplete",
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe")),
        obs(info("proxy"), startup={"proxy": True}),
        {
            "phase": "Pending",
            f"{IS}.0.started": True,
            "conditions.Initialized.message": "containers with incomplete status: [init2]",
        },
        id="sidecar started, init2 not yet run",
    ),
    pytest.param(
        with_sidecar(policy("Never")),
        obs(dead("proxy", code=143), dead("init2", code=0), dead("app", code=0), stopped=True),
        {"phase": "Succeeded", f"{IS}.0.state.terminated.exitCode": 143},
        id="a killed sidecar does not fail a completed pod",
    ),
    pytest.param(
        with_sidecar(),
        obs(dead("proxy", code=1), dead("init2", code=0), info("app")),
        {"phase": "Running", f"{IS}.0.ready": False, "conditions.Initialized.status": "True"},
        id="sidecar exited beside a running app: still Running, not ready",
    ),
]
CASES += SIDECAR_CASES
CASES += [
    pytest.param(
        policy("Never"),
        obs(replace(dead("app", code=3), termination_message="config missing\n"), stopped=True),
        {f"{CS}.state.terminated.message": "config missing\n"},
        id="terminated: the termination message",
    ),
    pytest.param(
        policy("Never"),
        obs(
            replace(dead("app", code=3), error="engine says", termination_message="app says"),
            stopped=True,
        ),
        {f"{CS}.state.terminated.message": "engine says: app says"},
        id="terminated: the runtime's message, then the container's",
    ),
    pytest.param(
        deadline(30),
        obs(previous=previous(startTime=t(970.4), phase="Running")),
        {
            "phase": "Running",  # held back while its containers could run (mergePodStatus)
            "reason": None,
            "conditions.Ready.reason": "PodFailed",
        },
        id="past activeDeadlineSeconds, still running: Failed held back",
    ),
    pytest.param(
        deadline(30),
        obs(dead("app", code=137), stopped=True, previous=previous(startTime=t(970.4))),
        {
            "phase": "Failed",
            "reason": "DeadlineExceeded",
            "message": "Pod was active on the node longer than the specified deadline",
        },
        id="past activeDeadlineSeconds, stopped: Failed, DeadlineExceeded",
    ),
    pytest.param(
        deadline(31),
        obs(dead("app", code=137), stopped=True, previous=previous(startTime=t(970.4))),
        {"phase": "Running", "reason": None},
        id="1 s before activeDeadlineSeconds: nothing",
    ),
]


@pytest.mark.parametrize(("mutate_pod", "mutate_observed", "expected"), CASES)
def test_generate_status(
    mutate_pod: Callable[[Pod], None],
    mutate_observed: Callable[[Observed], None],
    expected: dict[str, Any],
) -> None:
    pod = base_pod()
    mutate_pod(pod)
    o = Observed()
    mutate_observed(o)
    if o.terminal:
        pod.metadata.deletionTimestamp = t(1000)
    status = generate_status(
        pod, o.sandbox, o.containers, previous=o.previous, now=t(1000.4), host_ip="192.168.5.1",
        readiness=o.readiness, startup_passed=o.startup, waiting=o.waiting,
    )  # fmt: skip
    data = to_dict(status)
    assert {path: pick(data, path) for path in expected} == expected


def test_condition_order_and_kept_conditions() -> None:
    old = previous(cond("DisruptionTarget", "True", 5), cond("PodScheduled", "True", 1))
    status = generate_status(
        base_pod(), SANDBOX, [info("app")], previous=old, now=t(1000), host_ip="h",
        readiness={}, startup_passed={}, waiting={},
    )  # fmt: skip
    assert [c.type for c in status.conditions or []] == [
        "DisruptionTarget", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
        "PodScheduled",
    ]  # fmt: skip
    assert all(c.lastProbeTime is None for c in status.conditions or [])
    assert (status.conditions or [])[-1].lastTransitionTime == t(1)


FAILED_SCHEDULING_MESSAGE = "0/1 nodes are available: 1 node(s) were unschedulable."


def test_unschedulable() -> None:
    pod = base_pod()
    status = unschedulable_status(pod, FAILED_SCHEDULING_MESSAGE, t(10.5), None)
    assert to_dict(status) == {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": FAILED_SCHEDULING_MESSAGE, "lastProbeTime": None,
                        "lastTransitionTime": ts(10)}],
    }  # fmt: skip
    again = unschedulable_status(pod, FAILED_SCHEDULING_MESSAGE, t(99), status)
    assert again.conditions and again.conditions[0].lastTransitionTime == t(10)
