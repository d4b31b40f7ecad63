"""Cluster DNS records (the Kubernetes DNS specification 1.1.0) and the server's answer path:
authoritative for cluster.local, forwarding for the rest, SERVFAIL when no upstream answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dnslib import QTYPE, DNSRecord

from minikubelet.api.raw import JSON
from minikubelet.clock import FakeClock
from minikubelet.services.dns import build_zone, lookup
from minikubelet.services.dns_server import DnsServer, host_nameservers
from minikubelet.store import Store


def service(name: str, ip: str = "10.96.0.20", **spec: Any) -> JSON:
    body = {
        "type": "ClusterIP",
        "clusterIP": ip,
        "clusterIPs": [ip],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "TCP"}],
        **spec,
    }
    return {"metadata": {"name": name, "namespace": "shop", "uid": f"u-{name}"}, "spec": body}


def endpoint(ip: str, ready: bool = True, hostname: str | None = None) -> JSON:
    found: JSON = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        found["hostname"] = hostname
    return found


HEADLESS_SLICE: JSON = {
    "metadata": {
        "name": "db-x",
        "namespace": "shop",
        "uid": "u-db-x",
        "labels": {"kubernetes.io/service-name": "db"},
    },
    "addressType": "IPv4",
    "ports": [{"name": "http", "port": 5432, "protocol": "TCP"}],
    "endpoints": [endpoint("10.89.0.5", hostname="db-0"), endpoint("10.89.0.6"),
                  endpoint("10.89.0.7", ready=False)],
}  # fmt: skip
SERVICES = [
    service("web"),
    service("db", "None"),
    service("empty", "None"),
    service("ext", "", type="ExternalName", externalName="example.com", clusterIPs=[]),
]


def ask(name: str, qtype: str) -> tuple[int, list[str]] | None:
    zone = build_zone(SERVICES, [HEADLESS_SLICE])
    reply = lookup(zone, DNSRecord.question(name, qtype))
    if reply is None:
        return None
    return reply.header.rcode, sorted(f"{QTYPE[rr.rtype]} {rr.rdata}" for rr in reply.rr)


@pytest.mark.parametrize(
    ("name", "qtype", "expected"),
    [
        pytest.param("web.shop.svc.cluster.local", "A", (0, ["A 10.96.0.20"]), id="ClusterIP A"),
        pytest.param("WEB.Shop.svc.cluster.local", "A", (0, ["A 10.96.0.20"]), id="any case"),
        pytest.param(
            "_http._tcp.web.shop.svc.cluster.local",
            "SRV",
            (0, ["SRV 0 100 80 web.shop.svc.cluster.local."]),
            id="SRV for a named port",
        ),
        pytest.param("_81._tcp.web.shop.svc.cluster.local", "SRV", (3, []), id="unnamed: none"),
        pytest.param(
            "db.shop.svc.cluster.local",
            "A",
            (0, ["A 10.89.0.5", "A 10.89.0.6"]),
            id="headless: the ready pods",
        ),
        pytest.param(
            "db-0.db.shop.svc.cluster.local", "A", (0, ["A 10.89.0.5"]), id="endpoint hostname"
        ),
        pytest.param(
            "10-89-0-6.db.shop.svc.cluster.local", "A", (0, ["A 10.89.0.6"]), id="dashed IP"
        ),
        pytest.param(
            "_http._tcp.db.shop.svc.cluster.local",
            "SRV",
            (
                0,
                [
                    "SRV 0 100 5432 10-89-0-6.db.shop.svc.cluster.local.",
                    "SRV 0 100 5432 db-0.db.shop.svc.cluster.local.",
                ],
            ),
            id="headless SRV per endpoint",
        ),  # fmt: skip
        pytest.param("empty.shop.svc.cluster.local", "A", (3, []), id="no ready pod: NXDOMAIN"),
        pytest.param(
            "ext.shop.svc.cluster.local", "A", (0, ["CNAME example.com."]), id="ExternalName"
        ),
        pytest.param("nope.shop.svc.cluster.local", "A", (3, []), id="unknown: NXDOMAIN"),
        pytest.param(
            "20.0.96.10.in-addr.arpa", "PTR", (0, ["PTR web.shop.svc.cluster.local."]), id="PTR"
        ),
        pytest.param("dns-version.cluster.local", "TXT", (0, ['TXT "1.1.0"']), id="version"),
        pytest.param("example.com", "A", None, id="other names are forwarded"),
    ],
)
def test_records(name: str, qtype: str, expected: tuple[int, list[str]] | None) -> None:
    assert ask(name, qtype) == expected


def test_host_nameservers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# x\nnameserver 10.0.0.2\nsearch a b\nnameserver 10.0.0.3 # y\noptions x\n")
    assert host_nameservers(conf) == ["10.0.0.2", "10.0.0.3"]
    assert host_nameservers(tmp_path / "missing") == []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.db", FakeClock()) as opened:
        yield opened


@pytest.mark.anyio
async def test_answers_from_the_store_and_servfail_without_upstream(store: Store) -> None:
    store.create("Service", service("web"))
    server = DnsServer(store, "127.0.0.1", 0, upstreams=lambda: [])
    question = DNSRecord.question("web.shop.svc.cluster.local").pack()
    ours = DNSRecord.parse(await server.answer(question) or b"")
    assert [str(rr.rdata) for rr in ours.rr] == ["10.96.0.20"]
    failed = DNSRecord.parse(await server.answer(DNSRecord.question("x.org").pack()) or b"")
    assert failed.header.rcode == 2  # SERVFAIL: nobody to forward to
    assert await server.answer(b"junk") is None


def test_kube_dns_service_is_made_once(store: Store) -> None:
    from minikubelet.services.dns_server import ensure_dns_service

    first = ensure_dns_service(store, FakeClock().utcnow(), preferred="10.96.0.10")
    assert first.startswith("10.")
    assert ensure_dns_service(store, FakeClock().utcnow()) == first
    svc = store.get("Service", "kube-system", "kube-dns")
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
    ]
    assert "selector" not in svc["spec"]


@pytest.mark.anyio
async def test_many_queries_at_once_are_all_answered(store: Store) -> None:
    """A resolver sends A and AAAA together: the replies queue for the one UDP socket (anyio
    refuses a second sender while one waits), and the server keeps serving."""
    import anyio

    store.create("Service", service("web"))
    server = DnsServer(store, "127.0.0.1", 0, upstreams=lambda: [])
    queries = [DNSRecord.question("web.shop.svc.cluster.local") for _ in range(40)]
    everyone = anyio.Event()
    answer = server.answer

    async def together(data: bytes, tcp: bool = False) -> bytes | None:
        """As forwarded queries do, the answers come back at one moment."""
        reply = await answer(data, tcp)
        if server.queries == len(queries):
            everyone.set()
        await everyone.wait()
        return reply

    server.answer = together  # type: ignore[method-assign]
    async with anyio.create_task_group() as tg:
        await tg.start(server.run)
        async with await anyio.create_connected_udp_socket("127.0.0.1", server.port) as client:
            for query in queries:
                await client.send(query.pack())
            with anyio.fail_after(10):
                ids = {DNSRecord.parse(await client.receive()).header.id for _ in queries}
        assert ids == {q.header.id for q in queries}
        tg.cancel_scope.cancel()
