"""The service proxy: which listeners exist (a table), and real connections on loopback through
a proxy fed by a real store (refused without endpoints, spread over ready ones, ClientIP kept)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.api.raw import JSON
from minikubelet.clock import FakeClock
from minikubelet.services.proxy import ServiceProxy
from minikubelet.services.proxy_rules import Backend, desired_listeners, usable_endpoints
from minikubelet.services.tun import NoAddresses
from minikubelet.store import Store


def service(name: str = "web", ip: str = "10.96.0.20", **spec: Any) -> JSON:
    body = {
        "type": "ClusterIP",
        "clusterIP": ip,
        "clusterIPs": [ip],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 3000}],
        **spec,
    }
    return {"metadata": {"name": name, "namespace": "default", "uid": f"u-{name}"}, "spec": body}


def endpoint(ip: str, ready: bool = True, serving: bool = True, terminating: bool = False) -> JSON:
    conditions = {"ready": ready, "serving": serving, "terminating": terminating}
    return {"addresses": [ip], "conditions": conditions}


def slice_of(owner: str, port: int, *endpoints: JSON, name: str = "web-abcde") -> JSON:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"u-{name}",
            "labels": {"kubernetes.io/service-name": owner},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": list(endpoints),
    }


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        pytest.param([endpoint("10.0.0.2")], (("10.0.0.2", 3000),), id="ready"),
        pytest.param([endpoint("10.0.0.2", ready=False, serving=False)], (), id="not ready"),
        pytest.param(
            [endpoint("10.0.0.2", ready=False, terminating=True), endpoint("10.0.0.3")],
            (("10.0.0.3", 3000),),
            id="ready ones first",
        ),
        pytest.param(
            [endpoint("10.0.0.2", ready=False, terminating=True)],
            (("10.0.0.2", 3000),),
            id="serving and terminating when none is ready",
        ),
    ],
)
def test_usable_endpoints(endpoints: list[JSON], expected: tuple[Any, ...]) -> None:
    assert usable_endpoints([slice_of("web", 3000, *endpoints)], "http") == expected


def test_desired_listeners() -> None:
    services = [
        service(),
        service(
            "np",
            "10.96.0.30",
            type="NodePort",
            ports=[
                {"port": 80, "protocol": "TCP", "nodePort": 30080, "targetPort": 80},
                {"port": 53, "protocol": "UDP", "nodePort": 30053, "targetPort": 53},
            ],
        ),  # fmt: skip
        service("headless", "None"),
        service("empty", "10.96.0.40"),
    ]
    np_slice = slice_of("np", 80, endpoint("10.0.0.9"), name="np-x")
    np_slice["ports"][0]["name"] = ""
    wanted = desired_listeners(services, [slice_of("web", 3000, endpoint("10.0.0.2")), np_slice])
    assert wanted == {
        ("10.96.0.20", 80): Backend("default/web:http", (("10.0.0.2", 3000),)),
        ("10.96.0.30", 80): Backend("default/np", (("10.0.0.9", 80),)),
        ("127.0.0.1", 30080): Backend("default/np", (("10.0.0.9", 80),)),
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.db", FakeClock()) as opened:
        yield opened


async def echo_server(tag: bytes) -> tuple[Any, int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    return listener, listener.extra(anyio.abc.SocketAttribute.local_port)


async def ask(host: str, port: int) -> bytes | None:
    try:
        async with await anyio.connect_tcp(host, port) as stream:
            await stream.send(b"hi")
            return bytes(await stream.receive())
    except OSError:
        return None


async def settle(proxy: ServiceProxy, address: tuple[str, int], present: bool) -> None:
    """Until the proxy lists the listener (or not) and its socket, bound or closed in its own
    task, says the same to a connection attempt."""
    with anyio.fail_after(5):
        while (address in proxy.listening()) != present:
            await anyio.wait_all_tasks_blocked()
            await anyio.sleep(0.01)
        while await _accepts(*address) != present:
            await anyio.sleep(0.01)


async def _accepts(host: str, port: int) -> bool:
    try:
        stream = await anyio.connect_tcp(host, port)
    except OSError:
        return False
    await stream.aclose()
    return True


@pytest.mark.anyio
async def test_refused_spread_and_refused_again(store: Store) -> None:
    a, port_a = await echo_server(b"a:")
    b, port_b = await echo_server(b"b:")
    ip = "127.0.0.77"  # a loopback address stands in for a cluster IP
    store.create("Service", service(ip=ip, ports=[{"name": "", "port": 18080, "protocol": "TCP"}]))
    proxy = ServiceProxy(store, FakeClock(), NoAddresses())
    async with a, b, anyio.create_task_group() as tg:
        tg.start_soon(a.serve, _echo(b"a:"))
        tg.start_soon(b.serve, _echo(b"b:"))
        await tg.start(proxy.run)
        assert await ask(ip, 18080) is None, "no endpoints: refused"
        item = slice_of("web", port_a, endpoint("127.0.0.1"))
        item["ports"][0]["name"] = ""
        item = store.create("EndpointSlice", item)
        await settle(proxy, (ip, 18080), True)
        assert await ask(ip, 18080) == b"a:hi"
        other = slice_of("web", port_b, endpoint("127.0.0.1"), name="web-other")
        other["ports"][0]["name"] = ""
        store.create("EndpointSlice", other)
        with anyio.fail_after(5):
            while len(proxy.listening()[(ip, 18080)].endpoints) < 2:
                await anyio.sleep(0.01)
        answers = [await ask(ip, 18080) for _ in range(4)]
        assert sorted(a or b"" for a in answers) == [b"a:hi", b"a:hi", b"b:hi", b"b:hi"]
        for name in ("web-abcde", "web-other"):
            store.delete("EndpointSlice", "default", name)
        await settle(proxy, (ip, 18080), False)
        assert await ask(ip, 18080) is None, "refused again"
        tg.cancel_scope.cancel()


def _echo(tag: bytes) -> Any:
    async def handle(stream: Any) -> None:
        async with stream:
            try:
                data = await stream.receive()
            except anyio.EndOfStream:
                return  # `settle`'s connection attempt: closed without a word
            await stream.send(tag + data)

    return handle
