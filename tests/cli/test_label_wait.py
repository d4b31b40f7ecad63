"""`label node` and `wait`: kubectl 1.32's lines and exit codes (checked by running the real
client against this API: `not labeled`/`unlabeled`, `label "k" not found.`, wait's errors)."""

from __future__ import annotations

import pytest

from minikubelet.cli.main import main
from minikubelet.store import Store

BASE_LABELS = {"kubernetes.io/hostname": "node1", "node-role.kubernetes.io/control-plane": ""}


@pytest.fixture
def node(store: Store) -> Store:
    store.create(
        "Node",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "node1",
                "uid": "u1",
                "creationTimestamp": "2025-12-22T00:00:00Z",
                "labels": dict(BASE_LABELS),
            },
            "spec": {},
            "status": {},
        },
    )
    for name, ready in (("web", "True"), ("pend", "False")):
        store.create(
            "Pod",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": "default",
                    "uid": f"uid-{name}",
                    "creationTimestamp": "2025-12-31T23:59:00Z",
                },
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]},
            },
        )
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


HOST = "kubernetes.io/hostname"


@pytest.mark.parametrize(
    ("argv", "expected", "labels"),
    [
        pytest.param(
            ["foo=bar"],
            (0, "node/node1 labeled\n", ""),
            {**BASE_LABELS, "foo": "bar"},
            id="add a label",
        ),
        pytest.param(
            [f"{HOST}=node1"],
            (0, "node/node1 not labeled\n", ""),
            BASE_LABELS,
            id="same value: not labeled",
        ),
        pytest.param(
            [f"{HOST}=other"],
            (
                1,
                "",
                "error: 'kubernetes.io/hostname' already has a value (node1), "
                "and --overwrite is false\n",
            ),
            BASE_LABELS,
            id="a new value needs --overwrite",
        ),
        pytest.param(
            [f"{HOST}=other", "--overwrite"],
            (0, "node/node1 labeled\n", ""),
            {**BASE_LABELS, HOST: "other"},
            id="--overwrite",
        ),
        pytest.param(
            [f"{HOST}-"],
            (0, "node/node1 unlabeled\n", ""),
            {"node-role.kubernetes.io/control-plane": ""},
            id="k- removes: unlabeled",
        ),
        pytest.param(
            [f"{HOST}-", "--overwrite"],
            (0, "node/node1 labeled\n", ""),
            {"node-role.kubernetes.io/control-plane": ""},
            id="k- with --overwrite says labeled",
        ),
        pytest.param(
            ["missing-"],
            (0, 'label "missing" not found.\nnode/node1 not labeled\n', ""),
            BASE_LABELS,
            id="removing a missing label",
        ),
        pytest.param(
            ["a=b", f"{HOST}-"],
            (0, "node/node1 unlabeled\n", ""),
            {"node-role.kubernetes.io/control-plane": "", "a": "b"},
            id="add and remove: the object got shorter",
        ),
    ],
)
def test_label_node(
    node: Store,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: tuple[int, str, str],
    labels: dict[str, str],
) -> None:
    assert run(capsys, "label", "node", "node1", *argv) == expected
    assert node.get("Node", "", "node1")["metadata"]["labels"] == labels


def test_label_missing_node(node: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "label", "node", "nope", "a=b") == (
        1,
        "",
        'Error from server (NotFound): nodes "nope" not found\n',
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--for=condition=Ready", "pod/web"],
            (0, "pod/web condition met\n", ""),
            id="condition met",
        ),
        pytest.param(
            ["--for=condition=ready=true", "pod/web", "--timeout=0"],
            (0, "pod/web condition met\n", ""),
            id="condition and value match case-insensitively",
        ),
        pytest.param(
            ["--for=condition=Ready", "pod/pend", "--timeout=0"],
            (1, "", "error: condition not met for pods/pend\n"),
            id="--timeout=0 checks once",
        ),
        pytest.param(
            ["--for=condition=Ready", "pod/pend", "--timeout=200ms"],
            (1, "", "error: timed out waiting for the condition on pods/pend\n"),
            id="timeout",
        ),
        pytest.param(
            ["--for=condition=Ready=False", "pod/pend", "--timeout=0"],
            (0, "pod/pend condition met\n", ""),
            id="condition with an explicit value",
        ),
        pytest.param(
            ["--for=delete", "pod/nope", "--timeout=0"],
            (0, "", ""),
            id="--for=delete of a missing pod prints nothing",
        ),
        pytest.param(
            ["--for=condition=Ready", "pod/nope", "--timeout=0"],
            (1, "", 'Error from server (NotFound): pods "nope" not found\n'),
            id="condition on a missing pod",
        ),
        pytest.param(
            ["--for=condition=Ready", "pod/web", "pod/pend", "--timeout=0"],
            (1, "pod/web condition met\n", "error: condition not met for pods/pend\n"),
            id="several pods",
        ),
    ],
)
def test_wait(
    node: Store, capsys: pytest.CaptureFixture[str], argv: list[str], expected: tuple[int, str, str]
) -> None:
    assert run(capsys, "wait", *argv) == expected


def test_wait_for_delete_of_an_existing_pod_times_out(
    node: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "wait", "--for=delete", "pod/web", "--timeout=0") == (
        1,
        "",
        "error: condition not met for pods/web\n",
    )
