"""`cli/podfor.py`: the pod a TYPE/NAME stands for and the remote ports in it, as kubectl 1.32
finds them (AttachablePodForObject, ActivePods, pod_port.go/service_port.go, port-forward's
named-port conversion)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.kinds import CONFIG_MAP, POD, SERVICE
from minikubelet.cli import client as agent
from minikubelet.cli import podfor
from minikubelet.errors import ManifestError, NotFound
from minikubelet.store import Store

JSON = dict[str, Any]


class StepClock:
    """monotonic() reads the next of `readings`: a watch that began and ended at set times."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def monotonic(self) -> float:
        return self.readings.pop(0)

    def utcnow(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("not used")


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("1m0s", 60.0),
        ("1h2m3.5s", 3723.5),
        ("-5s", -5.0),
        ("+.5ms", 0.0005),
        ("0", 0.0),
        ("1", 'time: missing unit in duration "1"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("1é", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'),
        ("", 'time: invalid duration ""'),
        (".s", 'time: invalid duration ".s"'),
        ("1.5.s", 'time: missing unit in duration "1.5.s"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
    ],
)
def test_pod_running_timeouts(text: str, seconds: float | str) -> None:
    """Go's time.ParseDuration; what does not parse is pflag's flag error."""
    if isinstance(seconds, float):
        assert podfor.pod_running_timeout(text, "attach") == pytest.approx(seconds)
    else:
        with pytest.raises(ManifestError) as err:
            podfor.pod_running_timeout(text, "attach")
        assert str(err.value) == (
            f'error: invalid argument "{text}" for "--pod-running-timeout" flag: {seconds}\n'
            "See 'minikubelet attach --help' for usage."
        )


def make_pod(name: str, **status: Any) -> JSON:
    meta = {"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"}
    return {
        "metadata": meta,
        "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running", **status},
    }


def ready(since: str = "2026-01-01T00:01:00Z") -> list[JSON]:
    return [{"type": "Ready", "status": "True", "lastTransitionTime": since}]


def restarted(count: int) -> list[JSON]:
    return [{"name": "c", "restartCount": count}]


def unassigned(pod: JSON) -> JSON:
    pod["spec"].pop("nodeName")
    return pod


def deleting(pod: JSON, when: str = "2026-01-01T00:05:00Z") -> JSON:
    pod["metadata"]["deletionTimestamp"] = when
    return pod


def created(pod: JSON, when: str) -> JSON:
    pod["metadata"]["creationTimestamp"] = when
    return pod


@pytest.mark.parametrize(
    "target, found",
    [
        ("web", ("pods", "web")),
        ("svc/web", ("svc", "web")),
        ("service/web", ("service", "web")),
        ("a/b/c", "may not have more than one slash"),
        ("/web", "must have a single resource and name"),
        ("svc/", "must have a single resource and name"),
        ("svc,po/web", "must have a single resource and name"),
    ],
)
def test_split_target(target: str, found: tuple[str, str] | str) -> None:
    if isinstance(found, tuple):
        assert podfor.split_target(target) == found
    else:
        with pytest.raises(ManifestError, match=f"^arguments in resource/name form {found}$"):
            podfor.split_target(target)


# (better, worse): the first is the one kubectl picks (sort.Reverse(ActivePods)[0])
@pytest.mark.parametrize(
    "better, worse",
    [
        pytest.param(make_pod("a"), unassigned(make_pod("b")), id="assigned over unassigned"),
        pytest.param(make_pod("a"), make_pod("b", phase="Pending"), id="running over pending"),
        pytest.param(make_pod("a", phase="Unknown"), make_pod("b", phase="Pending"), id="unknown"),
        pytest.param(make_pod("a", conditions=ready()), make_pod("b"), id="ready over not"),
        pytest.param(make_pod("a"), deleting(make_pod("b")), id="not deleting over deleting"),
        pytest.param(
            deleting(make_pod("a"), "2026-01-01T00:06:00Z"),
            deleting(make_pod("b"), "2026-01-01T00:05:00Z"),
            id="deleted later over sooner",
        ),
        pytest.param(
            make_pod("a", conditions=ready("2026-01-01T00:01:00Z")),
            make_pod("b", conditions=ready("2026-01-01T00:02:00Z")),
            id="ready longer",
        ),
        pytest.param(
            make_pod("a", containerStatuses=restarted(1)),
            make_pod("b", containerStatuses=restarted(3)),
            id="fewer restarts",
        ),
        pytest.param(
            created(make_pod("a"), "2025-12-31T00:00:00Z"), make_pod("b"), id="older over newer"
        ),
        pytest.param(make_pod("a"), created(make_pod("b"), ""), id="a creation time over none"),
    ],
)
def test_the_most_active_pod_comes_first(better: JSON, worse: JSON) -> None:
    assert [p["metadata"]["name"] for p in podfor.active_first([worse, better])] == ["a", "b"]
    assert [p["metadata"]["name"] for p in podfor.active_first([better, worse])] == ["a", "b"]


