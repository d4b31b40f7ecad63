"""The live view's server without a browser: only the right token and a loopback Host get in
(anything else: 401 and nothing else), the page and its files carry a strict policy, and the
socket API tells the CLI the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.cli.main import main
from minikubelet.clock import FakeClock
from minikubelet.server import ApiDeps, create_app
from minikubelet.server.dashboard import DashboardListener
from minikubelet.server.dashboard.listener import TokenInQuery
from minikubelet.server.dashboard.routes import dashboard_app, sse
from minikubelet.store import Store

TOKEN = "s3cret-token"
PORT = 41234


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        yield opened


@pytest.fixture
def page(store: Store) -> Iterator[TestClient]:
    deps = ApiDeps(store=store, clock=FakeClock(), node_name="node1")
    app = TokenInQuery(dashboard_app(deps), TOKEN, PORT)
    with TestClient(app, base_url=f"http://127.0.0.1:{PORT}") as client:
        yield client


@pytest.mark.parametrize(
    ("path", "host"),
    [
        pytest.param("/", None, id="no token"),
        pytest.param("/?token=wrong", None, id="wrong token"),
        pytest.param(f"/?token={TOKEN}x", None, id="a longer token"),
        pytest.param("/static/app.js?token=", None, id="empty token"),
        pytest.param("/api/pods?token=wrong", None, id="the stream"),
        pytest.param(f"/?token={TOKEN}", f"evil.example:{PORT}", id="another Host (rebinding)"),
        pytest.param(f"/?token={TOKEN}", "127.0.0.1:1", id="another port"),
    ],
)
def test_anything_but_the_token_gets_401_and_nothing_else(
    page: TestClient, path: str, host: str | None
) -> None:
    answer = page.get(path, headers={"Host": host} if host else None)
    assert (answer.status_code, answer.content) == (401, b"")


def test_the_page_and_its_files(page: TestClient) -> None:
    answer = page.get(f"/?token={TOKEN}")
    assert answer.status_code == 200
    assert f"/static/app.js?token={TOKEN}" in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    script = page.get(f"/static/app.js?token={TOKEN}", headers={"Host": f"localhost:{PORT}"})
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text and "http" not in script.text.split("SVG =")[0]
    assert page.get(f"/static/other.js?token={TOKEN}").status_code == 404
    assert page.post(f"/?token={TOKEN}").status_code == 405  # read-only: GET only


def test_server_sent_events_are_one_line_of_json() -> None:
    assert sse("entry", {"a": "x\ny"}) == b'event: entry\ndata: {"a":"x\\ny"}\n\n'


def test_the_listener_is_loopback_with_a_fresh_token() -> None:
    one, two = DashboardListener(), DashboardListener()
    try:
        assert one.sock.getsockname()[0] == "127.0.0.1" and one.port != two.port
        assert one.token != two.token and len(one.token) >= 32
        assert one.url == f"http://127.0.0.1:{one.port}/?token={one.token}"
    finally:
        one.sock.close()
        two.sock.close()


def test_dashboard_prints_the_url(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from minikubelet.cli import client as agent
    from minikubelet.cli.transport import HttpxTransport
    from minikubelet.paths import StatePaths

    url = f"http://127.0.0.1:{PORT}/?token={TOKEN}"
    deps = ApiDeps(store=store, clock=FakeClock(), node_name="n", dashboard_url=url)
    with TestClient(create_app(deps), base_url="http://minikubelet") as http:
        transport = HttpxTransport(http)
        monkeypatch.setattr(
            agent,
            "connect",
            lambda paths=None: agent.ApiClient(StatePaths(tmp_path), transport=transport),
        )
        assert main(["dashboard", "--no-open"]) == 0
    assert capsys.readouterr().out == url + "\n"
