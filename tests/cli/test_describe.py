"""`describe pod[s]` through the real API app in-process: fetching, events, kubectl's errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet import clock
from minikubelet.cli.main import main
from minikubelet.printers.describe import describe_pod
from minikubelet.store import Store

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads the real clock and the local zone: pin both."""
    monkeypatch.setattr(clock.RealClock, "utcnow", lambda self: NOW)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def add_pod(store: Store, name: str, namespace: str = "default") -> dict[str, Any]:
    return store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
            "spec": {"containers": [{"name": "app", "image": "webapl:1"}], "nodeName": "node1"},
            "status": {"phase": "Running", "hostIP": "172.30.0.1", "qosClass": "BestEffort"},
        },
    )


def add_event(store: Store, name: str, reason: str, uid: str | None = None) -> None:
    involved = {"kind": "Pod", "namespace": "default", "name": name, "uid": uid or f"uid-{name}"}
    store.record_event(
        "default", involved, "Normal", reason, f"{reason} {name}", {"component": "kubelet"}
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_describe_pod_with_its_events(capsys: pytest.CaptureFixture[str], store: Store) -> None:
    pod = add_pod(store, "web")
    add_pod(store, "web2")
    add_event(store, "web", "Started")
    add_event(store, "web2", "Killing")  # another pod's
    add_event(store, "web", "Stale", uid="uid-old")  # an earlier pod of the same name
    code, out, err = run(capsys, "describe", "pod", "web")
    events = [e for e in store.list("Event", "default")[0] if e["reason"] == "Started"]
    assert (code, err) == (0, "")
    assert out == describe_pod(pod, events, NOW, tz=None)
    assert out.startswith(
        "Name:         web\nNamespace:    default\nNode:         node1/172.30.0.1\n"
    )
    assert "  Normal  Started  " in out and "Killing" not in out and "Stale" not in out


@pytest.mark.parametrize("argv", [["pod/web"], ["po", "web"], ["pods/web"]])
def test_name_forms(capsys: pytest.CaptureFixture[str], store: Store, argv: list[str]) -> None:
    add_pod(store, "web")
    code, out, _ = run(capsys, "describe", *argv)
    assert code == 0 and out.startswith("Name:         web\n")


def test_describe_pods_separates_with_two_empty_lines(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    add_pod(store, "a")
    add_pod(store, "b")
    add_event(store, "b", "Pulled")
    code, out, _ = run(capsys, "describe", "pods")
    first, second = out.split("\n\n\nName:")
    assert (
        code == 0
        and first.startswith("Name:         a\n")
        and first.endswith("Events:           <none>")
    )
    assert second.startswith("         b\n") and "  Normal  Pulled  " in second


def test_not_found(capsys: pytest.CaptureFixture[str], store: Store) -> None:
    add_pod(store, "web")
    code, out, err = run(capsys, "describe", "pod", "nope")
    assert (code, out, err) == (1, "", 'Error from server (NotFound): pods "nope" not found\n')


def test_a_missing_name_describes_pods_it_prefixes(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    """kubectl's DescribeMatchingResources: `describe pod we` finds web and web2."""
    add_pod(store, "web")
    add_pod(store, "web2")
    add_pod(store, "api")
    code, out, _ = run(capsys, "describe", "pod", "we")
    assert code == 0 and out.count("Name:  ") == 2 and out.endswith("<none>\n\n")
    code, out, err = run(capsys, "describe", "pod/we")  # the TYPE/NAME form never falls back
    assert (code, err) == (1, 'Error from server (NotFound): pods "we" not found\n')


def test_found_ones_first_then_the_errors(capsys: pytest.CaptureFixture[str], store: Store) -> None:
    add_pod(store, "web")
    code, out, err = run(capsys, "describe", "pod", "web", "nope")
    assert code == 1 and out.startswith("Name:         web\n")
    assert err == 'Error from server (NotFound): pods "nope" not found\n'


def test_nothing_to_describe(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "describe", "pods") == (0, "", "No resources found in default namespace.\n")
    assert run(capsys, "describe", "pods", "-A") == (0, "", "No resources found\n")


def test_all_namespaces_and_events_off(capsys: pytest.CaptureFixture[str], store: Store) -> None:
    add_pod(store, "web", namespace="other")
    code, out, _ = run(capsys, "describe", "pods", "-A", "--show-events=false")
    assert code == 0 and "Namespace:    other\n" in out and "Events" not in out
    code, _, err = run(capsys, "describe", "pod", "web", "-A")
    assert (code, err) == (
        1,
        "error: a resource cannot be retrieved by name across all namespaces\n",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [],
            'You must specify the type of resource to describe. Use "kubectl api-resources" for a '
            "complete list of supported resources.",
        ),
        (["deployment", "x"], 'the server doesn\'t have a resource type "deployment"'),
        (["pod/a", "b"], "arguments in resource/name form must have a single resource and name"),
    ],
)
def test_argument_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert run(capsys, "describe", *argv) == (1, "", f"error: {message}\n")
