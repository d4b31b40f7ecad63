"""`get` end to end through the in-process API: exact stdout, stderr and exit code.

The goldens were produced by the real kubectl 1.32 client against this API app serving the
same objects (a differential run, clock pinned at 2026-01-01T00:00:00Z), so they pin kubectl's
client layout: tabwriter, decorations, List wrapper, messages.
"""

from __future__ import annotations

import json

import pytest

from minikubelet.cli.main import main
from minikubelet.store import Store

RUN = {"running": {"startedAt": "2025-12-31T23:55:00Z"}}


def pod(store: Store, name: str, status: dict[str, object], created: str, **meta: object) -> None:
    spec: dict[str, object] = {"containers": [{"name": "c", "image": "nginx"}]}
    if name == "web":
        spec["nodeName"] = "node1"
    store.create(
        "Pod",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": meta.pop("namespace", "default"),
                "uid": f"uid-{name}",
                "creationTimestamp": created,
                **meta,
            },
            "spec": spec,
            "status": status,
        },
    )


@pytest.fixture
def seeded(store: Store) -> Store:
    pod(
        store,
        "web",
        {
            "phase": "Running",
            "podIPs": [{"ip": "10.244.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "c",
                    "ready": True,
                    "restartCount": 3,
                    "state": RUN,
                    "lastState": {
                        "terminated": {"exitCode": 1, "finishedAt": "2025-12-31T23:59:16Z"}
                    },
                }
            ],
        },
        "2025-12-31T23:54:55Z",
        labels={"app": "web", "tier": "fe"},
    )
    pod(
        store,
        "crash-loop-pod-with-long-name",
        {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "c",
                    "ready": False,
                    "restartCount": 12,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {
                        "terminated": {"exitCode": 1, "finishedAt": "2025-12-31T23:58:23Z"}
                    },
                }
            ],
        },
        "2025-12-31T20:58:00Z",
        labels={"app": "x"},
    )
    pod(store, "pend", {"phase": "Pending"}, "2025-12-31T23:59:53Z")
    pod(store, "other", {"phase": "Pending"}, "2025-12-31T23:59:00Z", namespace="kube-system")
    store.create(
        "Node",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "node1",
                "uid": "u1",
                "creationTimestamp": "2025-12-22T00:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": ""},
            },
            "spec": {},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.49.2"}],
                "nodeInfo": {
                    "kubeletVersion": "v1.32.5",
                    "osImage": "Ubuntu 22.04.4 LTS",
                    "kernelVersion": "6.1.0",
                    "containerRuntimeVersion": "docker://27.4.1",
                },
            },
        },
    )
    store.record_event(
        "default",
        {"kind": "Pod", "name": "web", "namespace": "default", "fieldPath": "spec.containers{c}"},
        "Normal",
        "Pulled",
        'Container image "nginx" already present on machine',
        {"component": "kubelet", "host": "node1"},
    )
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


HEAD = "NAME                            READY   STATUS             RESTARTS       AGE"
CRASH = "crash-loop-pod-with-long-name   0/1     CrashLoopBackOff   12 (97s ago)   3h2m"
PEND = "pend                            0/1     Pending            0              7s"
WEB = "web                             1/1     Running            3 (44s ago)    5m5s"
WEB_ALONE = (
    "NAME   READY   STATUS    RESTARTS      AGE\nweb    1/1     Running   3 (44s ago)   5m5s\n"
)
NOT_FOUND_B = 'Error from server (NotFound): pods "b" not found\n'
FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)