def test_equal_pods_keep_the_listed_order() -> None:
    pods = [make_pod(name) for name in "cab"]
    assert [p["metadata"]["name"] for p in podfor.active_first(pods)] == ["c", "a", "b"]


def test_selectors() -> None:
    svc = {"metadata": {"name": "web"}, "spec": {"selector": {"tier": "fe", "app": "web"}}}
    assert podfor.selector_for(SERVICE, svc) == "app=web,tier=fe"
    with pytest.raises(ManifestError) as err:
        podfor.selector_for(SERVICE, {"metadata": {"name": "web"}, "spec": {}})
    assert str(err.value) == (
        "cannot attach to *v1.Service: invalid service 'web': Service is defined without a selector"
    )
    with pytest.raises(ManifestError) as err:
        podfor.selector_for(CONFIG_MAP, {"metadata": {"name": "x"}})
    assert str(err.value) == (
        "cannot attach to *v1.ConfigMap: selector for *v1.ConfigMap not implemented"
    )


PORTS = [
    {"name": "http", "containerPort": 8080},
    {"containerPort": 9090},
    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
]
POD_WITH_PORTS: JSON = {
    "metadata": {"name": "web"},
    "spec": {
        "containers": [{"name": "c", "ports": PORTS}],
        "initContainers": [{"name": "i", "ports": [{"name": "init", "containerPort": 7070}]}],
    },
}


@pytest.mark.parametrize(
    "specs, converted",
    [
        (["80", "8000:80", ":80"], ["80", "8000:80", ":80"]),
        (["http", "18110:http", ":http"], ["8080", "18110:8080", ":8080"]),
        (["init"], ["7070"]),
        (["+80", "1:2:3"], ["+80", "1"]),  # Atoi's sign kept; a third part is kubectl's quirk
        (["abc"], "Pod 'web' does not have a named port 'abc'"),
        (["8080:"], "remote port cannot be empty"),  # an unnamed port answers to '' first
        (["dns"], "UDP protocol is not supported for dns"),
        (["53"], "UDP protocol is not supported for 53"),
    ],
)
def test_pod_ports(specs: list[str], converted: list[str] | str) -> None:
    if isinstance(converted, list):
        assert podfor.remote_ports(POD, POD_WITH_PORTS, POD_WITH_PORTS, specs) == converted
    else:
        with pytest.raises(ManifestError) as err:
            podfor.remote_ports(POD, POD_WITH_PORTS, POD_WITH_PORTS, specs)
        assert str(err.value) == converted


def test_an_empty_remote_port_of_a_pod_without_unnamed_ports() -> None:
    """checkUDPPortInPod runs first and looks the empty name up: kubectl's message is then
    the named-port one."""
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}}
    with pytest.raises(ManifestError, match="^Pod 'web' does not have a named port ''$"):
        podfor.remote_ports(POD, pod, pod, ["8080:"])


SERVICE_PORTS = [
    {"name": "web", "port": 80, "targetPort": "http"},
    {"name": "metrics", "port": 81, "targetPort": 9090},
    {"port": 82},
    {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
]
SVC: JSON = {"metadata": {"name": "front"}, "spec": {"ports": SERVICE_PORTS}}


@pytest.mark.parametrize(
    "specs, translated",
    [
        (["80", "18085:80"], ["80:8080", "18085:8080"]),
        (["web", "18085:web", ":web"], ["80:8080", "18085:8080", ":8080"]),
        (["metrics", "82"], ["81:9090", "82"]),
        (["4294967376"], ["4294967376:8080"]),  # Go's int32() of the number: 80
        (["83"], "Service front does not have a service port 83"),
        (["nope"], "Service 'front' does not have a named port 'nope'"),
        (["dns"], "UDP protocol is not supported for dns"),
    ],
)
def test_service_ports(specs: list[str], translated: list[str] | str) -> None:
    if isinstance(translated, list):
        assert podfor.remote_ports(SERVICE, SVC, POD_WITH_PORTS, specs) == translated
    else:
        with pytest.raises(ManifestError) as err:
            podfor.remote_ports(SERVICE, SVC, POD_WITH_PORTS, specs)
        assert str(err.value) == translated


def test_a_headless_service_forwards_to_its_port_and_a_missing_name_is_the_pods() -> None:
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": SERVICE_PORTS}}
    assert podfor.remote_ports(SERVICE, headless, POD_WITH_PORTS, ["80"]) == ["80"]
    other = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}}
    with pytest.raises(ManifestError, match="^Pod 'web' does not have a named port 'http'$"):
        podfor.remote_ports(SERVICE, SVC, other, ["80"])


