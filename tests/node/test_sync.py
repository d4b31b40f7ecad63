"""`decide` as a table (STYLE pattern 2): a base pod, a base observation, the NO_ACTION
baseline, and one row per kubelet rule (`TestComputePodActions` and its init-container twin)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from minikubelet.api.models import Container, ObjectMeta, Pod, PodSpec, Probe
from minikubelet.node.sync import (
    NO_ACTION,
    BackoffWait,
    KillAction,
    PodActions,
    ProbeView,
    StartAction,
    decide,
)
from minikubelet.runtime.types import ContainerInfo, InstanceState, SandboxInfo

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POD = "pod=web_default(u1)"


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def info(
    name: str,
    attempt: int = 0,
    state: InstanceState = InstanceState.RUNNING,
    *,
    exit_code: int = 0,
    image: str = "busybox",
    oom: bool = False,
    error: str = "",
    finished: datetime | None = None,
) -> ContainerInfo:
    created = t(100 * attempt + (50 if name.startswith("init") else 0))
    ended = finished or (created + timedelta(seconds=5) if state is InstanceState.EXITED else None)
    return ContainerInfo(
        id=f"{name}-{attempt}",
        pod_uid="u1",
        name=name,
        attempt=attempt,
        image=image,
        image_id="sha256:abc",
        state=state,
        exit_code=exit_code,
        oom_killed=oom,
        error=error,
        created_at=created,
        started_at=created if state is not InstanceState.CREATED else None,
        finished_at=ended,
    )


def dead(name: str, attempt: int = 0, code: int = 1, **kw: object) -> ContainerInfo:
    return info(name, attempt, InstanceState.EXITED, exit_code=code, **kw)  # type: ignore[arg-type]


@dataclass
class Observed:
    sandbox: SandboxInfo | None = field(
        default_factory=lambda: SandboxInfo(
            id="sb", pod_uid="u1", pod_name="web", namespace="default", attempt=0,
            running=True, ip="10.0.0.2",
        )
    )  # fmt: skip
    containers: list[ContainerInfo] = field(default_factory=lambda: [info("app")])
    liveness: dict[str, str] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)  # startup probe passed
    backoff: dict[str, float] = field(default_factory=dict)  # name → delay being waited
    deleting: bool = False


def base_pod() -> Pod:
    return Pod(
        metadata=ObjectMeta(name="web", namespace="default", uid="u1"),
        spec=PodSpec(
            containers=[Container(name="app", image="busybox")],
            restartPolicy="Always",
            terminationGracePeriodSeconds=30,
        ),
    )


def policy(name: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.restartPolicy = name

    return mutate


def with_inits(*extra: Callable[[Pod], None]) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod.spec.initContainers = [
            Container(name="init1", image="busybox"),
            Container(name="init2", image="busybox"),
        ]
        for fn in extra:
            fn(pod)

    return mutate


def observe(*containers: ContainerInfo, **changes: object) -> Callable[[Observed], None]:
    def mutate(obs: Observed) -> None:
        obs.containers = list(containers)
        for key, value in changes.items():
            setattr(obs, key, value)

    return mutate


def sandbox(**changes: object) -> Callable[[Observed], None]:
    def mutate(obs: Observed) -> None:
        assert obs.sandbox is not None
        obs.sandbox = replace(obs.sandbox, **changes)  # type: ignore[arg-type]

    return mutate


def then(*fns: Callable[[Observed], None]) -> Callable[[Observed], None]:
    def mutate(obs: Observed) -> None:
        for fn in fns:
            fn(obs)

    return mutate


def nothing(_: object) -> None:
    return None


def act(**changes: object) -> PodActions:
    return replace(NO_ACTION, **changes)  # type: ignore[arg-type]


def start(
    name: str, attempt: int = 0, finished: float | None = None, init: bool = False
) -> StartAction:
    return StartAction(
        name, init=init, attempt=attempt, finished_at=t(finished) if finished is not None else None
    )


def wait(name: str, delay: float, text: str, init: bool = False) -> BackoffWait:
    message = f"back-off {text} restarting failed container={name} {POD}"
    return BackoffWait(name, delay, message, init=init)


def liveness_probe(grace: int | None = None) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        assert pod.spec.containers
        pod.spec.containers[0].livenessProbe = Probe(terminationGracePeriodSeconds=grace)

    return mutate


def deletion(pod: Pod) -> None:
    pod.metadata.deletionTimestamp = T0


def new_image(pod: Pod) -> None:
    assert pod.spec.containers
    pod.spec.containers[0].image = "busybox:1.36"


def two_containers(pod: Pod) -> None:
    pod.spec.containers = [
        Container(name="app", image="busybox"),
        Container(name="side", image="busybox"),
    ]


def debugger(pod: Pod) -> None:
    """`kubectl debug web --image=busybox --target=app`'s ephemeral container."""
    debugger = {"name": "debugger", "image": "busybox", "targetContainerName": "app"}
    pod.spec.extra["ephemeralContainers"] = [debugger]