def lines(*rows: str) -> str:
    return "".join(row + "\n" for row in rows)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["get", "pods"], (0, lines(HEAD, CRASH, PEND, WEB), ""), id="get pods"),
        pytest.param(["get", "pod", "web"], (0, WEB_ALONE, ""), id="get pod NAME"),
        pytest.param(["get", "po/web"], (0, WEB_ALONE, ""), id="get TYPE/NAME"),
        pytest.param(["get", "po", "web", "b"], (1, WEB_ALONE, NOT_FOUND_B), id="one name missing"),
        pytest.param(["get", "pod", "b"], (1, "", NOT_FOUND_B), id="the only name missing"),
        pytest.param(
            ["get", "pods", "-o", "wide"],
            (
                0,
                lines(
                    "NAME                            READY   STATUS             RESTARTS       AGE"
                    "    IP           NODE     NOMINATED NODE   READINESS GATES",
                    "crash-loop-pod-with-long-name   0/1     CrashLoopBackOff   12 (97s ago)   3h2m"
                    "   <none>       <none>   <none>           <none>",
                    "pend                            0/1     Pending            0              7s"
                    "     <none>       <none>   <none>           <none>",
                    "web                             1/1     Running            3 (44s ago)    5m5s"
                    "   10.244.0.5   node1    <none>           <none>",
                ),
                "",
            ),
            id="-o wide",
        ),
        pytest.param(
            ["get", "pods", "--show-labels"],
            (
                0,
                lines(
                    HEAD + "    LABELS",
                    CRASH + "   app=x",
                    PEND + "     <none>",
                    WEB + "   app=web,tier=fe",
                ),
                "",
            ),
            id="--show-labels",
        ),
        pytest.param(
            ["get", "pods", "-L", "app"],
            (0, lines(HEAD + "    APP", CRASH + "   x", PEND + "     ", WEB + "   web"), ""),
            id="-L app (a missing label is an empty cell)",
        ),
        pytest.param(
            ["get", "pods", "-L", "app,example.com/tier"],
            (
                0,
                lines(
                    HEAD + "    APP   TIER",
                    CRASH + "   x     ",
                    PEND + "           ",
                    WEB + "   web   ",
                ),
                "",
            ),
            id="-L a,b: header after the last slash",
        ),
        pytest.param(
            ["get", "pods", "-A"],
            (
                0,
                lines(
                    "NAMESPACE     " + HEAD,
                    "default       " + CRASH,
                    "default       " + PEND,
                    "default       " + WEB,
                    "kube-system   other                           0/1     Pending            0"
                    "              60s",
                ),
                "",
            ),
            id="-A adds NAMESPACE",
        ),
        pytest.param(["get", "pods", "-l", "app=web"], (0, WEB_ALONE, ""), id="-l app=web"),
        pytest.param(
            ["get", "pods", "--no-headers"],
            (
                0,
                lines(
                    "crash-loop-pod-with-long-name   0/1   CrashLoopBackOff   12 (97s ago)   3h2m",
                    "pend                            0/1   Pending            0              7s",
                    "web                             1/1   Running            3 (44s ago)    5m5s",
                ),
                "",
            ),
            id="--no-headers (columns sized without the header)",
        ),
        pytest.param(
            ["get", "pods", "-o", "name"],
            (0, "pod/crash-loop-pod-with-long-name\npod/pend\npod/web\n", ""),
            id="-o name",
        ),
        pytest.param(
            ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
            (0, "crash-loop-pod-with-long-name pend web", ""),
            id="-o jsonpath: no trailing newline",
        ),
        pytest.param(
            ["get", "pod", "web", "-o", "jsonpath={.metadata.name}"],
            (0, "web", ""),
            id="-o jsonpath on a single object",
        ),
        pytest.param(
            [
                "get",
                "pods",
                "-o",
                "custom-columns=NAME:.metadata.name,IP:.status.podIPs[*].ip,L:.metadata.labels",
            ],
            (
                0,
                lines(
                    "NAME                            IP           L",
                    "crash-loop-pod-with-long-name   <none>       map[app:x]",
                    "pend                            <none>       <none>",
                    "web                             10.244.0.5   map[app:web tier:fe]",
                ),
                "",
            ),
            id="custom-columns: <none>, Go map values",
        ),
        pytest.param(
            ["get", "pod", "web", "-o", "custom-columns=C:.spec.containers[*].name,X:.nope"],
            (0, lines("C     X", "c     <none>"), ""),
            id="custom-columns on one object",
        ),
        pytest.param(
            [
                "get",
                "pods",
                "-l",
                "app=web",
                "-o",
                "custom-columns=N:.metadata.name",
                "--no-headers",
            ],
            (0, "web\n", ""),
            id="custom-columns --no-headers",
        ),
        pytest.param(
            ["get", "pods", "-l", "app=none", "-o", "custom-columns=N:.metadata.name"],
            (0, "N\n", ""),
            id="custom-columns with nothing found: header only",
        ),
        pytest.param(
            ["get", "pods", "-o", "custom-columns=N"],
            (
                1,
                "",
                "error: unexpected custom-columns spec: N, expected <header>:<json-path-expr>\n",
            ),
            id="custom-columns bad spec",
        ),
        pytest.param(
            ["get", "pods", "-o", "foo"],
            (
                1,
                "",
                'error: unable to match a printer suitable for the output format "foo", '
                f"allowed formats are: {FORMATS}\n",
            ),
            id="unknown output format",
        ),
        pytest.param(
            ["get", "pods", "-l", "app=none"],
            (0, "", "No resources found in default namespace.\n"),
            id="nothing found in a namespace",
        ),
        pytest.param(
            ["get", "pods", "-n", "empty"],
            (0, "", "No resources found in empty namespace.\n"),
            id="nothing found in another namespace",
        ),
        pytest.param(
            ["get", "pods", "-A", "-l", "app=none"],
            (0, "", "No resources found\n"),
            id="nothing found with -A: no period",
        ),
        pytest.param(
            ["get", "nodes", "-l", "x=y"],
            (0, "", "No resources found\n"),
            id="nothing found, cluster-scoped",
        ),
        pytest.param(
            ["get", "pods", "-l", "app=none", "--ignore-not-found"],
            (0, "", ""),
            id="--ignore-not-found is silent",
        ),
        pytest.param(
            ["get", "pod", "b", "--ignore-not-found"], (0, "", ""), id="--ignore-not-found name"
        ),
        pytest.param(
            ["get", "foo"],
            (1, "", 'error: the server doesn\'t have a resource type "foo"\n'),
            id="unknown resource type",
        ),
        pytest.param(
            ["get", "events"],
            (
                0,
                lines(
                    "LAST SEEN   TYPE     REASON   OBJECT    MESSAGE",
                    '0s          Normal   Pulled   pod/web   Container image "nginx" already '
                    "present on machine",
                ),
                "",
            ),
            id="get events",
        ),
        pytest.param(
            ["get", "events", "-o", "wide"],
            (
                0,
                lines(
                    "LAST SEEN   TYPE     REASON   OBJECT    SUBOBJECT            SOURCE          "
                    " MESSAGE                                              FIRST SEEN   COUNT"
                    "   NAME",
                    "0s          Normal   Pulled   pod/web   spec.containers{c}   kubelet, node1  "
                    ' Container image "nginx" already present on machine   0s           1       '
                    "web.18867251edfa0000",
                ),
                "",
            ),
            id="get events -o wide",
        ),
        pytest.param(
            ["get", "nodes"],
            (
                0,
                lines(
                    "NAME    STATUS   ROLES           AGE   VERSION",
                    "node1   Ready    control-plane   10d   v1.32.5",
                ),
                "",
            ),
            id="get nodes",
        ),
        pytest.param(
            ["get", "nodes", "-A"],
            (
                0,
                lines(
                    "NAME    STATUS   ROLES           AGE   VERSION",
                    "node1   Ready    control-plane   10d   v1.32.5",
                ),
                "",
            ),
            id="get nodes -A: no NAMESPACE for a cluster-scoped kind",
        ),
        pytest.param(
            ["get", "nodes", "-o", "wide"],
            (
                0,
                lines(
                    "NAME    STATUS   ROLES           AGE   VERSION   INTERNAL-IP    EXTERNAL-IP  "
                    " OS-IMAGE             KERNEL-VERSION   CONTAINER-RUNTIME",
                    "node1   Ready    control-plane   10d   v1.32.5   192.168.49.2   <none>       "
                    " Ubuntu 22.04.4 LTS   6.1.0            docker://27.4.1",
                ),
                "",
            ),
            id="get nodes -o wide",
        ),
        pytest.param(
            ["get", "pods", "-l", "app=none", "-o", "yaml"],
            (0, 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n', ""),
            id="-o yaml of nothing: an empty List",
        ),
        pytest.param(
            ["get", "pods", "-l", "app=none", "-o", "json"],
            (
                0,
                '{\n    "apiVersion": "v1",\n    "items": [],\n    "kind": "List",\n'
                '    "metadata": {\n        "resourceVersion": ""\n    }\n}\n',
                "",
            ),
            id="-o json of nothing: an empty List",
        ),
        pytest.param(
            ["get", "pod", "b", "-o", "json"], (1, "", NOT_FOUND_B), id="-o json, missing name"
        ),
    ],
)
def test_get(
    seeded: Store,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: tuple[int, str, str],
) -> None:
    assert run(capsys, *argv) == expected


