"""`probes` and `timeline` through the real API app over a real store, in-process."""

from __future__ import annotations

import json

import pytest

from minikubelet.cli.main import main
from minikubelet.store import Store
from minikubelet.store.probes import Row
from tests.printers.timeline_data import ENTRIES, POD

FAIL = "HTTP probe failed with statuscode: 500"


@pytest.fixture(autouse=True)
def history(store: Store) -> None:
    store.create("Pod", POD)
    store.probes.append([Row("u1", "default", "webapl", r) for r in ENTRIES])


def test_probes_table_tail(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probes", "webapl", "--tail", "3"]) == 0
    assert (
        capsys.readouterr().out
        == (
            "TIME   CONTAINER   PROBE       RESULT    COUNT              LATENCY   MESSAGE\n"
            f"1.7s   webapl#1    readiness   Failure   failure 2 of 3     2ms       {FAIL}\n"
            f"2.7s   webapl#1    readiness   Failure   failure 3 of 3     2ms       {FAIL}\n"
            "2.8s   webapl#1    liveness    Unknown   ignored: errored   2ms       "
            'Get "http://172.18.0.2:3000/healthz": context deadline exceeded\n'
        )[:None]
    )


def test_probes_wide_shows_what_the_handler_saw(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probes", "webapl", "--tail", "2", "-o", "wide"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == "TIME CONTAINER PROBE RESULT COUNT LATENCY MESSAGE DETAIL".split()
    assert lines[1].endswith('HTTP 500, headers 98 B, body "unhealthy\\n"')
    assert lines[2].endswith("-")  # the errored attempt: no response to show


def test_timeline_prints_why_it_restarted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "webapl", "--width", "100"]) == 0
    out = capsys.readouterr().out
    notes = out[out.index("restarts:") :].splitlines()
    assert notes[1].strip().startswith("11.6s  killed   webapl #0")
    assert notes[2].strip() == f"because liveness probe: failure 3 of 3: {FAIL}"
    assert [n.split()[2:5] for n in notes[3:6]] == [["failure", f"{k}", "of"] for k in (1, 2, 3)]
    assert "last lines logged:" in out and "GET /healthz 500" in out
    assert "Ready=True" in out and "because readiness probe: success 1 of 1: OK" in out


def test_probes_json_and_container_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probes", "webapl", "-c", "other", "-o", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["kind"] == "PodProbeHistory" and body["apiVersion"] == "minikubelet/v1"
    assert {r["kind"] for r in body["items"]} == {"Condition"}  # conditions belong to all
    assert main(["probes", "webapl", "-o", "json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert len(items) == len(ENTRIES)
    assert [r["seq"] for r in items] == sorted(r["seq"] for r in items)


def test_probes_of_a_missing_pod(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probes", "nope"]) == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): pods "nope" not found\n'


def test_timeline_piped_is_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "webapl", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert out.isascii()
    assert "liveness   period=1s #failure=3" in out
    assert "killed   webapl #0: Container webapl failed liveness probe" in out


def test_timeline_svg(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "webapl", "-o", "svg"]) == 0
    assert capsys.readouterr().out.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