def store_pod(store: Store, name: str, labels: dict[str, str], **status: Any) -> None:
    pod = make_pod(name, **status)
    pod["metadata"] |= {"labels": labels, "uid": f"uid-{name}"}
    store.create("Pod", {"apiVersion": "v1", "kind": "Pod", **pod})


def store_service(store: Store, name: str, selector: dict[str, str]) -> None:
    spec = {"selector": selector, "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}
    meta = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    store.create("Service", {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec})


def test_a_service_stands_for_its_most_active_pod(store: Store) -> None:
    store_pod(store, "pending", {"app": "web"}, phase="Pending")
    store_pod(store, "running", {"app": "web"}, conditions=ready())
    store_pod(store, "other", {"app": "db"}, conditions=ready())
    store_service(store, "front", {"app": "web"})
    client = agent.connect()
    kind, svc = podfor.object_for(client, "svc/front", "default")
    assert kind is SERVICE and svc["metadata"]["name"] == "front"
    pod = podfor.attachable_pod(client, kind, svc, 60, StepClock())
    assert pod["metadata"]["name"] == "running"
    kind, obj = podfor.object_for(client, "running", "default")
    assert kind is POD and podfor.attachable_pod(client, kind, obj, 60, StepClock()) is obj


@pytest.mark.parametrize(
    "target, error",
    [
        ("svc/nosvc", NotFound('services "nosvc" not found')),
        ("nopod", NotFound('pods "nopod" not found')),
        ("deployment/x", ManifestError('the server doesn\'t have a resource type "deployment"')),
        ("sts/x", ManifestError('the server doesn\'t have a resource type "sts"')),
    ],
)
def test_what_kubectl_says_of_objects_it_cannot_find(target: str, error: Exception) -> None:
    with pytest.raises(type(error)) as err:
        podfor.object_for(agent.connect(), target, "default")
    assert str(err.value) == str(error)


class WatchingStub:
    """A client whose list is empty and whose watch yields `frames`."""

    def __init__(self, frames: list[JSON]) -> None:
        self.frames = frames
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, **query: Any) -> Any:
        self.asked.append((path, query))
        return {"metadata": {"resourceVersion": "7"}, "items": []}

    def stream_lines(self, path: str, **query: Any) -> Iterator[bytes]:
        self.asked.append((path, query))
        for frame in self.frames:
            yield (json.dumps(frame) + "\n").encode()


def first_pod(stub: WatchingStub, timeout: float, clock: StepClock) -> Callable[[], JSON]:
    return lambda: podfor.first_pod(stub, "default", "app=web", timeout, clock)  # type: ignore[arg-type]


def test_with_no_pod_yet_the_first_one_the_watch_sees_is_taken() -> None:
    pod = make_pod("late")
    stub = WatchingStub([{"type": "DELETED", "object": {}}, {"type": "ADDED", "object": pod}])
    assert first_pod(stub, 1.5, StepClock(0.0))() == pod
    assert stub.asked[1] == (
        "/api/v1/namespaces/default/pods",
        {"watch": "true", "labelSelector": "app=web", "resourceVersion": "7", "timeoutSeconds": 2},
    )


@pytest.mark.parametrize(
    "ended_at, error",
    [
        (60.0, "timed out waiting for the condition"),
        (12.0, "watch closed before UntilWithoutRetry timeout"),
    ],
)
def test_a_watch_that_ends_without_a_pod(ended_at: float, error: str) -> None:
    with pytest.raises(ManifestError, match=f"^{error}$"):
        first_pod(WatchingStub([]), 60, StepClock(0.0, ended_at))()
