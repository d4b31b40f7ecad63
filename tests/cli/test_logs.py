"""`logs` through the real API app in-process: arguments, the default container, server errors,
and a stream from a small fake LogSource (the in-process app has no node behind it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from minikubelet.cli import client as agent
from minikubelet.cli import logs
from minikubelet.cli.main import main
from minikubelet.cli.transport import HttpxTransport
from minikubelet.clock import FakeClock
from minikubelet.errors import BadRequest
from minikubelet.paths import StatePaths
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store


class FakeLogs:
    """A LogSource that records what it was asked and answers from a script."""

    def __init__(self, lines: list[bytes], error: str = "") -> None:
        self.lines, self.error = lines, error
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def pod_logs(
        self, pod: dict[str, Any], container: str, options: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        self.asked.append((container, options))
        if self.error:
            raise BadRequest(self.error)
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        for line in self.lines:
            yield line


def serve(monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path, source: FakeLogs) -> None:
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1", logs=source))
    transport = HttpxTransport(TestClient(app, base_url="http://minikubelet"))
    monkeypatch.setattr(
        agent,
        "connect",
        lambda paths=None: agent.ApiClient(StatePaths(tmp_path), transport=transport),
    )


def add_pod(store: Store, name: str = "web", node: str = "node1", **spec: Any) -> None:
    store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}
            | spec.pop("metadata", {}),
            "spec": {"containers": [{"name": "app", "image": "a"}], "nodeName": node} | spec,
            "status": {"phase": "Running"},
        },
    )


def run(capsys: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err.decode()


def test_stream_and_query(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    tmp_path: Path,
) -> None:
    source = FakeLogs([b"one\n", b"two\n"])
    serve(monkeypatch, store, tmp_path, source)
    add_pod(store)
    argv = ["logs", "pod/web", "-f", "--tail", "5", "--timestamps", "--since", "90s"]
    assert run(capsysbinary, *argv) == (0, b"one\ntwo\n", "")
    container, options = source.asked[0]
    assert container == "app"
    assert {k: v for k, v in options.items() if v} == {
        "follow": True,
        "timestamps": True,
        "tailLines": 5,
        "sinceSeconds": 90,
    }


def test_prefix_and_all_containers(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    tmp_path: Path,
) -> None:
    source = FakeLogs([b"hi\n"])
    serve(monkeypatch, store, tmp_path, source)
    add_pod(store, initContainers=[{"name": "i1", "image": "a"}])
    code, out, err = run(capsysbinary, "logs", "web", "--all-containers", "--prefix")
    assert (code, err) == (0, "")
    assert out == b"[pod/web/i1] hi\n[pod/web/app] hi\n"


@pytest.mark.parametrize(
    "message",
    [
        'previous terminated container "app" in pod "web" not found',
        'container "app" in pod "web" is waiting to start: ContainerCreating',
    ],
)
def test_server_errors(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    tmp_path: Path,
    message: str,
) -> None:
    serve(monkeypatch, store, tmp_path, FakeLogs([], error=message))
    add_pod(store)
    code, out, err = run(capsysbinary, "logs", "web", "-p")
    assert (code, out, err) == (1, b"", f"Error from server (BadRequest): {message}\n")


def test_default_container_note(capsysbinary: pytest.CaptureFixture[bytes], store: Store) -> None:
    """The first container, with kubectl's note when there is more than one to choose from."""
    add_pod(
        store,
        node="",
        containers=[{"name": "main", "image": "a"}, {"name": "side", "image": "a"}],
        initContainers=[{"name": "i1", "image": "a"}, {"name": "i2", "image": "a"}],
    )
    note = 'Defaulted container "main" out of: main, side, i1 (init), i2 (init)\n'
    assert run(capsysbinary, "logs", "web") == (0, b"", note)
    assert run(capsysbinary, "logs", "web", "-c", "i2") == (0, b"", "")
    assert run(capsysbinary, "logs", "web", "side") == (0, b"", "")


def test_default_container_annotation(
    capsysbinary: pytest.CaptureFixture[bytes], store: Store
) -> None:
    containers = [{"name": "main", "image": "a"}, {"name": "side", "image": "a"}]
    key = "kubectl.kubernetes.io/default-container"
    add_pod(store, "good", node="", containers=containers, metadata={"annotations": {key: "side"}})
    add_pod(store, "bad", node="", containers=containers, metadata={"annotations": {key: "gone"}})
    assert run(capsysbinary, "logs", "good") == (0, b"", "")
    code, _, err = run(capsysbinary, "logs", "bad")
    assert err == (
        'Default container name "gone" not found in pod bad\n'
        'Defaulted container "main" out of: main, side\n'
    )


def test_a_single_container_has_no_note(
    capsysbinary: pytest.CaptureFixture[bytes], store: Store
) -> None:
    add_pod(store, node="")
    assert run(capsysbinary, "logs", "web") == (0, b"", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["web", "-c", "nope"], "container nope is not valid for pod web"),
        (["nope"], 'error from server (NotFound): pods "nope" not found in namespace "default"'),
        (["web", "app", "-c", "app"], "only one of -c or an inline [CONTAINER] arg is allowed"),
        (["web", "--tail", "-2"], "--tail must be greater than or equal to -1"),
        (["web", "--limit-bytes", "-1"], "--limit-bytes must be greater than 0"),
        (["web", "--since=-5s"], "--since must be greater than 0"),
        (
            ["web", "--since", "5s", "--since-time", "2024-05-01T00:00:00Z"],
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ),
        (
            ["web", "--all-containers", "-c", "app"],
            "--all-containers=true should not be specified with container name app",
        ),
        (["deployment/web"], 'the server doesn\'t have a resource type "deployment"'),
        (
            [],
            "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
            "POD or TYPE/NAME is a required argument for the logs command\n"
            "See 'minikubelet logs -h' for help and examples",
        ),
    ],
)
def test_client_errors(
    capsysbinary: pytest.CaptureFixture[bytes], store: Store, argv: list[str], message: str
) -> None:
    add_pod(store, node="")
    assert run(capsysbinary, "logs", *argv) == (1, b"", f"error: {message}\n")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("5s", 5.0), ("2m", 120.0), ("1h30m", 5400.0), ("1.5s", 1.5), ("300ms", 0.3)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert logs.parse_duration(text) == pytest.approx(seconds)


def test_bad_duration(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = run(capsysbinary, "logs", "web", "--since", "5x")
    assert (code, err) == (
        1,
        'error: invalid argument "5x" for "--since" flag: time: unknown unit "x" in duration'
        " \"5x\"\nSee 'minikubelet logs --help' for usage.\n",
    )
