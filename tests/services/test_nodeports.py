"""Where NodePorts listen (`--nodeport-addresses`): loopback by default; given CIDRs, the host's
addresses inside them (never an agent's cluster-IP device); `primary`, the node's InternalIP;
kube-proxy's refusals in its words; and the proxy follows the choice."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.clock import FakeClock
from minikubelet.errors import MinikubeletError
from minikubelet.services.nodeports import (
    NodePortAddresses,
    host_addresses,
    parse_address_dump,
)
from minikubelet.services.proxy import ServiceProxy
from minikubelet.services.tun import NoAddresses
from minikubelet.store import Store
from tests.services.test_proxy import endpoint, service, settle, slice_of

HOST = [
    ("lo", "127.0.0.1"),
    ("eth0", "192.168.1.5"),
    ("br-1", "10.89.3.1"),
    ("mklab12cd34", "10.96.0.10"),  # an agent's cluster IPs: never a node address
    ("wlan0", "192.168.7.9"),
]
NODE = {"status": {"addresses": [{"type": "InternalIP", "address": "10.89.3.1"},
                                 {"type": "Hostname", "address": "vm"}]}}  # fmt: skip


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        pytest.param("", ("127.0.0.1",), id="default: loopback only"),
        pytest.param("192.168.1.0/24", ("192.168.1.5",), id="a CIDR: only its addresses"),
        pytest.param(
            "127.0.0.0/8, 192.168.0.0/16",
            ("127.0.0.1", "192.168.1.5", "192.168.7.9"),
            id="loopback too when a CIDR holds it",
        ),
        pytest.param("10.0.0.0/8", ("10.89.3.1",), id="no cluster-IP device"),
        pytest.param(
            "0.0.0.0/0",
            ("10.89.3.1", "127.0.0.1", "192.168.1.5", "192.168.7.9"),
            id="every address",
        ),  # fmt: skip
        pytest.param("fd00::/8", (), id="IPv6: nothing (IPv4 only)"),
        pytest.param("primary", ("10.89.3.1",), id="primary: the node's InternalIP"),
    ],
)
def test_the_addresses_chosen(option: str, expected: tuple[str, ...]) -> None:
    assert NodePortAddresses.parse(option).select(HOST, NODE) == expected


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("10.0.0.0/33", 'invalid --nodeport-addresses "10.0.0.0/33": must be a valid CIDR'),
        ("eth0", 'invalid --nodeport-addresses "eth0": must be a valid CIDR'),
        ("primary,10.0.0.0/8",
         "invalid --nodeport-addresses \"primary,10.0.0.0/8\": can't use both 'primary' and CIDRs"),
    ],
)  # fmt: skip
def test_kube_proxys_refusals(option: str, message: str) -> None:
    with pytest.raises(MinikubeletError) as caught:
        NodePortAddresses.parse(option)
    assert str(caught.value) == message


def test_the_hosts_addresses_are_read() -> None:
    found = host_addresses()
    assert ("lo", "127.0.0.1") in found


def _message(kind: int, body: bytes) -> bytes:
    length = 16 + len(body)
    return struct.pack("=IHHII", length, kind, 2, 1, 0) + body + b"\0" * (-length % 4)


def _address(family: int, index: int, local: bytes, label: bytes = b"") -> bytes:
    def attribute(kind: int, value: bytes) -> bytes:
        return struct.pack("=HH", 4 + len(value), kind) + value + b"\0" * (-len(value) % 4)

    attributes = attribute(2, local) + (attribute(3, label + b"\0") if label else b"")
    return _message(20, struct.pack("=BBBBI", family, 24, 0, 0, index) + attributes)


def test_an_address_dump_is_read_as_ip_lists_it() -> None:
    """IPv4 only, each address under its device's name (by index, else its label's); the
    dump ends at NLMSG_DONE, and an NLMSG_ERROR reads as no answer."""
    names = {1: "lo", 4: "eth0"}
    first = (
        _address(socket.AF_INET, 1, socket.inet_aton("127.0.0.1"), b"lo")
        + _address(socket.AF_INET6, 1, socket.inet_pton(socket.AF_INET6, "::1"))
        + _address(socket.AF_INET, 9, socket.inet_aton("10.0.0.7"), b"br0:vip")
    )
    assert parse_address_dump(first, names) == (
        None,
        [("lo", "127.0.0.1"), ("br0", "10.0.0.7")],
    )
    last = _address(socket.AF_INET, 4, socket.inet_aton("192.0.2.2")) + _message(3, b"\0" * 4)
    assert parse_address_dump(last, names) == (True, [("eth0", "192.0.2.2")])
    assert parse_address_dump(_message(2, struct.pack("=i", -1) + b"\0" * 16), names) == (
        False,
        [],
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(tmp_path / "s.db", FakeClock()) as opened:
        yield opened


@pytest.mark.anyio
async def test_the_proxy_listens_where_it_was_told(store: Store) -> None:
    node = {"metadata": {"name": "vm", "uid": "n"}, "spec": {}, "status": {"addresses": []}}
    node = store.create("Node", node)
    ports = [{"name": "", "port": 80, "nodePort": 30123, "protocol": "TCP"}]
    store.create("Service", service(ip="127.0.0.77", type="NodePort", ports=ports))
    item = slice_of("web", 3000, endpoint("127.0.0.1"))
    item["ports"][0]["name"] = ""
    store.create("EndpointSlice", item)
    proxy = ServiceProxy(store, FakeClock(), NoAddresses(), NodePortAddresses.parse("primary"))
    async with anyio.create_task_group() as tg:
        await tg.start(proxy.run)
        await settle(proxy, ("127.0.0.77", 80), True)
        assert ("127.0.0.1", 30123) not in proxy.listening(), "primary: no loopback"
        status = {"addresses": [{"type": "InternalIP", "address": "127.0.0.88"}]}
        store.update_status("Node", "", "vm", status)
        await settle(proxy, ("127.0.0.88", 30123), True)
        status = {"addresses": [{"type": "InternalIP", "address": "127.0.0.89"}]}
        store.update_status("Node", "", "vm", status)
        await settle(proxy, ("127.0.0.89", 30123), True)
        assert ("127.0.0.88", 30123) not in proxy.listening(), "the old address is let go"
        tg.cancel_scope.cancel()
