"""What the Docker adapter reads off the host and the engine to run on Docker and Podman alike:
free subnets (the engine's networks and the host's routes), the image as the pod named it."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikubelet.runtime._docker_json import container_info, free_subnets, host_routes, instance_of
from minikubelet.runtime._proc import engine_hard_limits
from minikubelet.runtime.docker import _is_podman

# /proc/net/route as Linux writes it: little-endian hex, a header line first.
ROUTES = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
cni-podman1\t0000590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
br-0d95ada34d9a\t0001590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
"""


def test_host_routes_read_proc_net_route_without_the_default() -> None:
    assert [str(n) for n in host_routes(ROUTES)] == [
        "10.89.0.0/24",
        "10.89.1.0/24",
        "172.17.0.0/16",
    ]


def test_host_routes_skip_garbage() -> None:
    assert host_routes("header\nshort line\neth0\tzz\t0\t0\t0\t0\t0\tzz\n") == []


@pytest.mark.parametrize(
    ("nets", "routes", "first"),
    [
        pytest.param([], "", "10.89.0.0/24", id="nothing taken"),
        pytest.param(
            [{"IPAM": {"Config": [{"Subnet": "10.89.0.0/24"}]}}], "", "10.89.1.0/24",
            id="the engine's own network",
        ),
        pytest.param([], ROUTES, "10.89.2.0/24", id="another engine's bridges, by route"),
        pytest.param(
            [{"IPAM": {"Config": [{"Subnet": "10.89.2.0/23"}]}}], ROUTES, "10.89.4.0/24",
            id="both",
        ),
    ],
)  # fmt: skip
def test_free_subnets_look_past_the_engine(nets: list[dict], routes: str, first: str) -> None:  # type: ignore[type-arg]
    assert free_subnets(nets, routes)[0] == first


def _raw(image: str, labels: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return {
        "Id": "c1",
        "Image": "sha256:1",
        "Config": {"Image": image, "Labels": labels},
        "State": {"Status": "running", "Running": True, "ExitCode": 0},
    }


def test_the_image_is_the_one_the_pod_named() -> None:
    """Podman answers `Config.Image` with the resolved name; the label keeps the pod's, so a
    running container is not taken for a changed definition."""
    podman = _raw("localhost/webapl:0.1", {"minikubelet.image": "webapl:0.1"})
    assert container_info(podman).image == "webapl:0.1"
    older = _raw("webapl:0.1", {})  # made before the label existed
    assert container_info(older).image == "webapl:0.1"


LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units
Max processes             32768                {nproc}                processes
Max open files            20000                20000                files
"""


def test_engine_hard_limits_read_the_service_processes(tmp_path: Path) -> None:
    for pid, argv, nproc in [
        ("10", b"podman\0system\0service\0--time=0\0", "32768"),
        ("11", b"/usr/bin/podman\0system\0service\0", "4096"),
        ("12", b"podman\0run\0x\0", "1"),  # not a service
        ("13", b"dockerd\0", "1"),
    ]:
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(argv)
        (tmp_path / pid / "limits").write_text(LIMITS.format(nproc=nproc))
    (tmp_path / "self").mkdir()
    assert engine_hard_limits("podman", str(tmp_path)) == {"nofile": 20000, "nproc": 4096}
    assert engine_hard_limits("crio", str(tmp_path)) == {}


def test_podman_is_told_by_its_version_components() -> None:
    assert _is_podman({"Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]})
    assert not _is_podman({"Components": [{"Name": "Engine", "Version": "20.10.24"}]})
    assert not _is_podman({})


def test_the_relist_reads_the_engines_list_without_inspects() -> None:
    """`GET /containers/json` summaries (Docker and Podman's compat API alike): the state word,
    the labels, the names; a claimed warm sandbox's pod is in its name, an unclaimed one has
    none."""
    kind, uid, spare = (
        "io.kubernetes.docker.type",
        "io.kubernetes.pod.uid",
        "minikubelet.sandbox.spare",
    )
    app = {
        "Id": "c1",
        "Names": ["/k8s_app_web_default_u1_0"],
        "State": "exited",
        "Labels": {kind: "container", uid: "u1"},
    }
    sandbox = {
        "Id": "s1",
        "Names": ["/k8s_POD_web_default_u1_0"],
        "State": "running",
        "Labels": {kind: "podsandbox", uid: "u1"},
    }
    claimed = {
        "Id": "s2",
        "Names": ["/k8s_POD_db_default_u2_1"],
        "State": "paused",
        "Labels": {kind: "podsandbox", spare: "true"},
    }
    unclaimed = {
        "Id": "s3",
        "Names": ["/minikubelet-spare-x-ab"],
        "State": "running",
        "Labels": {kind: "podsandbox", spare: "true"},
    }
    seen = [instance_of(raw) for raw in (app, sandbox, claimed, unclaimed)]
    assert [(i.id, i.pod_uid, i.running, i.sandbox) for i in seen] == [
        ("c1", "u1", False, False),
        ("s1", "u1", True, True),
        ("s2", "u2", True, True),
        ("s3", "", True, True),
    ]