WEB_YAML = """apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "2025-12-31T23:54:55Z"
  labels:
    app: web
    tier: fe
  name: web
  namespace: default
  resourceVersion: "1"
  uid: uid-web
spec:
  containers:
  - image: nginx
    name: c
  nodeName: node1
status:
  conditions:
  - status: "True"
    type: Ready
  containerStatuses:
  - lastState:
      terminated:
        exitCode: 1
        finishedAt: "2025-12-31T23:59:16Z"
    name: c
    ready: true
    restartCount: 3
    state:
      running:
        startedAt: "2025-12-31T23:55:00Z"
  phase: Running
  podIPs:
  - ip: 10.244.0.5
"""


def test_yaml_single_object_is_bare(seeded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "get", "pod", "web", "-o", "yaml") == (0, WEB_YAML, "")


def test_yaml_list_wraps_items_with_kind(seeded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "pods", "-l", "app=web", "-o", "yaml")
    item = "".join(
        ("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(WEB_YAML.splitlines())
    )
    assert (code, err) == (0, "")
    assert out == f'apiVersion: v1\nitems:\n{item}kind: List\nmetadata:\n  resourceVersion: ""\n'


def test_json_list_sorted_four_spaces(seeded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "po", "web", "b", "-o", "json")
    assert (code, err) == (1, NOT_FOUND_B)  # the found one printed in a List, then the error
    assert out.startswith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n')
    assert out.endswith(
        '    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n'
    )
    listed = json.loads(out)
    assert [(i["kind"], i["apiVersion"], i["metadata"]["name"]) for i in listed["items"]] == [
        ("Pod", "v1", "web")
    ]
    assert out == json.dumps(listed, indent=4, sort_keys=True) + "\n"


def test_json_single_object(seeded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "pod", "web", "-o", "json")
    assert code == 0 and out.startswith('{\n    "apiVersion": "v1",\n    "kind": "Pod",\n')
    assert json.loads(out)["metadata"]["uid"] == "uid-web"


def test_watch_prints_the_table_then_a_row_per_change(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`get pods -w`: the listed table, then one row per watch frame, widths remembered."""
    import json as _json
    from collections.abc import Iterator
    from datetime import UTC, datetime
    from typing import Any

    from minikubelet.cli import client as agent
    from minikubelet.printers.tables import table

    now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)

    def pod(name: str, phase: str, ready: bool) -> dict[str, Any]:
        status = {
            "phase": phase,
            "containerStatuses": [
                {"name": "c", "ready": ready, "restartCount": 0, "state": {"running": {}}}
            ],
        }
        return {
            "metadata": {
                "name": name,
                "namespace": "default",
                "creationTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": status,
        }

    class Stub:
        def __enter__(self) -> Stub:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def request(self, method: str, path: str, **kw: Any) -> Any:
            return table("Pod", [pod("web", "Running", False)], now, "5")

        def stream_lines(self, path: str, **kw: Any) -> Iterator[bytes]:
            assert kw["watch"] == "true" and kw["resourceVersion"] == "5"
            for obj in (pod("web", "Running", True), pod("a-much-longer-name", "Pending", False)):
                frame = {"type": "MODIFIED", "object": table("Pod", [obj], now)}
                yield (_json.dumps(frame) + "\n").encode()

    monkeypatch.setattr(agent, "connect", lambda paths=None: Stub())
    code = main(["get", "pods", "-w"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "NAME   READY   STATUS    RESTARTS   AGE",
        "web    0/1     Running   0          60s",
        "web    1/1     Running   0          60s",
        "a-much-longer-name   0/1     Pending   0          60s",
    ]
