"""The service routes as nftables rules (kube-proxy's nftables mode for one node): what one
sync's transaction says, read line by line; then the same transactions given to the kernel in a
table of this process (libnftables, `flags owner`), which goes when its owner does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

from minikubelet.services.nft_rules import render
from minikubelet.services.proxy_rules import Backend
from tests.needs import unavailable

WEB = Backend("default/web", (("10.250.0.2", 3000), ("10.250.0.3", 3000)))
STICKY = Backend("default/sticky:http", (("10.250.0.4", 80),), 30)


def rules(script: str, chain: str) -> list[str]:
    prefix = f"add rule ip t {chain} "
    return [line[len(prefix) :] for line in script.splitlines() if line.startswith(prefix)]


def chain_of(script: str, start: str) -> str:
    found = [line.split()[-1] for line in script.splitlines() if line.startswith("add chain ip t ")]
    (name,) = [name for name in found if name.startswith(start)]
    return name


def test_a_service_port_spreads_its_connections_over_its_endpoints_in_turn() -> None:
    script = render("t", {("10.96.0.5", 80): WEB, ("127.0.0.1", 30080): WEB}).script
    service = chain_of(script, "service-")
    assert service.endswith("-default/web/tcp/"), "kube-proxy's name: hash, ns/name/tcp/port"
    (dispatch,) = rules(script, "services")
    assert dispatch == (
        f"ip daddr . tcp dport vmap {{ 10.96.0.5 . 80 : goto {service}, "
        f"127.0.0.1 . 30080 : goto {service} }}"
    ), "one service chain for the cluster IP and the node port"
    (spread,) = rules(script, service)
    endpoints = [line.split()[4] for line in script.splitlines() if "dnat to" in line]
    assert len(endpoints) == 2
    assert spread == (
        f"numgen inc mod 2 vmap {{ 0 : goto {endpoints[0]}, 1 : goto {endpoints[1]} }}"
    )
    assert rules(script, endpoints[0]) == ["meta l4proto tcp dnat to 10.250.0.2:3000"]
    assert rules(script, endpoints[1]) == ["meta l4proto tcp dnat to 10.250.0.3:3000"]
    assert rules(script, "nat-prerouting") == ["jump services"]
    assert rules(script, "nat-output") == ["jump services"]
    assert rules(script, "nat-postrouting") == [
        'ip saddr 127.0.0.0/8 oifname != "lo" masquerade',
        "ct status dnat ip saddr . ip daddr { 10.250.0.2 . 10.250.0.2, "
        "10.250.0.3 . 10.250.0.3 } masquerade",
    ], "127.0.0.1's connections leave with the bridge's address; a pod reaching itself too"


def test_the_table_is_owned_and_each_sync_is_one_flushed_rewrite() -> None:
    lines = render("t", {}).script.splitlines()
    assert lines[:2] == ["add table ip t { flags owner; }", "flush table ip t"]
    assert "add chain ip t nat-output { type nat hook output priority -100; policy accept; }" in (
        lines
    )
    assert rules("\n".join(lines), "services") == [], "no endpoints, no route: a reset"


def test_client_ip_affinity_keeps_a_client_on_its_endpoint_for_the_timeout() -> None:
    script = render("t", {("10.96.0.6", 80): STICKY}).script
    service = chain_of(script, "service-")
    endpoint = chain_of(script, "endpoint-")
    assert endpoint.endswith("-default/sticky/tcp/http__10.250.0.4/80")
    (declared,) = [line for line in script.splitlines() if line.startswith("add set ip t ")]
    name = declared.split()[4]
    assert declared.endswith("{ type ipv4_addr; flags dynamic,timeout; timeout 30s; }")
    assert rules(script, service)[0] == f"ip saddr @{name} goto {endpoint}"
    assert rules(script, endpoint) == [
        f"update @{name} {{ ip saddr }}",
        "meta l4proto tcp dnat to 10.250.0.4:80",
    ]


def test_what_the_last_sync_made_and_this_one_does_not_want_is_deleted() -> None:
    first = render("t", {("10.96.0.5", 80): WEB, ("10.96.0.6", 80): STICKY})
    second = render("t", {("10.96.0.5", 80): WEB}, first)
    deleted = [line for line in second.script.splitlines() if line.startswith("delete ")]
    gone = first.chains - second.chains
    assert len(gone) == 2 and all("sticky" in chain for chain in gone)
    assert deleted == [f"delete chain ip t {c}" for c in sorted(gone)] + [
        f"delete set ip t {s}" for s in sorted(first.sets)
    ]
    assert second.chains <= first.chains, "the chains still wanted keep their names"


OWNER = textwrap.dedent(
    """
    import subprocess, sys
    from minikubelet.services.kernel import KernelRoutes
    from minikubelet.services.proxy_rules import Backend
    routes = KernelRoutes.open(sys.argv[1])
    web = Backend("default/web", (("10.250.0.2", 3000),))
    routes.apply({("10.96.0.5", 80): web})
    routes.apply({("10.96.0.5", 80): web, ("10.96.0.7", 81): web})
    print(subprocess.run(["nft", "list", "table", "ip", routes.table],
                         capture_output=True, text=True).stdout, flush=True)
    sys.stdin.read()
    """
)


def test_the_kernel_takes_the_rules_and_drops_the_table_with_its_owner() -> None:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        unavailable("nftables rules need root and nft", "apt install nftables; run as root")
    instance = f"test{os.getpid()}"
    table = f"minikubelet-{instance}"
    with subprocess.Popen(
        [sys.executable, "-c", OWNER, instance],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as owner:
        assert owner.stdout is not None
        listed = ""
        while "}" not in listed.splitlines()[-1:] and (line := owner.stdout.readline()):
            listed += line
        assert "flags owner" in listed
        assert "10.96.0.5 . 80 : goto service-" in listed and "10.96.0.7 . 81" in listed
        assert "dnat to 10.250.0.2:3000" in listed
        refused = subprocess.run(["nft", "delete", "table", "ip", table], capture_output=True)
        assert refused.returncode != 0, "another process cannot touch an owned table"
        owner.kill()  # SIGKILL: no clean-up code runs
    left = subprocess.run(["nft", "list", "table", "ip", table], capture_output=True)
    assert left.returncode != 0, "the kernel removed the table with its owner's socket"