def debugger_then(fn: Callable[[Pod], None]) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        fn(pod)
        debugger(pod)

    return mutate


CASES = [
    pytest.param(nothing, nothing, NO_ACTION, id="steady state: nothing to do"),
    pytest.param(
        nothing,
        observe(sandbox=None),
        act(kill_pod=True, create_sandbox=True, containers_to_start=(start("app"),)),
        id="new pod: create sandbox, start app",
    ),
    pytest.param(
        nothing,
        then(observe(dead("app")), sandbox(running=False)),
        act(
            kill_pod=True,
            create_sandbox=True,
            sandbox_attempt=1,
            containers_to_start=(start("app", 1, 5),),
        ),
        id="sandbox stopped under Always: new sandbox attempt 1",
    ),
    pytest.param(
        nothing,
        sandbox(ip=""),
        act(
            kill_pod=True,
            create_sandbox=True,
            sandbox_attempt=1,
            containers_to_start=(start("app", 1),),
        ),
        id="sandbox without IP: new sandbox",
    ),
    pytest.param(
        policy("Never"),
        then(observe(dead("app")), sandbox(running=False)),
        act(kill_pod=True),
        id="sandbox lost under Never: no new sandbox, kill pod",
    ),
    pytest.param(
        policy("OnFailure"),
        then(observe(dead("app", code=0)), sandbox(running=False)),
        act(kill_pod=True),
        id="sandbox lost under OnFailure, all succeeded: kill pod",
    ),
    pytest.param(
        with_inits(),
        then(
            observe(dead("init1", code=0), dead("init2", code=0), info("app")),
            sandbox(running=False),
        ),
        act(
            kill_pod=True,
            create_sandbox=True,
            sandbox_attempt=1,
            containers_to_start=(start("init1", init=True),),
            containers_to_remove=("init1-0", "init2-0"),
        ),
        id="sandbox changed: init containers purged and rerun from the first",
    ),
    pytest.param(
        nothing,
        observe(dead("app")),
        act(containers_to_start=(start("app", 1, 5),)),
        id="first crash under Always restarts at once",
    ),
    pytest.param(
        nothing,
        observe(dead("app", 2), backoff={"app": 20.0}),
        act(backoff=(wait("app", 20, "20s"),)),
        id="crash loop: back-off 20s",
    ),
    pytest.param(
        nothing,
        observe(dead("app", 7), backoff={"app": 300.0}),
        act(backoff=(wait("app", 300, "5m0s"),)),
        id="crash loop: back-off capped, 5m0s",
    ),
    pytest.param(
        policy("OnFailure"),
        observe(dead("app", code=0)),
        act(kill_pod=True),
        id="OnFailure, exit 0: completed, kill pod",
    ),
    pytest.param(
        policy("OnFailure"),
        observe(dead("app", code=2)),
        act(containers_to_start=(start("app", 1, 5),)),
        id="OnFailure, exit 2: restart",
    ),
    pytest.param(
        policy("OnFailure"),
        observe(dead("app", 1, code=2), backoff={"app": 10.0}),
        act(backoff=(wait("app", 10, "10s"),)),
        id="OnFailure crash loop: back-off",
    ),
    pytest.param(
        policy("Never"),
        observe(dead("app", code=1)),
        act(kill_pod=True),
        id="Never, exit 1: no restart, kill pod",
    ),
    pytest.param(
        policy("Never"),
        observe(dead("app", code=0)),
        act(kill_pod=True),
        id="Never, exit 0: completed, kill pod",
    ),
    pytest.param(
        nothing,
        observe(dead("app", code=137, oom=True)),
        act(containers_to_start=(start("app", 1, 5),)),
        id="OOMKilled under Always: restart",
    ),
    pytest.param(
        nothing,
        observe(
            dead("app", 1, code=127, error="exec: no such file", finished=None),
            backoff={"app": 10.0},
        ),
        act(backoff=(wait("app", 10, "10s"),)),
        id="ContainerCannotRun: back-off from createdAt",
    ),
    pytest.param(
        policy("Never"),
        observe(info("app", 0, InstanceState.CREATED)),
        act(containers_to_start=(start("app", 1),)),
        id="created, never started: always restarted",
    ),
    pytest.param(
        nothing,
        observe(info("app", 0, InstanceState.UNKNOWN)),
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0",
                    "app",
                    'Container is in "unknown" state, try killing it before restart',
                    30,
                ),
            ),
        ),
        id="unknown state: kill then restart",
    ),
    pytest.param(
        liveness_probe(),
        observe(info("app"), liveness={"app": "liveness"}),
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0", "app", "Container app failed liveness probe, will be restarted", 30
                ),
            ),
        ),
        id="liveness failed: kill and restart",
    ),
    pytest.param(
        liveness_probe(grace=5),
        observe(info("app"), liveness={"app": "liveness"}),
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0", "app", "Container app failed liveness probe, will be restarted", 5
                ),
            ),
        ),
        id="liveness kill uses the probe's grace",
    ),
    pytest.param(
        two_containers,
        observe(info("app"), info("side"), liveness={"app": "startup"}),
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0", "app", "Container app failed startup probe, will be restarted", 30
                ),
            ),
        ),
        id="startup failed: kill and restart, other kept",
    ),
    pytest.param(
        policy("Never"),
        observe(info("app"), liveness={"app": "liveness"}),
        act(kill_pod=True),
        id="liveness failed under Never: nothing left, kill pod",
    ),
    pytest.param(
        new_image,
        nothing,
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0", "app", "Container app definition changed, will be restarted", 30
                ),
            ),
        ),
        id="image changed: kill and restart",
    ),
    pytest.param(
        with_inits(policy("Never"), new_image),
        observe(dead("init1", code=0), dead("init2", code=0), info("app")),
        act(
            containers_to_start=(start("app", 1),),
            containers_to_kill=(
                KillAction(
                    "app-0", "app", "Container app definition changed, will be restarted", 30
                ),
            ),
        ),
        id="image changed under Never: still restarted",
    ),
    pytest.param(
        nothing,
        observe(info("app", image="docker.io/library/busybox:latest")),
        NO_ACTION,
        id="same image, other spelling: kept",
    ),
    pytest.param(
        nothing, observe(info("app"), deleting=True), act(kill_pod=True), id="deleting: kill pod"
    ),
    pytest.param(deletion, nothing, act(kill_pod=True), id="deletionTimestamp: kill pod"),
    pytest.param(
        with_inits(),
        observe(),
        act(containers_to_start=(start("init1", init=True),)),
        id="init: first one starts first",
    ),
    pytest.param(with_inits(), observe(info("init1")), NO_ACTION, id="init: one running, wait"),
    pytest.param(
        with_inits(),
        observe(dead("init1", code=0)),
        act(containers_to_start=(start("init2", init=True),)),
        id="init: next in spec order after exit 0",
    ),
    pytest.param(
        with_inits(),
        observe(dead("init1", code=0), dead("init2", code=0)),
        act(containers_to_start=(start("app"),)),
        id="init: all done, app starts",
    ),
    pytest.param(
        with_inits(),
        observe(dead("init2", code=0)),
        act(containers_to_start=(start("app"),)),
        id="init: earlier records GC'd, last done counts",
    ),
    pytest.param(
        with_inits(), observe(info("app")), NO_ACTION, id="init: app running, inits never rerun"
    ),
    pytest.param(
        with_inits(),
        observe(dead("init1", code=0), dead("init2", code=1)),
        act(containers_to_start=(start("init2", 1, 55, init=True),)),
        id="init failed under Always: restart it",
    ),
    pytest.param(
        with_inits(),
        observe(dead("init1", code=0), dead("init2", 3, code=1), backoff={"init2": 40.0}),
        act(backoff=(wait("init2", 40, "40s", init=True),)),
        id="init crash loop: back-off",
    ),
    pytest.param(
        with_inits(policy("OnFailure")),
        observe(dead("init1", code=1)),
        act(containers_to_start=(start("init1", 1, 55, init=True),)),
        id="init failed under OnFailure: restart it",
    ),
    pytest.param(
        with_inits(policy("Never")),
        observe(dead("init1", code=1)),
        act(kill_pod=True, init_failed_never=True),
        id="init failed under Never: pod fails",
    ),
    pytest.param(
        with_inits(policy("Never")),
        observe(dead("init1", code=0, oom=True)),
        act(kill_pod=True, init_failed_never=True),
        id="init OOMKilled with exit 0 counts as failed",
    ),
    pytest.param(
        with_inits(),
        observe(info("init1", 0, InstanceState.UNKNOWN)),
        act(
            containers_to_start=(start("init1", 1, init=True),),
            containers_to_kill=(
                KillAction(
                    "init1-0",
                    "init1",
                    'Init container is in "unknown" state, try killing it before restart',
                    30,
                ),
            ),
        ),
        id="init unknown state: kill and restart",
    ),
    pytest.param(
        nothing,
        observe(dead("app", 0), dead("app", 1), info("app", 2)),
        act(containers_to_remove=("app-0",)),
        id="GC keeps the newest dead instance",
    ),
    pytest.param(
        two_containers,
        observe(info("app"), dead("side", 1), backoff={"side": 10.0}),
        act(backoff=(wait("side", 10, "10s"),)),
        id="one crash-looping, one running",
    ),
    pytest.param(
        debugger,
        nothing,
        act(containers_to_start=(start("debugger"),)),
        id="ephemeral: started once it is in the spec",
    ),
    pytest.param(
        debugger,
        observe(info("app"), dead("debugger", code=0)),
        NO_ACTION,
        id="ephemeral: exited, never restarted",
    ),  # fmt: skip
    pytest.param(
        debugger, observe(info("app"), info("debugger")), NO_ACTION, id="ephemeral: running"
    ),
    pytest.param(
        with_inits(debugger),
        observe(info("init1")),
        act(containers_to_start=(start("debugger"),)),
        id="ephemeral: before the init containers are done",
    ),
    pytest.param(
        debugger_then(two_containers),
        observe(dead("app", 0), info("side")),
        act(containers_to_start=(start("debugger"), start("app", 1, finished=5))),
        id="ephemeral: started first, before the regular ones",
    ),
    pytest.param(
        debugger_then(policy("Never")),
        observe(dead("app", 0, code=0), info("debugger")),
        act(kill_pod=True),
        id="ephemeral: does not keep a finished pod alive",
    ),
    pytest.param(
        debugger,
        then(observe(), sandbox(running=False)),
        act(
            kill_pod=True,
            create_sandbox=True,
            sandbox_attempt=1,
            containers_to_start=(start("app"),),
        ),
        id="ephemeral: not on a new sandbox's first sync",
    ),  # fmt: skip
]


