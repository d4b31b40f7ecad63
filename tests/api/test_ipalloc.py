"""The ClusterIP and NodePort allocators: bands, scans, refusals (ipallocator, portallocator)."""

from __future__ import annotations

import random

import pytest

from minikubelet.api.ipalloc import AllocationError, IPRange, PortRange, RangeFull


@pytest.mark.parametrize(
    ("cidr", "size", "first", "last"),
    [
        pytest.param("10.96.0.0/12", 1048574, "10.96.0.1", "10.111.255.254", id="kubeadm /12"),
        pytest.param("10.0.0.0/24", 254, "10.0.0.1", "10.0.0.254", id="apiserver default /24"),
        pytest.param("10.0.0.0/30", 2, "10.0.0.1", "10.0.0.2", id="/30"),
    ],
)
def test_ip_range_never_hands_out_network_or_broadcast(
    cidr: str, size: int, first: str, last: str
) -> None:
    r = IPRange(cidr)
    assert r.size == size
    assert r.address(0) == first
    assert r.address(size - 1) == last
    assert r.offset(r.address(size - 1)) == size - 1
    assert r.offset(str(r.network.network_address)) is None
    assert r.offset(str(r.network.broadcast_address)) is None


def test_dynamic_ips_come_from_the_upper_band_until_it_is_full() -> None:
    r = IPRange("10.96.0.0/24")  # 254 addresses, static band of 16
    rng = random.Random(7)
    used: set[str] = set()
    for _ in range(254 - 16):
        ip = r.allocate(used, rng)
        assert r.offset(ip) is not None and r.offset(ip) >= 16  # type: ignore[operator]
        used.add(ip)
    low = r.allocate(used, rng)
    assert r.offset(low) is not None and r.offset(low) < 16  # type: ignore[operator]
    used.update(r.address(i) for i in range(16))
    with pytest.raises(RangeFull, match="range is full"):
        r.allocate(used, rng)


@pytest.mark.parametrize(
    ("ip", "used", "message"),
    [
        pytest.param(
            "10.1.2.3",
            set(),
            "the provided IP (10.1.2.3) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/12",
            id="outside",
        ),
        pytest.param("10.96.0.10", {"10.96.0.10"}, "provided IP is already allocated", id="taken"),
    ],
)
def test_explicit_ip_refusals(ip: str, used: set[str], message: str) -> None:
    with pytest.raises(AllocationError) as caught:
        IPRange().check(ip, used)
    assert str(caught.value) == message


def test_node_ports_band_and_refusals() -> None:
    ports = PortRange()
    assert str(ports) == "30000-32767"
    rng = random.Random(3)
    picks = {ports.allocate(set(), rng) for _ in range(200)}
    assert min(picks) >= 30086  # the static band 30000-30085 is left for explicit requests
    with pytest.raises(AllocationError) as caught:
        ports.check(32768, set())
    assert str(caught.value) == (
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )
    with pytest.raises(AllocationError, match="provided port is already allocated"):
        ports.check(30080, {30080})
    small = PortRange(30000, 3)
    taken = {30000, 30001}
    assert small.allocate(taken, rng) == 30002
    with pytest.raises(RangeFull):
        small.allocate(taken | {30002}, rng)
