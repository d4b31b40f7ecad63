"""`minikubelet port-forward` as kubectl 1.32 runs it: its port specs and addresses
(client-go's parsePorts/parseAddresses), the object and pod it forwards to, its listeners'
failure modes, and the klog line of a forwarding error before `lost connection to pod`."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.cli import client as agent
from minikubelet.cli import portforward
from minikubelet.cli.channels import UpgradeFailed
from minikubelet.cli.main import main
from minikubelet.cli.portforward import (
    ForwardedPort,
    ListenAddress,
    klog_error,
    listen,
    parse_addresses,
    parse_ports,
)
from minikubelet.clock import FakeClock
from minikubelet.errors import ManifestError
from minikubelet.store import Store

UNOWNED = "203.0.113.254"  # TEST-NET-3: no host owns it, so bind() cannot assign it


@pytest.mark.parametrize(
    "specs, parsed",
    [
        (["8080", "8000:80", ":80", "0:80"], "[{8080 8080} {8000 80} {0 80} {0 80}]"),
        (["65535:080"], "[{65535 80}]"),
        (["0"], "remote port must be > 0"),
        (["18111:0"], "remote port must be > 0"),
        (
            ["70000"],
            "error parsing local port '70000': strconv.ParseUint: parsing \"70000\": "
            "value out of range",
        ),
        (
            ["18111:70000"],
            "error parsing remote port '70000': strconv.ParseUint: parsing \"70000\": "
            "value out of range",
        ),
        (
            ["x:80"],
            "error parsing local port 'x': strconv.ParseUint: parsing \"x\": invalid syntax",
        ),
        (
            ["18111:+80"],
            "error parsing remote port '+80': strconv.ParseUint: parsing \"+80\": invalid syntax",
        ),
        (
            ["8080:"],
            "error parsing remote port '': strconv.ParseUint: parsing \"\": invalid syntax",
        ),
        (["1:2:3"], "invalid port format '1:2:3'"),
    ],
)
def test_port_specs(specs: list[str], parsed: str) -> None:
    if parsed.startswith("["):
        assert f"[{' '.join(map(repr, parse_ports(specs)))}]" == parsed
    else:
        with pytest.raises(ManifestError) as err:
            parse_ports(specs)
        assert str(err.value) == parsed


@pytest.mark.parametrize(
    "values, parsed",
    [
        (["localhost"], [("127.0.0.1", "127.0.0.1", "tcp4", "all"), ("::1", "::1", "tcp6", "all")]),
        (
            ["localhost", "0.0.0.0", "localhost"],
            [
                ("0.0.0.0", "0.0.0.0", "tcp4", "any"),
                ("127.0.0.1", "127.0.0.1", "tcp4", "all"),
                ("::1", "::1", "tcp6", "all"),
            ],
        ),
        (
            ["localhost", "127.0.0.1"],
            [("127.0.0.1", "127.0.0.1", "tcp4", "any"), ("::1", "::1", "tcp6", "all")],
        ),  # fmt: skip
        (
            ["::", "010.0.0.1"],
            [("010.0.0.1", "10.0.0.1", "tcp4", "any"), ("::", "::", "tcp6", "any")],
        ),  # fmt: skip
        (["::ffff:1.2.3.4"], [("::ffff:1.2.3.4", "1.2.3.4", "tcp4", "any")]),
        (["bogus"], "bogus is not a valid IP"),
        (["fe80::1%eth0"], "fe80::1%eth0 is not a valid IP"),
        (["1.2.3.256"], "1.2.3.256 is not a valid IP"),
        ([], "you must specify at least 1 address"),
    ],
)
def test_addresses(values: list[str], parsed: list[tuple[str, str, str, str]] | str) -> None:
    if isinstance(parsed, list):
        found = [(a.address, a.ip, a.protocol, a.failure_mode) for a in parse_addresses(values)]
        assert found == parsed
    else:
        with pytest.raises(ManifestError) as err:
            parse_addresses(values)
        assert str(err.value) == parsed


def pod(store: Store, name: str, phase: str, labels: dict[str, str] | None = None) -> None:
    ports = [{"name": "http", "containerPort": 8080}, {"containerPort": 80}]
    store.create(
        "Pod",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "labels": labels or {},
            },
            "spec": {
                "nodeName": "node1",
                "containers": [{"name": "c", "image": "i", "ports": ports}],
            },  # fmt: skip
            "status": {"phase": phase},
        },
    )


@pytest.fixture
def seeded(store: Store) -> Store:
    pod(store, "web", "Running", {"app": "web"})
    pod(store, "pending", "Pending")
    store.create(
        "ConfigMap",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm1", "namespace": "default", "uid": "uid-cm1"},
        },  # fmt: skip
    )
    spec = {
        "selector": {"app": "web"},
        "ports": [{"name": "web", "port": 80, "targetPort": "http"}],
    }
    meta = {"name": "front", "namespace": "default", "uid": "uid-front"}
    store.create("Service", {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec})
    return store


def _unable(port: int, reason: str, shown: str = "") -> str:
    listener = f"unable to create listener: Error listen tcp4 {shown or f'127.0.0.1:{port}'}"
    return (
        f"Unable to listen on port {port}: Listeners failed to create with the following "
        f"errors: [{listener}: bind: {reason}]\n"
    )


SEE = "See 'minikubelet port-forward -h' for help and examples"


@pytest.mark.parametrize(
    "argv, err",
    [
        (["web", "70000:80"], "error: error parsing local port '70000': strconv.ParseUint: "
         'parsing "70000": value out of range\n'),
        (["web", "18111:70000"], "error: error parsing remote port '70000': strconv.ParseUint: "
         'parsing "70000": value out of range\n'),
        (["web", "0"], "error: remote port must be > 0\n"),
        (["web", "18111:0"], "error: remote port must be > 0\n"),
        (["web", "8080:"], "error: remote port cannot be empty\n"),
        (["web", "abc"], "error: Pod 'web' does not have a named port 'abc'\n"),
        (["web", "18084:80", "--address", "bogus"], "error: bogus is not a valid IP\n"),
        (["web", "18084:80", "--address", ""], "error: you must specify at least 1 address\n"),
        (["web", "18084:80", "--address", "127.0.0.1, ::1"], "error:  ::1 is not a valid IP\n"),
        (
            ["web", "18084:80", "--address", UNOWNED],
            _unable(18084, "cannot assign requested address", f"{UNOWNED}:18084")
            + "error: unable to listen on any of the requested ports: [{18084 80}]\n",
        ),
        (["svc/nosvc", "80"], 'Error from server (NotFound): services "nosvc" not found\n'),
        (["nopod", "80"], 'Error from server (NotFound): pods "nopod" not found\n'),
        (["deployment/x", "80"], "error: the server doesn't have a resource type \"deployment\"\n"),
        (["cm/cm1", "80"], "error: cannot attach to *v1.ConfigMap: selector for *v1.ConfigMap "
         "not implemented\n"),
        (["svc/front", "81"], "error: Service front does not have a service port 81\n"),
        (["pending", "80"], "error: unable to forward port because pod is not running. "
         "Current status=Pending\n"),
        (["web"], f"error: TYPE/NAME and list of ports are required for port-forward\n{SEE}\n"),
        (["web", "80", "--pod-running-timeout", "0"],
         f"error: --pod-running-timeout must be higher than zero\n{SEE}\n"),
        (["web", "80", "--pod-running-timeout=-1s"],
         f"error: --pod-running-timeout must be higher than zero\n{SEE}\n"),
        (["web", "80", "--pod-running-timeout", "1x"],
         'error: invalid argument "1x" for "--pod-running-timeout" flag: time: unknown unit "x" '
         "in duration \"1x\"\nSee 'minikubelet port-forward --help' for usage.\n"),
        (["web", "--pod-running-timeout", "0"],
         f"error: TYPE/NAME and list of ports are required for port-forward\n{SEE}\n"),
    ],
)  # fmt: skip
def test_what_the_command_says(
    seeded: Store, capsys: pytest.CaptureFixture[str], argv: list[str], err: str
) -> None:
    code = main(["port-forward", *argv])
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err) == (1, "", err)


@contextmanager
def occupied() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_local_port_in_use(seeded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    with occupied() as port:
        code = main(["port-forward", "web", f"{port}:80", "--address", "127.0.0.1"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert captured.err == _unable(port, "address already in use") + (
        f"error: unable to listen on any of the requested ports: [{{{port} 80}}]\n"
    )


def free_port() -> int:
    with occupied() as port:
        return port  # free again once closed


def _close(made: list[tuple[socket.socket, ForwardedPort]]) -> list[str]:
    for sock, _ in made:
        sock.close()
    return [repr(port) for _, port in made]


def test_a_port_that_cannot_listen_leaves_the_others_forwarding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    free = free_port()
    with occupied() as taken:
        made = listen(parse_addresses(["127.0.0.1"]), parse_ports([f"{taken}:80", f"{free}:81"]))
    assert _close(made) == [f"{{{free} 81}}"]
    captured = capsys.readouterr()
    assert captured.out == f"Forwarding from 127.0.0.1:{free} -> 81\n"
    assert captured.err == _unable(taken, "address already in use")


def test_the_same_local_port_twice(capsys: pytest.CaptureFixture[str]) -> None:
    free = free_port()
    made = listen(parse_addresses(["127.0.0.1"]), parse_ports([f"{free}:80", f"{free}:80"]))
    assert _close(made) == [f"{{{free} 80}}"]
    assert capsys.readouterr().err == _unable(free, "address already in use")


def test_localhost_needs_one_family_an_address_needs_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`localhost`'s 127.0.0.1 and ::1 fail only together (here ::1 stands in for the family
    that fails); an explicit address that fails fails its port, its other listeners kept
    until the command ends (client-go closes them only then)."""
    loopback = ListenAddress("127.0.0.1", "127.0.0.1", "tcp4", "all")
    made = listen([loopback, ListenAddress(UNOWNED, UNOWNED, "tcp4", "all")], parse_ports([":80"]))
    (port,) = [int(p.strip("{}").split()[0]) for p in _close(made)]
    assert capsys.readouterr() == (f"Forwarding from 127.0.0.1:{port} -> 80\n", "")
    with pytest.raises(
        ManifestError, match=r"^unable to listen on any of the requested ports: \[\{"
    ):
        listen([loopback, ListenAddress(UNOWNED, UNOWNED, "tcp4", "any")], parse_ports([":80"]))
    captured = capsys.readouterr()
    port = int(captured.out.split(":")[1].split()[0])
    assert captured.err == _unable(port, "cannot assign requested address", f"{UNOWNED}:{port}")


