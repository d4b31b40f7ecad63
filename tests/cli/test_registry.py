"""A kind is one registry entry plus its own modules: a test-only kind, registered here and
nowhere else, is created, read (Table and JSON), listed, watched, labeled, deleted and
discovered through the same server and CLI as the Pod."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from minikubelet.api.kinds import Kind, lookup, register, unregister
from minikubelet.api.raw import JSON
from minikubelet.api.strategy import ObjectStrategy
from minikubelet.api.validation.field import FieldError, Path, required
from minikubelet.cli.main import main
from minikubelet.clock import FakeClock
from minikubelet.printers.tables import TablePrinter
from minikubelet.server import ApiDeps, create_app
from minikubelet.store import Store


class WidgetStrategy(ObjectStrategy):
    kind = "Widget"

    def defaults(self, obj: JSON) -> None:
        obj.setdefault("spec", {}).setdefault("size", 1)

    def validate(self, obj: JSON) -> list[FieldError]:
        if not (obj.get("spec") or {}).get("color"):
            return [required(Path("spec").child("color"))]
        return []


def widget_row(obj: JSON, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    return [obj["metadata"]["name"], spec.get("color", ""), spec.get("size", 0)]


WIDGET_TABLE = TablePrinter(
    [("Name", "string", "name", 0), ("Color", "string", "", 0), ("Size", "integer", "", 1)],
    widget_row,
)
WIDGET_STRATEGY = WidgetStrategy()
WIDGET = Kind(
    kind="Widget",
    plural="widgets",
    singular="widget",
    group="toys.example.com",
    version="v1alpha1",
    short_names=("wd",),
    table=f"{__name__}:WIDGET_TABLE",
    strategy=f"{__name__}:WIDGET_STRATEGY",
)
MANIFEST = """\
apiVersion: toys.example.com/v1alpha1
kind: Widget
metadata:
  name: blue
spec:
  color: blue
"""


@pytest.fixture(autouse=True, scope="module")
def widget() -> Iterator[Kind]:
    register(WIDGET)
    yield WIDGET
    unregister(WIDGET)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lookup_by_every_name() -> None:
    for word in ("widgets", "widget", "wd", "Widget", "widgets.toys.example.com"):
        assert lookup(word) is WIDGET
    assert WIDGET.path("ns", "x") == "/apis/toys.example.com/v1alpha1/namespaces/ns/widgets/x"


def test_create_get_label_delete_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, store: Store
) -> None:
    manifest = tmp_path / "widget.yaml"
    manifest.write_text(MANIFEST)
    assert run(capsys, "apply", "-f", str(manifest)) == (
        0,
        "widget.toys.example.com/blue created\n",
        "",
    )
    code, out, _ = run(capsys, "get", "widgets", "-o", "wide")
    assert code == 0 and out.split("\n")[:2] == ["NAME   COLOR   SIZE", "blue   blue    1"]
    code, out, _ = run(capsys, "get", "wd", "blue", "-o", "json")
    shown = json.loads(out)
    assert shown["apiVersion"] == "toys.example.com/v1alpha1" and shown["kind"] == "Widget"
    assert shown["spec"] == {"color": "blue", "size": 1}
    assert run(capsys, "label", "widget", "blue", "tier=toy") == (
        0,
        "widget.toys.example.com/blue labeled\n",
        "",
    )
    assert store.get("Widget", "default", "blue")["metadata"]["labels"] == {"tier": "toy"}
    code, out, _ = run(capsys, "get", "widgets", "-l", "tier=toy", "-o", "name")
    assert out == "widget/blue\n"
    assert run(capsys, "delete", "widget", "blue") == (
        0,
        'widget.toys.example.com "blue" deleted\n',
        "",
    )
    assert run(capsys, "get", "widgets")[2] == "No resources found in default namespace.\n"


def test_validation_and_defaulting_come_from_the_strategy(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    manifest = tmp_path / "widget.yaml"
    manifest.write_text(MANIFEST.replace("  color: blue\n", "  size: 3\n"))
    code, _, err = run(capsys, "create", "-f", str(manifest))
    assert code == 1
    assert 'The Widget "blue" is invalid: spec.color: Required value' in err


def test_discovery_lists_the_group(api: TestClient) -> None:
    groups = api.get("/apis").json()["groups"]
    gv = {"groupVersion": "toys.example.com/v1alpha1", "version": "v1alpha1"}
    assert {"name": "toys.example.com", "versions": [gv], "preferredVersion": gv} in groups
    resources = api.get("/apis/toys.example.com/v1alpha1").json()
    assert resources["groupVersion"] == "toys.example.com/v1alpha1"
    assert resources["resources"] == [
        {
            "name": "widgets",
            "singularName": "widget",
            "namespaced": True,
            "kind": "Widget",
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            "shortNames": ["wd"],
        }
    ]
    index = api.get("/openapi/v3").json()["paths"]
    assert "apis/toys.example.com/v1alpha1" in index
    doc = api.get("/openapi/v3/apis/toys.example.com/v1alpha1").json()
    assert "/apis/toys.example.com/v1alpha1/namespaces/{namespace}/widgets/{name}" in doc["paths"]


async def _first_frames(app: Any, path: str, count: int) -> list[JSON]:
    """Drive the ASGI app until `count` watch frames arrived, then disconnect."""
    frames: list[JSON] = []
    buffer = bytearray()
    enough = anyio.Event()
    started = False

    async def receive() -> JSON:
        nonlocal started
        if not started:
            started = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await enough.wait()
        return {"type": "http.disconnect"}

    async def send(message: JSON) -> None:
        if message["type"] == "http.response.body":
            buffer.extend(message.get("body", b""))
            while b"\n" in buffer:
                line, _, rest = bytes(buffer).partition(b"\n")
                buffer[:] = rest
                frames.append(json.loads(line))
            if len(frames) >= count:
                enough.set()

    target, _, query = path.partition("?")
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"minikubelet")],
        "scheme": "http",
        "server": ("minikubelet", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(app, scope, receive, send)
            await enough.wait()
            tg.cancel_scope.cancel()
    return frames


def test_watch_streams_the_kind(store: Store) -> None:
    def create(name: str) -> JSON:
        body = {"metadata": {"name": name}, "spec": {"color": name}}
        created, _ = WIDGET_STRATEGY.create(body, "default", FakeClock().utcnow())
        return store.create("Widget", created)

    before = create("green")["metadata"]["resourceVersion"]
    create("red")
    store.delete("Widget", "default", "red")
    app = create_app(ApiDeps(store=store, clock=FakeClock(), node_name="node1"))
    path = f"{WIDGET.path('default')}?watch=true&resourceVersion={before}"
    frames = anyio.run(_first_frames, app, path, 2)
    assert [f["type"] for f in frames] == ["ADDED", "DELETED"]
    assert frames[0]["object"]["apiVersion"] == "toys.example.com/v1alpha1"
    assert frames[0]["object"]["spec"] == {"color": "red", "size": 1}
