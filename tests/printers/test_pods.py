"""`printPod` (kubelet-reference Part 3 §2, printers.go 1.32): STATUS, READY and RESTARTS of a
pod in every state the derivation covers, as a table of named cases over one base pod."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.raw import JSON
from minikubelet.printers.pods import pod_row

NOW = datetime(2026, 1, 1, tzinfo=UTC)
AGO_44S = "2025-12-31T23:59:16Z"
AGO_97S = "2025-12-31T23:58:23Z"
AGO_10M = "2025-12-31T23:50:00Z"

BASE: JSON = {
    "metadata": {
        "name": "web",
        "namespace": "default",
        "creationTimestamp": "2025-12-31T23:54:55Z",
    },
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    "status": {"phase": "Pending"},
}


def running(ready: bool = True, restarts: int = 0, name: str = "app", **extra: Any) -> JSON:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2025-12-31T23:55:00Z"}},
        **extra,
    }


def waiting(reason: str, restarts: int = 0, name: str = "app", **extra: Any) -> JSON:
    state: JSON = {"waiting": {"reason": reason}} if reason else {"waiting": {}}
    return {"name": name, "ready": False, "restartCount": restarts, "state": state, **extra}


def terminated(
    exit_code: int, reason: str = "", signal: int = 0, name: str = "app", restarts: int = 0
) -> JSON:
    term: JSON = {"exitCode": exit_code, "finishedAt": AGO_10M}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"terminated": term}}


def last_terminated(at: str) -> JSON:
    return {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": at}}


Mutate = Callable[[JSON], None]


def status(**fields: Any) -> Mutate:
    def mutate(pod: JSON) -> None:
        pod["status"].update(fields)

    return mutate


def spec(**fields: Any) -> Mutate:
    def mutate(pod: JSON) -> None:
        pod["spec"].update(fields)

    return mutate


def meta(**fields: Any) -> Mutate:
    def mutate(pod: JSON) -> None:
        pod["metadata"].update(fields)

    return mutate


def init_containers(count: int, sidecars: tuple[int, ...] = ()) -> Mutate:
    return spec(
        initContainers=[
            {"name": f"init{i}", "image": "busybox"}
            | ({"restartPolicy": "Always"} if i in sidecars else {})
            for i in range(count)
        ]
    )


def containers(*names: str) -> Mutate:
    return spec(containers=[{"name": n, "image": "nginx"} for n in names])


READY_TRUE = {"type": "Ready", "status": "True"}
READY_FALSE = {"type": "Ready", "status": "False"}
INITIALIZED = {"type": "Initialized", "status": "True"}
DELETING = meta(deletionTimestamp="2025-12-31T23:59:50Z")

CASES = [
    # (mutations, STATUS, READY, RESTARTS)
    pytest.param([], "Pending", "0/1", "0", id="Pending, no statuses"),
    pytest.param(
        [status(containerStatuses=[waiting("ContainerCreating")])],
        "ContainerCreating",
        "0/1",
        "0",
        id="ContainerCreating",
    ),
    pytest.param(
        [status(containerStatuses=[waiting("PodInitializing")])],
        "PodInitializing",
        "0/1",
        "0",
        id="PodInitializing from an app container waiting",
    ),
    pytest.param(
        [init_containers(2), status(initContainerStatuses=[waiting("PodInitializing")])],
        "Init:0/2",
        "0/1",
        "0",
        id="Init:0/2, first init waiting PodInitializing",
    ),
    pytest.param(
        [
            init_containers(2),
            status(
                initContainerStatuses=[
                    running(name="init0"),
                    waiting("PodInitializing", name="init1"),
                ]
            ),
        ],
        "Init:0/2",
        "0/1",
        "0",
        id="Init:0/2, first init running",
    ),
    pytest.param(
        [
            init_containers(2),
            status(
                initContainerStatuses=[
                    terminated(0, "Completed", name="init0"),
                    running(name="init1"),
                ]
            ),
        ],
        "Init:1/2",
        "0/1",
        "0",
        id="Init:1/2, first init done",
    ),
    pytest.param(
        [init_containers(2), status(initContainerStatuses=[waiting("", name="init0")])],
        "Init:0/2",
        "0/1",
        "0",
        id="Init:0/2, waiting with an empty reason",
    ),
    pytest.param(
        [init_containers(1), status(initContainerStatuses=[terminated(1, "Error", name="init0")])],
        "Init:Error",
        "0/1",
        "0",
        id="Init:Error",
    ),
    pytest.param(
        [
            init_containers(1),
            status(
                initContainerStatuses=[
                    waiting(
                        "CrashLoopBackOff",
                        restarts=4,
                        name="init0",
                        lastState=last_terminated(AGO_44S),
                    )
                ]
            ),
        ],
        "Init:CrashLoopBackOff",
        "0/1",
        "4 (44s ago)",
        id="Init:CrashLoopBackOff counts init restarts while initializing",
    ),
    pytest.param(
        [init_containers(1), status(initContainerStatuses=[terminated(3, name="init0")])],
        "Init:ExitCode:3",
        "0/1",
        "0",
        id="Init:ExitCode:N without a reason",
    ),
    pytest.param(
        [
            init_containers(1),
            status(initContainerStatuses=[terminated(137, signal=9, name="init0")]),
        ],
        "Init:Signal:9",
        "0/1",
        "0",
        id="Init:Signal:N beats the exit code",
    ),
    pytest.param(
        [init_containers(1), status(initContainerStatuses=[waiting("ErrImagePull", name="init0")])],
        "Init:ErrImagePull",
        "0/1",
        "0",
        id="Init:ErrImagePull",
    ),
    pytest.param(
        [
            init_containers(1),
            status(
                phase="Running",
                conditions=[INITIALIZED, READY_TRUE],
                initContainerStatuses=[
                    terminated(0, "Completed", name="init0", restarts=2),
                ],
                containerStatuses=[running()],
            ),
        ],
        "Running",
        "1/1",
        "0",
        id="after init: plain init restarts are dropped",
    ),
    pytest.param(
        [status(phase="Running", conditions=[READY_TRUE], containerStatuses=[running()])],
        "Running",
        "1/1",
        "0",
        id="Running ready",
    ),
    pytest.param(
        [status(phase="Running", containerStatuses=[running(ready=False)])],
        "Running",
        "0/1",
        "0",
        id="Running not ready 0/1",
    ),
    pytest.param(
        [
            containers("a", "b"),
            status(
                phase="Running",
                containerStatuses=[running(name="a"), running(ready=False, name="b")],
            ),
        ],
        "Running",
        "1/2",
        "0",
        id="multi-container 1/2",
    ),
    pytest.param(
        [
            status(
                phase="Running",
                containerStatuses=[running(restarts=3, lastState=last_terminated(AGO_44S))],
            )
        ],
        "Running",
        "1/1",
        "3 (44s ago)",
        id="Running with restarts 3 (44s ago)",
    ),
    pytest.param(
        [
            status(
                phase="Running",
                containerStatuses=[
                    waiting("CrashLoopBackOff", restarts=12, lastState=last_terminated(AGO_97S))
                ],
            )
        ],
        "CrashLoopBackOff",
        "0/1",
        "12 (97s ago)",
        id="CrashLoopBackOff 12 (97s ago)",
    ),
    pytest.param(
        [status(containerStatuses=[waiting("CrashLoopBackOff", restarts=2)])],
        "CrashLoopBackOff",
        "0/1",
        "2",
        id="restarts without a last termination time: count only",
    ),
    pytest.param(
        [status(containerStatuses=[waiting("ErrImagePull")])],
        "ErrImagePull",
        "0/1",
        "0",
        id="ErrImagePull",
    ),
    pytest.param(
        [status(containerStatuses=[waiting("ImagePullBackOff")])],
        "ImagePullBackOff",
        "0/1",
        "0",
        id="ImagePullBackOff",
    ),
    pytest.param(
        [status(phase="Succeeded", containerStatuses=[terminated(0, "Completed")])],
        "Completed",
        "0/1",
        "0",
        id="Completed",
    ),
    pytest.param(
        [status(phase="Failed", containerStatuses=[terminated(1, "Error")])],
        "Error",
        "0/1",
        "0",
        id="Error",
    ),
    pytest.param(
        [status(phase="Running", containerStatuses=[terminated(137, "OOMKilled")])],
        "OOMKilled",
        "0/1",
        "0",
        id="OOMKilled",
    ),
    pytest.param(
        [status(phase="Failed", containerStatuses=[terminated(128, "ContainerCannotRun")])],
        "ContainerCannotRun",
        "0/1",
        "0",
        id="ContainerCannotRun",
    ),
    pytest.param(
        [status(phase="Failed", containerStatuses=[terminated(2)])],
        "ExitCode:2",
        "0/1",
        "0",
        id="ExitCode:N without a reason",
    ),
    pytest.param(
        [status(phase="Failed", containerStatuses=[terminated(143, signal=15)])],
        "Signal:15",
        "0/1",
        "0",
        id="Signal:N without a reason",
    ),
    pytest.param(
        [
            containers("a", "b"),
            status(
                phase="Running",
                conditions=[READY_FALSE],
                containerStatuses=[terminated(0, "Completed", name="a"), running(name="b")],
            ),
        ],
        "NotReady",
        "1/2",
        "0",
        id="NotReady: Completed plus a running container, pod not Ready",
    ),
    pytest.param(
        [
            containers("a", "b"),
            status(
                phase="Running",
                conditions=[READY_FALSE, READY_TRUE],
                containerStatuses=[terminated(0, "Completed", name="a"), running(name="b")],
            ),
        ],
        "Running",
        "1/2",
        "0",
        id="Running: Completed plus running, any Ready=True condition",
    ),
    pytest.param(
        [
            containers("a", "b"),
            status(
                phase="Failed",
                containerStatuses=[
                    terminated(0, "Completed", name="a"),
                    terminated(1, "Error", name="b"),
                ],
            ),
        ],
        "Completed",
        "0/2",
        "0",
        id="first container in spec order wins (no error-beats-Completed before 1.35)",
    ),
    pytest.param(
        [
            containers("a", "b"),
            status(
                phase="Running",
                containerStatuses=[
                    waiting("ErrImagePull", name="a"),
                    waiting("CrashLoopBackOff", name="b", restarts=1),
                ],
            ),
        ],
        "ErrImagePull",
        "0/2",
        "1",
        id="reverse walk: first container's reason wins, restarts summed",
    ),
    pytest.param(
        [
            DELETING,
            status(phase="Running", conditions=[READY_TRUE], containerStatuses=[running()]),
        ],
        "Terminating",
        "1/1",
        "0",
        id="Terminating",
    ),
    pytest.param(
        [DELETING, status(phase="Succeeded", containerStatuses=[terminated(0, "Completed")])],
        "Completed",
        "0/1",
        "0",
        id="terminal pod being deleted keeps Completed (1.31+)",
    ),
    pytest.param(
        [DELETING, status(phase="Failed", containerStatuses=[terminated(1, "Error")])],
        "Error",
        "0/1",
        "0",
        id="terminal pod being deleted keeps Error (1.31+)",
    ),
    pytest.param(
        [status(phase="Failed", reason="Evicted", message="The node was low on resource")],
        "Evicted",
        "0/1",
        "0",
        id="status.reason Evicted",
    ),
    pytest.param(
        [
            DELETING,
            status(phase="Running", reason="NodeLost", containerStatuses=[running()]),
        ],
        "Unknown",
        "1/1",
        "0",
        id="NodeLost and deletion: Unknown",
    ),
    pytest.param(
        [status(phase="Running", reason="NodeLost", containerStatuses=[running()])],
        "NodeLost",
        "1/1",
        "0",
        id="NodeLost without deletion keeps the reason",
    ),
    pytest.param(
        [
            status(
                conditions=[
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ]
            )
        ],
        "SchedulingGated",
        "0/1",
        "0",
        id="SchedulingGated",
    ),
    pytest.param(
        [
            init_containers(2, sidecars=(0,)),
            status(
                phase="Running",
                conditions=[INITIALIZED, READY_TRUE],
                initContainerStatuses=[
                    running(
                        name="init0", started=True, restarts=2, lastState=last_terminated(AGO_97S)
                    ),
                    terminated(0, "Completed", name="init1", restarts=5),
                ],
                containerStatuses=[running(restarts=1, lastState=last_terminated(AGO_10M))],
            ),
        ],
        "Running",
        "2/2",
        "3 (97s ago)",
        id="sidecar counts in READY and RESTARTS, plain init restarts do not",
    ),
    pytest.param(
        [
            init_containers(2, sidecars=(0,)),
            status(
                initContainerStatuses=[
                    running(name="init0", ready=False, started=True),
                    running(name="init1"),
                ]
            ),
        ],
        "Init:1/2",
        "0/2",
        "0",
        id="started sidecar not ready: initialization moves on",
    ),
    pytest.param(
        [
            init_containers(1, sidecars=(0,)),
            status(initContainerStatuses=[running(name="init0", started=False)]),
        ],
        "Init:0/1",
        "0/2",
        "0",
        id="sidecar not started yet blocks as Init:0/1",
    ),
]


@pytest.mark.parametrize(("mutations", "reason", "ready", "restarts"), CASES)
def test_print_pod_status_ready_restarts(
    mutations: list[Mutate], reason: str, ready: str, restarts: str
) -> None:
    pod = copy.deepcopy(BASE)
    for mutate in mutations:
        mutate(pod)
    name, ready_cell, status_cell, restarts_cell, age, *_ = pod_row(pod, NOW)
    assert (status_cell, ready_cell, restarts_cell) == (reason, ready, restarts)
    assert (name, age) == ("web", "5m5s")


@pytest.mark.parametrize(
    ("mutations", "wide"),
    [
        pytest.param([], ["<none>", "<none>", "<none>", "<none>"], id="nothing set"),
        pytest.param(
            [
                spec(nodeName="node1"),
                status(
                    podIP="10.0.0.9",
                    podIPs=[{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
                    nominatedNodeName="node2",
                ),
            ],
            ["10.244.0.5", "node1", "node2", "<none>"],
            id="first podIPs entry, podIP unread",
        ),
        pytest.param(
            [status(podIP="10.0.0.9")], ["<none>", "<none>", "<none>", "<none>"], id="podIP alone"
        ),
        pytest.param(
            [status(podIPs=[{"ip": ""}])],
            ["<none>", "<none>", "<none>", "<none>"],
            id="empty first podIP",
        ),
        pytest.param(
            [
                spec(readinessGates=[{"conditionType": "a/x"}, {"conditionType": "b/y"}]),
                status(
                    conditions=[
                        {"type": "a/x", "status": "True"},
                        {"type": "b/y", "status": "False"},
                        {"type": "b/y", "status": "True"},
                    ]
                ),
            ],
            ["<none>", "<none>", "<none>", "1/2"],
            id="readiness gates 1/2: only the first condition of a type counts",
        ),
        pytest.param(
            [spec(readinessGates=[{"conditionType": "a/x"}])],
            ["<none>", "<none>", "<none>", "0/1"],
            id="readiness gate without its condition",
        ),
    ],
)
def test_wide_cells(mutations: list[Mutate], wide: list[str]) -> None:
    pod = copy.deepcopy(BASE)
    for mutate in mutations:
        mutate(pod)
    assert pod_row(pod, NOW)[5:] == wide


def test_age_without_a_creation_timestamp_is_unknown() -> None:
    pod = copy.deepcopy(BASE)
    del pod["metadata"]["creationTimestamp"]
    assert pod_row(pod, NOW)[4] == "<unknown>"