def test_a_free_local_port_is_the_same_on_every_address(capsys: pytest.CaptureFixture[str]) -> None:
    made = listen(parse_addresses(["127.0.0.1", "127.0.0.2"]), parse_ports([":80"]))
    (first, second) = _close(made)
    assert first == second != "{0 80}"
    local = first.strip("{}").split()[0]
    assert capsys.readouterr().out == (
        f"Forwarding from 127.0.0.1:{local} -> 80\nForwarding from 127.0.0.2:{local} -> 80\n"
    )


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC: klog writes local time."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


CLOCK = FakeClock(datetime(2026, 12, 5, 3, 12, 45, 123456, tzinfo=UTC))


def test_klog_lines(utc: None) -> None:
    head = f"E1205 03:12:45.123456 {os.getpid():7d} portforward.go:424]"
    message = 'an error occurred forwarding 1 -> 2: in namespace "x"'
    assert klog_error(message, 424, CLOCK) == (
        f'{head} "Unhandled Error" err="an error occurred forwarding 1 -> 2: in namespace \\"x\\""'
    )
    assert klog_error("a\nb", 424, CLOCK) == f'{head} "Unhandled Error" err=<\n\ta\n\tb\n >'


NOT_FOUND = json.dumps(
    {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "web" not found',
        "reason": "NotFound",
        "details": {"name": "web", "kind": "pods"},
        "code": 404,
    }
).encode()
REFUSED = b"error forwarding port 81 to pod abc, uid : failed to connect to localhost:81"


