"""A named object not found in a namespace other than default: kubectl's resource builder
(`Info.Get`) asks for the namespace, and a missing one is the error. Checked with the real
kubectl 1.32 against this API: `get`, `describe`, `logs`, `label`, `wait`, `expose`, `exec`,
`attach` and `port-forward` GET the namespace after the 404 (`cp` does not) and print
`namespaces "nons" not found`; in `default`, or for a cluster-scoped kind, they do not ask."""

from __future__ import annotations

import pytest

from minikubelet.cli.main import main
from minikubelet.store import Store

MISSING = 'Error from server (NotFound): namespaces "nons" not found\n'


@pytest.fixture
def pod(store: Store) -> Store:
    store.create(
        "Pod",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web",
                "namespace": "team",
                "uid": "uid-web",
                "creationTimestamp": "2025-12-31T23:59:00Z",
            },
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Running"},
        },
    )
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "err"),
    [
        (["get", "pod", "web"], MISSING),
        (["get", "pod", "web", "web2"], MISSING * 2),
        (["describe", "pod", "web"], MISSING),
        (
            ["logs", "web"],
            'error: error from server (NotFound): namespaces "nons" not found'
            ' in namespace "nons"\n',
        ),
        (["wait", "--for=condition=Ready", "pod/web", "--timeout=1s"], MISSING),
        (["expose", "pod", "web", "--port", "80"], MISSING),
        (["-n", "nons", "label", "pod", "web", "a=b"], MISSING),
        (["-n", "nons", "exec", "web", "--", "true"], MISSING),
        (["attach", "web"], MISSING),
        (["port-forward", "web", "8080:80"], MISSING),
        (["port-forward", "svc/web", "8080:80"], MISSING),
    ],
    ids=[
        "get",
        "get two",
        "describe",
        "logs",
        "wait",
        "expose",
        "label",
        "exec",
        "attach",
        "port-forward",
        "port-forward svc",
    ],
)
def test_a_missing_namespace_is_the_error(
    pod: Store, capsys: pytest.CaptureFixture[str], argv: list[str], err: str
) -> None:
    if argv[0] != "-n":
        argv = [*argv, "-n", "nons"]
    assert run(capsys, *argv) == (1, "", err)


def test_a_pod_missing_from_a_namespace_that_exists_is_the_pods_error(
    pod: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "get", "pod", "nope", "-n", "team") == (
        1,
        "",
        'Error from server (NotFound): pods "nope" not found\n',
    )


def test_default_and_cluster_scoped_kinds_are_not_asked_about(
    pod: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "get", "pod", "nope") == (
        1,
        "",
        'Error from server (NotFound): pods "nope" not found\n',
    )
    assert run(capsys, "get", "node", "nope", "-n", "nons") == (
        1,
        "",
        'Error from server (NotFound): nodes "nope" not found\n',
    )


def test_ignore_not_found_covers_a_missing_namespace(
    pod: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "get", "pod", "web", "-n", "nons", "--ignore-not-found") == (0, "", "")