def with_sidecar(*extra: Callable[[Pod], None], then_init: bool = False) -> Callable[[Pod], None]:
    """A sidecar `proxy` (an init container with restartPolicy Always), then optionally a
    regular init container `init2`."""

    def mutate(pod: Pod) -> None:
        pod.spec.initContainers = [Container(name="proxy", image="busybox", restartPolicy="Always")]
        if then_init:
            pod.spec.initContainers.append(Container(name="init2", image="busybox"))
        for fn in extra:
            fn(pod)

    return mutate


def proxy_probe(kind: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        assert pod.spec.initContainers
        setattr(pod.spec.initContainers[0], kind, Probe())

    return mutate


def proxy_image(pod: Pod) -> None:
    assert pod.spec.initContainers
    pod.spec.initContainers[0].image = "busybox:1.36"


def kill(name: str, message: str, attempt: int = 0, grace: int = 30) -> KillAction:
    return KillAction(f"{name}-{attempt}", name, message, grace)


SIDECAR_CASES = [
    pytest.param(
        with_sidecar(),
        observe(),
        act(containers_to_start=(start("proxy", init=True),)),
        id="sidecar: starts first",
    ),
    pytest.param(
        with_sidecar(),
        observe(info("proxy")),
        act(containers_to_start=(start("app"),)),
        id="sidecar: running and started, the app starts",
    ),
    pytest.param(
        with_sidecar(), observe(info("proxy"), info("app")), NO_ACTION, id="sidecar: steady state"
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe")),
        observe(info("proxy")),
        NO_ACTION,
        id="sidecar: the app waits for its startup probe",
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe")),
        observe(info("proxy"), started={"proxy"}),
        act(containers_to_start=(start("app"),)),
        id="sidecar: startup probe passed, the app starts",
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe")),
        observe(info("proxy"), liveness={"proxy": "startup"}),
        act(
            containers_to_start=(start("proxy", 1, init=True),),
            containers_to_kill=(kill("proxy", "Init container proxy failed startup probe"),),
        ),
        id="sidecar: startup probe failed, killed and restarted, no suffix",
    ),
    pytest.param(
        with_sidecar(proxy_probe("livenessProbe")),
        observe(info("proxy"), info("app"), liveness={"proxy": "liveness"}),
        act(
            containers_to_start=(start("proxy", 1, init=True),),
            containers_to_kill=(kill("proxy", "Init container proxy failed liveness probe"),),
        ),
        id="sidecar: liveness failed, killed and restarted, the app kept",
    ),
    pytest.param(
        with_sidecar(proxy_image),
        observe(info("proxy"), info("app")),
        act(
            containers_to_start=(start("proxy", 1, init=True),),
            containers_to_kill=(kill("proxy", "Init container proxy definition changed"),),
        ),
        id="sidecar: image changed, killed and restarted",
    ),
    pytest.param(
        with_sidecar(),
        observe(dead("proxy", code=1), info("app")),
        act(containers_to_start=(start("proxy", 1, 5, init=True),)),
        id="sidecar: exited, restarted beside the app",
    ),
    pytest.param(
        with_sidecar(policy("Never")),
        observe(dead("proxy", code=0), info("app")),
        act(containers_to_start=(start("proxy", 1, 5, init=True),)),
        id="sidecar: restarted even under Never",
    ),
    pytest.param(
        with_sidecar(),
        observe(dead("proxy", 2, code=1), info("app"), backoff={"proxy": 20.0}),
        act(backoff=(wait("proxy", 20, "20s", init=True),)),
        id="sidecar: crash loop back-off",
    ),
    pytest.param(
        with_sidecar(),
        observe(info("app")),
        act(containers_to_start=(start("proxy", init=True),)),
        id="sidecar: records gone after initialization, started again",
    ),
    pytest.param(
        with_sidecar(policy("Never")),
        observe(info("proxy"), dead("app", code=0)),
        act(kill_pod=True),
        id="sidecar: the app completed under Never, the pod is killed",
    ),
    pytest.param(
        with_sidecar(policy("OnFailure")),
        observe(info("proxy"), dead("app", code=0)),
        act(kill_pod=True),
        id="sidecar: the app completed under OnFailure, the pod is killed",
    ),
    pytest.param(
        with_sidecar(policy("OnFailure")),
        observe(dead("proxy", code=137), dead("app", code=0), deleting=True),
        act(kill_pod=True),
        id="sidecar: a terminal pod restarts nothing",
    ),
    pytest.param(
        with_sidecar(then_init=True),
        observe(info("proxy")),
        act(containers_to_start=(start("init2", init=True),)),
        id="sidecar then init: the init container starts once the sidecar runs",
    ),
    pytest.param(
        with_sidecar(proxy_probe("startupProbe"), then_init=True),
        observe(info("proxy")),
        NO_ACTION,
        id="sidecar then init: the init container waits for the startup probe",
    ),
    pytest.param(
        with_sidecar(then_init=True),
        observe(info("proxy"), info("init2")),
        NO_ACTION,
        id="sidecar then init: init running, wait",
    ),
    pytest.param(
        with_sidecar(then_init=True),
        observe(info("proxy"), dead("init2", code=0)),
        act(containers_to_start=(start("app"),)),
        id="sidecar then init: init done, the app starts",
    ),
    pytest.param(
        with_sidecar(then_init=True),
        observe(dead("proxy", code=1), info("init2")),
        act(containers_to_start=(start("proxy", 1, 5, init=True),)),
        id="sidecar then init: the sidecar restarts while init runs",
    ),
    pytest.param(
        with_sidecar(then_init=True),
        observe(info("proxy", 0, InstanceState.UNKNOWN), info("init2")),
        act(
            containers_to_start=(start("proxy", 1, init=True),),
            containers_to_kill=(
                kill(
                    "proxy", 'Init container is in "unknown" state, try killing it before restart'
                ),
            ),
        ),
        id="sidecar: unknown state, killed and restarted",
    ),
]
CASES += SIDECAR_CASES


@pytest.mark.parametrize(("mutate_pod", "mutate_observed", "expected"), CASES)
def test_decide(
    mutate_pod: Callable[[Pod], None],
    mutate_observed: Callable[[Observed], None],
    expected: PodActions,
) -> None:
    pod = base_pod()
    mutate_pod(pod)
    observed = Observed()
    mutate_observed(observed)
    delays = observed.backoff

    def backoff(name: str, finished_at: datetime | None) -> float | None:
        return delays.get(name)

    before = copy.deepcopy(pod)
    actions = decide(
        pod,
        observed.sandbox,
        observed.containers,
        now=1000.0,
        backoff=backoff,
        probes=ProbeView(failed=observed.liveness, started=frozenset(observed.started)),
        deleting=observed.deleting,
    )
    assert actions == expected
    assert pod == before  # decide never mutates its inputs


def test_str_is_one_line() -> None:
    actions = act(
        kill_pod=True,
        create_sandbox=True,
        sandbox_attempt=2,
        containers_to_start=(start("init1", init=True),),
        backoff=(wait("app", 20, "20s"),),
    )
    assert str(actions) == (
        "PodActions(kill_pod=True create_sandbox=True attempt=2 start=[init:init1#0] "
        "backoff=[app 20s])"
    )
    assert str(NO_ACTION) == "PodActions(kill_pod=False create_sandbox=False)"
