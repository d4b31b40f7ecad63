"""The endpoints controller against a real store: what it writes, what it leaves alone, and that
a readiness change in the store reaches the Endpoints without anything else happening."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import parse_time
from minikubelet.api.raw import JSON
from minikubelet.api.service_strategy import SERVICE_STRATEGY
from minikubelet.clock import FakeClock
from minikubelet.services.controller import EndpointsController
from minikubelet.store import Store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.db", FakeClock()) as opened:
        yield opened


def make_service(store: Store, name: str = "web", **spec: Any) -> JSON:
    body = {
        "metadata": {"name": name},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 3000}], **spec},
    }
    bound = SERVICE_STRATEGY.bound(lambda: store.list("Service", None)[0])
    svc, _ = bound.create(body, "default", FakeClock().utcnow())
    return store.create("Service", svc)


def make_pod(store: Store, name: str, ip: str, ready: bool) -> JSON:
    return store.create(
        "Pod",
        {
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "labels": {"app": "web"},
            },
            "spec": {"nodeName": "vm", "containers": [{"name": "c"}]},
            "status": {
                "phase": "Running",
                "podIP": ip,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        },
    )


def set_ready(store: Store, pod: JSON, ready: bool) -> None:
    status = copy.deepcopy(store.get("Pod", "default", pod["metadata"]["name"])["status"])
    status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    store.update_status("Pod", "default", pod["metadata"]["name"], status)


def ready_ips(store: Store, name: str = "web") -> list[str]:
    endpoints = store.get("Endpoints", "default", name)
    return [a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]


def test_sync_writes_endpoints_and_slices_then_nothing(store: Store) -> None:
    make_service(store)
    make_pod(store, "a", "10.89.0.2", ready=True)
    make_pod(store, "b", "10.89.0.3", ready=False)
    changed: list[str] = []
    controller = EndpointsController(store, FakeClock(), changed.append)
    assert controller.sync("default") is True
    assert changed == ["default"]
    assert ready_ips(store) == ["10.89.0.2"]
    (item,) = store.list("EndpointSlice", "default")[0]
    assert item["metadata"]["name"].startswith("web-")
    assert [e["conditions"]["ready"] for e in item["endpoints"]] == [True, False]
    revision = store.revision
    assert controller.sync("default") is False, "nothing changed: nothing written"
    assert store.revision == revision


def test_a_deleted_service_takes_its_endpoints_along(store: Store) -> None:
    make_service(store)
    make_pod(store, "a", "10.89.0.2", ready=True)
    user = {"metadata": {"name": "manual", "namespace": "default", "uid": "u"}, "subsets": []}
    store.create("Endpoints", user)
    controller = EndpointsController(store, FakeClock())
    controller.sync("default")
    store.delete("Service", "default", "web")
    controller.sync("default")
    assert [e["metadata"]["name"] for e in store.list("Endpoints", "default")[0]] == ["manual"]
    assert store.list("EndpointSlice", "default")[0] == []


async def until_ready_ips(store: Store, want: list[str]) -> None:
    with anyio.fail_after(5):
        while True:
            await anyio.wait_all_tasks_blocked()
            if store.list("Endpoints", "default")[0] and ready_ips(store) == want:
                return
            await anyio.sleep(0.001)


@pytest.mark.anyio
async def test_a_readiness_change_reaches_the_endpoints(store: Store) -> None:
    make_service(store)
    pod = make_pod(store, "a", "10.89.0.2", ready=False)
    controller = EndpointsController(store, FakeClock())
    async with anyio.create_task_group() as tg:
        await tg.start(controller.run)
        await until_ready_ips(store, [])
        set_ready(store, pod, True)
        await until_ready_ips(store, ["10.89.0.2"])
        set_ready(store, pod, False)
        await until_ready_ips(store, [])
        tg.cancel_scope.cancel()


def test_allocation_reads_the_stored_services(store: Store) -> None:
    first = make_service(store, "a", clusterIP="10.96.0.40")
    assert first["spec"]["clusterIP"] == "10.96.0.40"
    with pytest.raises(Exception, match="provided IP is already allocated"):
        make_service(store, "b", clusterIP="10.96.0.40")


@pytest.mark.anyio
async def test_moves_in_and_out_of_the_endpoints_go_into_the_pods_history(store: Store) -> None:
    clock = FakeClock()
    make_service(store)
    pod = make_pod(store, "a", "10.89.0.2", ready=False)
    controller = EndpointsController(store, clock)
    controller.sync("default")
    await clock.advance(20)
    set_ready(store, pod, True)
    controller.sync("default")
    controller.sync("default")  # nothing moved: nothing written
    await clock.advance(30)
    set_ready(store, pod, False)
    controller.sync("default")
    store.delete("Service", "default", "web")
    controller.sync("default")
    assert controller.write_history() == 4
    items = store.probes.list("uid-a")
    assert [(i["kind"], i["service"], i["state"], i["address"]) for i in items] == [
        ("Endpoint", "web", "notReady", "10.89.0.2"),
        ("Endpoint", "web", "ready", "10.89.0.2"),
        ("Endpoint", "web", "notReady", "10.89.0.2"),
        ("Endpoint", "web", "removed", "10.89.0.2"),
    ]
    start = FakeClock().utcnow()
    times = [(parse_time(i["time"]) - start).total_seconds() for i in items]
    assert times == [0, 20, 50, 50]
    assert all(i["container"] == "" for i in items)


def test_a_pod_in_no_service_gets_no_endpoint_history(store: Store) -> None:
    make_service(store)
    other = make_pod(store, "b", "10.89.0.3", ready=True)
    relabelled = {**other, "metadata": {**other["metadata"], "labels": {"app": "other"}}}
    store.update("Pod", relabelled, expected_rv=other["metadata"]["resourceVersion"])
    controller = EndpointsController(store, FakeClock())
    controller.sync("default")
    assert controller.write_history() == 0
    assert store.probes.list("uid-b") == []