@pytest.mark.parametrize(
    "failure, line, message",
    [
        pytest.param(
            UpgradeFailed(500, REFUSED),
            424,
            f"an error occurred forwarding 18081 -> 81: {REFUSED.decode()}",
            id="the node's error stream",
        ),
        pytest.param(
            UpgradeFailed(404, NOT_FOUND),
            424,
            'an error occurred forwarding 18081 -> 81: pods "web" not found',
            id="the pod deleted: its Status's message",
        ),
        pytest.param(
            ConnectionRefusedError(111, "Connection refused"),
            357,
            "error creating error stream for port 18081 -> 81: "
            "dial unix {sock}: connect: connection refused",
            id="the agent gone",
        ),
    ],
)
def test_a_forwarding_error_is_logged_and_loses_the_pod(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    utc: None,
    failure: Exception,
    line: int,
    message: str,
) -> None:
    def refuse(socket_path: str, path: str, remote: int) -> socket.socket:
        assert (path, remote) == ("/api/v1/namespaces/default/pods/web/portforward", 81)
        raise failure

    monkeypatch.setattr(portforward, "receive_socket", refuse)
    client = agent.connect()
    forwarder = portforward._Forwarder(
        client, {"metadata": {"namespace": "default", "name": "web"}}, CLOCK
    )
    local, peer = socket.socketpair()
    with peer:
        forwarder.handle(local, 18081, 81)
        assert peer.recv(1) == b""  # the local connection is closed
    assert forwarder.lost.is_set()
    text = message.format(sock=client.paths.socket_path).replace('"', '\\"')
    head = f"E1205 03:12:45.123456 {os.getpid():7d} portforward.go:{line}]"
    assert capsys.readouterr() == (
        "Handling connection for 18081\n",
        f'{head} "Unhandled Error" err="{text}"\n',
    )


