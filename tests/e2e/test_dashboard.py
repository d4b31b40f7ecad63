"""Issue 21: the live view in headless Chromium (Debian's chromium and chromium-driver, through
Selenium) with the seed's webapl in short timings (`manifests/webapl-pod-short.yaml`: ready
after 5 s, /healthz failing after 14 s, probes every 2 s, grace 3 s). Without a reload, the page
shows the READY change and a probe failure within a few seconds of them, then why the liveness
kill restarted the container; a wrong token gets 401 and nothing else."""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikubelet.api.codec import parse_time
from minikubelet.api.raw import JSON
from minikubelet.clock import RealClock, poll
from minikubelet.printers.duration import human_duration
from tests.e2e.conftest import ROOT, Agent
from tests.needs import unavailable

pytestmark = pytest.mark.e2e

MANIFEST = ROOT / "manifests" / "webapl-pod-short.yaml"
HISTORY = "/minikubelet/v1/namespaces/default/pods/webapl/probes"
PROMPT = 5.0  # "within a few seconds": the page after the node, on a loaded machine
# HumanDuration's edges (s): the page moves AGE on by itself and must print what kubectl prints
EDGES = [-2, -1, 0, 59, 119, 120, 121, 599, 600, 601, 10799, 10800, 10860, 28799, 28800]
EDGES += [172799, 172800, 176400, 691199, 691200, 63071999, 63072000, 63158400, 252288000]
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        unavailable(
            "chromium or chromedriver is not installed",
            "apt-get install -y chromium chromium-driver",
        )
    try:
        from selenium import webdriver
    except ImportError:
        unavailable("selenium is not installed", "make setup installs the dev extras")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = webdriver.ChromeService(executable_path=driver)
    session = webdriver.Chrome(options=options, service=service)
    try:
        yield session
    finally:
        session.quit()


def _status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def _within(what: Callable[[], Any], seconds: float, why: str) -> Any:
    """Poll the page until `what()` holds. The page re-renders as updates arrive, so an element
    found one moment may be replaced before it is read (selenium's stale element): that read
    is not an answer, and the next poll looks again."""
    from selenium.common.exceptions import StaleElementReferenceException

    box: list[Any] = []

    def check() -> bool:
        try:
            value = what()
        except StaleElementReferenceException:
            return False
        if value:
            box.append(value)
        return bool(value)

    assert poll(check, seconds, 0.1), f"the page did not show {why} within {seconds:.0f}s"
    return box[0]


def _history(agent: Agent) -> list[JSON]:
    items: list[JSON] = agent.api.request("GET", HISTORY)["items"]
    return items


def test_the_page_follows_webapl_live(agent: Agent, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url = str(agent.api.request("GET", "/minikubelet/v1/dashboard")["url"])
    assert url.startswith("http://127.0.0.1:") and "?token=" in url
    base, token = url.split("?token=")
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # 1 in 64 tokens ends in x
    assert _status(base + "?token=" + wrong) == (401, b"")  # nothing else
    assert _status(base + "api/pods") == (401, b"")
    assert _status(url)[0] == 200

    agent.apply(yaml.safe_load(MANIFEST.read_text()))
    browser.get(url + "#pod=default/webapl")
    browser.execute_script("window.notReloaded = true")

    def cell(column: str) -> str:
        found = browser.find_elements(
            By.CSS_SELECTOR, f'#pods tr[data-pod="default/webapl"] td[data-col="{column}"]'
        )
        return str(found[0].text) if found else ""

    _within(lambda: cell("READY") == "0/1", 30, "webapl at READY 0/1")
    in_page = browser.execute_script("return arguments[0].map(human)", EDGES)
    assert in_page == [human_duration(timedelta(seconds=s)) for s in EDGES]
    created = parse_time(agent.pod("webapl")["metadata"]["creationTimestamp"])

    def age_as_get() -> bool:  # the second may turn while the cell is read
        clock = RealClock()
        before = human_duration(clock.utcnow() - created)
        shown = cell("AGE")
        return shown in (before, human_duration(clock.utcnow() - created))

    _within(age_as_get, PROMPT, "AGE as `get` prints it")

    # a probe failure: as soon as the node has recorded one, the chart draws it
    first = agent.wait_for(
        lambda: [e for e in _history(agent) if e.get("result") == "failure"], 30, "a failure"
    )
    probe = first[0]["probe"]
    _within(
        lambda: browser.find_elements(
            By.CSS_SELECTOR, f'#chart g.mark.probe.failure[data-probe="{probe}"]'
        ),
        PROMPT,
        f"the {probe} failure",
    )

    # the READY change: 1/1 within a few seconds of the node's status saying so
    agent.wait_for(
        lambda: all(c.get("ready") for c in agent.pod("webapl")["status"]["containerStatuses"]),
        60,
        "webapl Ready",
    )
    _within(lambda: cell("READY") == "1/1", PROMPT, "READY 1/1")
    _within(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#chart g.ready.true"),
        PROMPT,
        "the Ready row turning Ready",
    )

    # the liveness kill and the restart, with why
    restarted = agent.wait_for(
        lambda: [
            e
            for e in _history(agent)
            if e.get("event") == "Started" and e.get("instance", 0) >= 1 and e.get("cause")
        ],
        90,
        "the restart and its cause",
    )
    summary = restarted[0]["cause"]["summary"]
    assert summary.startswith("killed: liveness probe: failure 3 of 3"), summary
    causes = _within(
        lambda: [
            li.text
            for li in browser.find_elements(By.CSS_SELECTOR, "#causes li.cause")
            if "because liveness probe: failure 3 of 3" in li.text
        ],
        PROMPT,
        "the restart's cause",
    )
    assert any("statuscode: 500" in text for text in causes), causes
    _within(lambda: cell("RESTARTS").startswith("1"), PROMPT, "RESTARTS 1")
    _within(
        lambda: re.fullmatch(r"1 \(\d+s ago\)", cell("RESTARTS")),
        PROMPT,
        "RESTARTS 1 with when, as `get` prints it",
    )
    _within(age_as_get, PROMPT, "AGE moved on, as `get` prints it")  # some 20 s on
    _within(
        lambda: "Killing" in browser.find_element(By.ID, "events").text,
        PROMPT,
        "the Killing event",
    )

    # a mark's details on click
    def click_killed() -> bool:  # the chart is drawn again each second: a mark may go stale
        marks = browser.find_elements(By.CSS_SELECTOR, "#chart g.mark.container.Killed")
        if marks:
            marks[0].click()
        return bool(marks)

    _within(click_killed, PROMPT, "the kill's mark")
    details = browser.find_element(By.ID, "details").text
    assert "because liveness probe: failure 3 of 3" in details, details
    assert browser.execute_script("return window.notReloaded === true")  # never reloaded
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
