"""SIGKILL the agent at random moments during a churn, restart it, and check what it kept.

One trial: a thread churns (creates, image updates, deletes) against the agent while a
crash-looping pod restarts; at a random moment the agent is SIGKILLed, the churn stops (the
request in flight, if any, is "unknown": acknowledged or not, both outcomes are allowed), the
agent is started again, and then:

- no pod lost: every pod the API acknowledged and nobody deleted is there, with its uid;
- restart counts and event counts never decrease (against the figures read before the trial);
- no container duplicated: at every sample until convergence, at most one running engine
  container per (pod uid, container name), sandbox included;
- with the node's warm sandboxes on (the agent's default pool of 2): a claimed spare counts as
  its pod's sandbox (its pod is in its name, as the runtime reads it), an unclaimed one as no
  pod's; after convergence at most the pool's size of them exist (none leaked by a kill in the
  middle of a claim or a refill), and no pod has two sandboxes;
- convergence within a deadline: every pod Running with its container on the image its spec
  asks for, every acknowledged deletion gone from the store, and no orphan (no container of
  this agent's instance whose pod uid is not in the store).

`bench/faults/agent_kill.py` runs the same trials (≥ 50, seeded) and reports figures.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from minikubelet.cli.client import AgentUnavailable, ApiClient
from minikubelet.clock import poll
from minikubelet.errors import Conflict, NotFound
from minikubelet.paths import StatePaths
from minikubelet.runtime.types import LABEL_CONTAINER, LABEL_INSTANCE, sandbox_owner
from tests.e2e.conftest import ROOT, Agent, _cleanup_engine, _spawn, _wait_healthy
from tests.e2e.pods import BASE, WEBAPL, pod, sh, status_of

IMAGES = (BASE, WEBAPL)
POOL = 2  # the agent's default --sandbox-pool
MAX_PODS = 5
CRASHY = "crashy"
CONVERGE_DEADLINE = 60.0
FIRST_OP_DEADLINE = 30.0  # seconds for the churn's first acknowledged operation
PODS = "/api/v1/namespaces/default/pods"


@dataclass
class Ledger:
    """What the API acknowledged, across trials."""

    pods: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (uid, image)
    deleted: dict[str, str] = field(default_factory=dict)  # uid -> name, deletion acknowledged
    restarts: dict[tuple[str, str], int] = field(default_factory=dict)  # (uid, container)
    events: dict[str, int] = field(default_factory=dict)  # event name -> count
    created: int = 0


@dataclass
class TrialResult:
    ops: int  # operations the API acknowledged before the kill
    kill_after: float  # seconds after the churn's first acknowledged operation
    converge_seconds: float | None
    problems: list[str]
    done: Counter[str] = field(default_factory=Counter)  # created, updated, deleted, conflict


def _app(image: str) -> dict[str, Any]:
    return sh("app", "trap 'exit 0' TERM; sleep 600 & wait", image=image)


class Churn(threading.Thread):
    """Random creates, image updates and deletes until the agent is killed under it.

    Every operation is counted by what it did; the churn ends only by the kill (the agent stops
    answering after `killed` is set) or by `stop`. Any other error (a 500, a bug in this
    helper) ends it as a `failure`, which the trial reports."""

    def __init__(self, agent: Agent, ledger: Ledger, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.agent, self.ledger, self.rng = agent, ledger, rng
        self.stop = threading.Event()
        self.killed = threading.Event()  # set by the trial just before the SIGKILL
        self.first = threading.Event()  # the first operation was acknowledged
        self.done: Counter[str] = Counter()
        self.failure: str | None = None
        self.unknown: str | None = None  # the pod whose request was in flight at the kill

    @property
    def ops(self) -> int:
        return sum(n for what, n in self.done.items() if what != "conflict")

    def run(self) -> None:
        while not self.stop.is_set():
            names = [n for n in self.ledger.pods if n != CRASHY]
            choice = self.rng.random()
            try:
                if not names or (choice < 0.45 and len(names) < MAX_PODS):
                    self.done[self._op_create()] += 1
                elif choice < 0.8:
                    self.done[self._op_update(self.rng.choice(names))] += 1
                else:
                    self.done[self._op_delete(self.rng.choice(names))] += 1
            except AgentUnavailable as exc:
                if not self.killed.is_set():
                    self.failure = f"the agent stopped answering before the kill: {exc}"
                return
            except Exception as exc:  # a 500, a bug here: not the kill
                self.failure = f"{type(exc).__name__}: {exc}"
                return
            if self.ops:
                self.first.set()
            time.sleep(self.rng.uniform(0.0, 0.25))

    def _op_create(self) -> str:
        self.ledger.created += 1
        name = f"k{self.ledger.created}"
        image = self.rng.choice(IMAGES)
        self.unknown = name
        created = self.agent.apply(pod(name, _app(image)))
        self.ledger.pods[name] = (created["metadata"]["uid"], image)
        self.unknown = None
        return "created"

    def _op_update(self, name: str) -> str:
        current = self.agent.pod(name)
        image = IMAGES[1 - IMAGES.index(current["spec"]["containers"][0]["image"])]
        current["spec"]["containers"][0]["image"] = image
        current.pop("status", None)
        self.unknown = name
        try:
            self.agent.api.request("PUT", f"{PODS}/{name}", body=current)
        except Conflict:  # the node wrote status meanwhile: not acknowledged, try later
            self.unknown = None
            return "conflict"
        self.ledger.pods[name] = (self.ledger.pods[name][0], image)
        self.unknown = None
        return "updated"

    def _op_delete(self, name: str) -> str:
        self.unknown = name
        self.agent.api.request("DELETE", f"{PODS}/{name}")
        uid, _ = self.ledger.pods.pop(name)
        self.ledger.deleted[uid] = name
        self.unknown = None
        return "deleted"


def _engine_containers(agent: Agent, running_only: bool) -> list[dict[str, str]]:
    """The labels of this agent's containers, from one list call (docker-py's high-level list
    inspects each container and races with their removal)."""
    client = docker.from_env()
    try:
        selector = {"label": f"{LABEL_INSTANCE}={agent.instance}"}
        found = client.api.containers(all=not running_only, filters=selector)
        return [{**c["Labels"], "name": c["Names"][0]} for c in found]
    finally:
        client.close()


def _owner(container: dict[str, str]) -> str | None:
    """The pod uid a container belongs to (a claimed warm sandbox: by its name); None for a
    warm sandbox no pod has claimed."""
    owner = sandbox_owner(container, container["name"])
    return owner[2] if owner is not None else None


def _spares(agent: Agent) -> list[str]:
    return [c["name"] for c in _engine_containers(agent, False) if _owner(c) is None]


def _duplicates(agent: Agent) -> list[str]:
    counts = Counter(
        (_owner(c), c.get(LABEL_CONTAINER, ""))
        for c in _engine_containers(agent, running_only=True)
        if _owner(c) is not None
    )
    return [f"duplicated: {uid}/{name} x{n}" for (uid, name), n in counts.items() if n > 1]


def _stored(agent: Agent) -> dict[str, dict[str, Any]]:
    items: list[dict[str, Any]] = agent.api.request("GET", PODS)["items"]
    return {p["metadata"]["name"]: p for p in items}


def _counters(agent: Agent, ledger: Ledger, problems: list[str]) -> None:
    """Restart and event counts read now, checked against the highest seen so far."""
    for name, obj in _stored(agent).items():
        for status in obj.get("status", {}).get("containerStatuses") or []:
            key = (obj["metadata"]["uid"], status["name"])
            count = int(status.get("restartCount") or 0)
            if count < ledger.restarts.get(key, 0):
                problems.append(
                    f"restartCount of {name}/{key[1]} went {ledger.restarts[key]}->{count}"
                )
            ledger.restarts[key] = max(count, ledger.restarts.get(key, 0))
    live = {uid for uid, _ in ledger.pods.values()}
    events: list[dict[str, Any]] = agent.api.request("GET", "/api/v1/namespaces/default/events")[
        "items"
    ]
    seen = {e["metadata"]["name"]: int(e.get("count") or 1) for e in events}
    for name, count in list(ledger.events.items()):
        if name not in seen:
            problems.append(f"event {name} lost")
        elif seen[name] < count:
            problems.append(f"event {name} count went {count}->{seen[name]}")
    for event in events:
        if event.get("involvedObject", {}).get("uid") in live:
            name = event["metadata"]["name"]
            ledger.events[name] = max(seen[name], ledger.events.get(name, 0))


def _lost(agent: Agent, ledger: Ledger, unknown: str | None) -> list[str]:
    """Pods the API acknowledged that the restarted agent does not have; the unknown one is
    taken as the store has it."""
    stored = _stored(agent)
    problems = []
    for name, (uid, image) in list(ledger.pods.items()):
        found = stored.get(name)
        if name == unknown:
            continue
        if found is None:
            problems.append(f"lost: {name} ({uid})")
        elif found["metadata"]["uid"] != uid:
            problems.append(f"replaced: {name} {uid} -> {found['metadata']['uid']}")
        elif found["spec"]["containers"][0]["image"] != image:
            problems.append(f"update lost: {name} wants {image}")
    if unknown is not None:
        found = stored.get(unknown)
        if found is None:
            uid = ledger.pods.pop(unknown, ("", ""))[0]
            if uid:
                ledger.deleted[uid] = unknown
        elif not found["metadata"].get("deletionTimestamp"):
            image = found["spec"]["containers"][0]["image"]
            ledger.pods[unknown] = (found["metadata"]["uid"], image)
        else:
            ledger.pods.pop(unknown, None)
            ledger.deleted[found["metadata"]["uid"]] = unknown
    return problems


def _converged(agent: Agent, ledger: Ledger) -> bool:
    stored = _stored(agent)
    for name, (uid, image) in ledger.pods.items():
        found = stored.get(name)
        if found is None or found["metadata"]["uid"] != uid:
            return False
        state = status_of(found, "app")
        if name == CRASHY:
            continue
        if not (state.get("state") or {}).get("running") or state.get("image") != image:
            return False
    uids = {p["metadata"]["uid"] for p in stored.values()}
    if any(uid in uids for uid in ledger.deleted):
        return False
    mine = [c for c in _engine_containers(agent, False) if _owner(c) is not None]
    return all(_owner(c) in uids for c in mine) and len(_spares(agent)) <= POOL


def _ensure_crashy(agent: Agent, ledger: Ledger) -> None:
    if CRASHY not in ledger.pods:
        created = agent.apply(pod(CRASHY, sh("app", "sleep 1; exit 1")))
        ledger.pods[CRASHY] = (created["metadata"]["uid"], BASE)


def trial(agent: Agent, ledger: Ledger, rng: random.Random) -> TrialResult:
    """One kill during a churn; the agent must be running and converged when called."""
    problems: list[str] = []
    _ensure_crashy(agent, ledger)
    _counters(agent, ledger, problems)
    churn = Churn(agent, ledger, rng)
    kill_after = rng.uniform(0.2, 2.5)
    churn.start()
    if not churn.first.wait(FIRST_OP_DEADLINE):
        problems.append(f"the churn acknowledged nothing in {FIRST_OP_DEADLINE:.0f}s")
    time.sleep(kill_after)
    churn.killed.set()
    agent.kill()
    churn.stop.set()
    churn.join(30)
    if churn.is_alive():
        problems.append("the churn did not end after the kill")
    if churn.failure is not None:
        problems.append(f"the churn failed: {churn.failure}")
    agent.start()
    restarted = time.monotonic()
    problems += _lost(agent, ledger, churn.unknown)
    _counters(agent, ledger, problems)
    converged: float | None = None
    while time.monotonic() - restarted < CONVERGE_DEADLINE:
        for found in _duplicates(agent):
            if found not in problems:
                problems.append(found)
        if _converged(agent, ledger):
            converged = time.monotonic() - restarted
            break
        time.sleep(0.3)
    if converged is None:
        problems.append(f"not converged within {CONVERGE_DEADLINE:.0f}s: {_why(agent, ledger)}")
    _counters(agent, ledger, problems)
    return TrialResult(churn.ops, kill_after, converged, problems, Counter(churn.done))


def _why(agent: Agent, ledger: Ledger) -> str:
    stored = _stored(agent)
    notes = []
    for name, (_, image) in ledger.pods.items():
        found = stored.get(name)
        if found is None:
            notes.append(f"{name} missing")
            continue
        state = status_of(found, "app")
        notes.append(f"{name}: {list(state.get('state') or {})} {state.get('image')} want {image}")
    uids = {p["metadata"]["uid"] for p in stored.values()}
    orphans = [
        c["name"]
        for c in _engine_containers(agent, False)
        if _owner(c) is not None and _owner(c) not in uids
    ]
    orphans += [f"spares {_spares(agent)}"] if len(_spares(agent)) > POOL else []
    deleted = [n for uid, n in ledger.deleted.items() if uid in uids]
    return f"{notes}; orphans {orphans}; deletions pending {deleted}"


def clean_up_between_trials(agent: Agent, ledger: Ledger) -> None:
    """Keep the pod count bounded when many trials run on one agent."""
    for name in [n for n in ledger.pods if n != CRASHY][MAX_PODS:]:
        try:
            agent.api.request("DELETE", f"{PODS}/{name}")
        except NotFound:
            pass
        uid, _ = ledger.pods.pop(name)
        ledger.deleted[uid] = name


@pytest.mark.e2e
def test_agent_killed_at_random_during_churn(agent: Agent) -> None:
    rng = random.Random(20261125)
    ledger = Ledger()
    results = []
    for _ in range(5):
        results.append(trial(agent, ledger, rng))
    problems = [(i, p) for i, r in enumerate(results) for p in r.problems]
    assert problems == [], problems
    assert all(r.ops >= 1 for r in results), [r.done for r in results]
    assert sum(r.done["created"] for r in results) >= 1
    assert sum(r.done["updated"] + r.done["deleted"] for r in results) >= 1
    assert all(r.converge_seconds is not None for r in results)


# -- the engine goes away under the agent ---------------------------------------------------
# The machine's dockerd is shared and must not be stopped, so the agent is pointed (DOCKER_HOST)
# at a UNIX-socket forwarder of our own in front of it; cutting the forwarder (listener and
# every connection closed, the socket file removed) is the engine going away, for the agent.


class EngineProxy:
    """A UNIX-socket forwarder to the real engine that can be cut and restored."""

    def __init__(self, path: Path, target: str = "/var/run/docker.sock") -> None:
        self.path, self.target = path, target
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            listener.close()
        self.path.unlink(missing_ok=True)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                upstream.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Agent, EngineProxy]]:
    """A real agent whose engine is reached through an EngineProxy."""
    proxy = EngineProxy(Path(f"/tmp/mk-engine-{uuid.uuid4().hex[:10]}.sock"))
    proxy.start()
    monkeypatch.setenv("DOCKER_HOST", proxy.url)
    paths = StatePaths(tmp_path / "home")
    paths.ensure()
    api = ApiClient(paths)
    running = Agent(paths, _spawn(paths), api)
    try:
        _wait_healthy(running)
        yield running, proxy
    finally:
        running.stop()
        api.close()
        proxy.cut()
        monkeypatch.delenv("DOCKER_HOST")
        if paths.instance.exists():
            _cleanup_engine(running.instance)


def _cli(agent: Agent, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minikubelet", *argv],
        env={**os.environ, "MINIKUBELET_HOME": str(agent.paths.home)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def _app_id(agent: Agent, name: str) -> str:
    return str(status_of(agent.pod(name), "app").get("containerID") or "")


OUTAGE = 6.0


@pytest.mark.e2e
def test_engine_gone_and_back_api_answers_and_pods_are_adopted(
    proxied: tuple[Agent, EngineProxy],
) -> None:
    agent, proxy = proxied
    agent.apply(pod("steady", _app(BASE)))
    before = agent.wait_for(lambda: _app_id(agent, "steady"), 40, why="steady running")
    agent.wait_for(
        lambda: (status_of(agent.pod("steady"), "app").get("state") or {}).get("running"),
        40,
        why="steady running",
    )
    proxy.cut()
    cut_at = time.monotonic()
    agent.apply(pod("during", _app(BASE)))  # the API keeps taking writes
    while time.monotonic() - cut_at < OUTAGE:
        assert agent.process.poll() is None, "the agent exited when the engine went away"
        assert {p for p in _stored(agent)} == {"steady", "during"}
        time.sleep(0.5)
    listed = _cli(agent, "get", "pods")
    logs_ = _cli(agent, "logs", "steady")
    described = _cli(agent, "describe", "pod", "steady")
    proxy.start()
    assert listed.returncode == 0 and "steady" in listed.stdout and "during" in listed.stdout
    for done in (listed, logs_, described):
        assert "Traceback" not in done.stderr, done.stderr
    if logs_.returncode != 0:  # the engine holds the logs: an error in kubectl's form
        assert logs_.stderr.startswith(("Error from server", "error: ")), logs_.stderr
    assert described.returncode == 0 and "steady" in described.stdout
    agent.wait_for(
        lambda: (status_of(agent.pod("during"), "app").get("state") or {}).get("running"),
        60,
        why="the pod applied during the outage running once the engine is back",
    )
    steady = status_of(agent.pod("steady"), "app")
    assert steady.get("containerID") == before, "the running container was adopted, not replaced"
    assert steady.get("restartCount") == 0
    assert _duplicates(agent) == []
    log = agent.paths.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def _node_ready(agent: Agent) -> str:
    node = agent.api.request("GET", "/api/v1/nodes/e2e-node")
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status"))
    return ""


@pytest.mark.e2e
def test_engine_gone_node_reports_not_ready(proxied: tuple[Agent, EngineProxy]) -> None:
    agent, proxy = proxied
    assert _node_ready(agent) == "True"
    proxy.cut()
    try:
        agent.wait_for(lambda: _node_ready(agent) == "False", 15, why="node NotReady")
    finally:
        proxy.start()
    agent.wait_for(lambda: _node_ready(agent) == "True", 30, why="node Ready again")


def test_agent_started_without_an_engine_serves_with_the_node_not_ready(tmp_path: Path) -> None:
    """As a kubelet whose runtime is down: the API answers, the node reads NotReady."""
    home = tmp_path / "home"
    paths = StatePaths(home)
    paths.ensure()
    env = {
        **os.environ,
        "MINIKUBELET_HOME": str(home),
        "DOCKER_HOST": f"unix://{tmp_path}/none.sock",
    }
    agent = subprocess.Popen(
        [sys.executable, "-m", "minikubelet", "daemon", "run", "--node-name", "faults"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        with ApiClient(paths) as api:
            assert poll(api.healthy, 30.0), "the agent did not serve without an engine"
            node = api.request("GET", "/api/v1/nodes/faults")
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert [(c["status"], c["reason"], c["message"]) for c in ready] == [
            ("False", "KubeletNotReady", "container runtime is down")
        ]
    finally:
        agent.terminate()
        _, err = agent.communicate(timeout=30)
    assert b"Traceback" not in err and b"internal error" not in err, err