@contextmanager
def forwarding(
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    pods: list[Callable[[str, int], socket.socket]],
) -> Iterator[tuple[int, list[int]]]:
    """`main(argv)` in a thread, until its listeners are made: (local port, [exit code]); each
    connection gets the next of `pods` as its pod's socket (called with path and port)."""
    made = threading.Event()
    ports: list[int] = []
    real_listen = portforward.listen

    def listening(*args: Any) -> list[tuple[socket.socket, ForwardedPort]]:
        found = real_listen(*args)
        ports.append(found[0][1].local)
        made.set()
        return found

    monkeypatch.setattr(portforward, "listen", listening)
    monkeypatch.setattr(
        portforward, "receive_socket", lambda _, path, port: pods.pop(0)(path, port)
    )
    codes: list[int] = []
    command = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    command.start()
    assert made.wait(30)
    yield ports[0], codes
    command.join(30)
    assert not command.is_alive()


def test_forwarding_to_a_service_until_the_pod_is_lost(
    seeded: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`svc/front :web`: the service's pod `web`, its port `http` (8080); bytes go both ways,
    then a connection the node refuses ends the command as kubectl's does."""
    asked: list[tuple[str, int]] = []

    def echo(path: str, port: int) -> socket.socket:
        asked.append((path, port))
        ours, theirs = socket.socketpair()

        def serve() -> None:
            with theirs:
                while data := theirs.recv(1024):
                    theirs.sendall(data.upper())

        threading.Thread(target=serve, daemon=True).start()
        return ours

    def refused(path: str, port: int) -> socket.socket:
        raise UpgradeFailed(500, REFUSED)

    argv = ["port-forward", "svc/front", ":web", "--address", "127.0.0.1"]
    with forwarding(monkeypatch, argv, [echo, refused]) as (local, codes):
        with socket.create_connection(("127.0.0.1", local)) as conn:
            conn.sendall(b"hello")
            conn.shutdown(socket.SHUT_WR)
            assert conn.recv(1024) == b"HELLO"
        with socket.create_connection(("127.0.0.1", local)) as conn:
            assert conn.recv(1) == b""
    assert codes == [1]
    assert asked == [("/api/v1/namespaces/default/pods/web/portforward", 8080)]
    captured = capsys.readouterr()
    assert captured.out == (
        f"Forwarding from 127.0.0.1:{local} -> 8080\n"
        f"Handling connection for {local}\nHandling connection for {local}\n"
    )
    klog, lost = captured.err.splitlines()
    assert klog.endswith(
        f'"Unhandled Error" err="an error occurred forwarding {local} -> 8080: {REFUSED.decode()}"'
    )
    assert lost == "error: lost connection to pod"
