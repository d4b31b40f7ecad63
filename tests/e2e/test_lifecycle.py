"""Pods on the real engine: shared namespaces, init containers, restart policies, termination."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.pods import (
    BASE,
    WEBAPL,
    PodWatch,
    delete,
    engine_containers,
    find_event,
    logs,
    pod,
    sh,
    status_of,
    terminated,
    wait_phase,
    wait_running,
    waiting_reason,
)

pytestmark = pytest.mark.e2e

WEB_READY = {"name": "WEBAPL_READY_AFTER", "value": "0"}
SHARED = [{"name": "shared", "emptyDir": {}}]
MOUNT = [{"name": "shared", "mountPath": "/shared"}]
CURL = (
    "import urllib.request,time\n"
    "for _ in range(100):\n"
    "    try:\n"
    "        print(urllib.request.urlopen('http://127.0.0.1:3000/healthz').status, flush=True)\n"
    "        break\n"
    "    except OSError:\n"
    "        time.sleep(0.1)\n"
    "print(open('/shared/note').read(), flush=True)\n"
    "time.sleep(600)\n"
)


def test_containers_share_localhost_and_an_empty_dir(agent: Agent) -> None:
    agent.apply(
        pod(
            "duo",
            {"name": "web", "image": WEBAPL, "env": [WEB_READY]},
            sh(
                "client",
                'echo hello-from-web > /shared/note; exec python3 -c "$CODE"',
                env=[{"name": "CODE", "value": CURL}],
                volumeMounts=MOUNT,
            ),
            volumes=SHARED,
        )
    )
    wait_running(agent, "duo", "client")

    def output() -> str | None:
        text = logs(agent, "duo", "client")
        return text if "hello-from-web" in text else None

    out = agent.wait_for(output, 30, why="client's output")
    assert out.splitlines()[:2] == ["200", "hello-from-web"]
    assert "GET /healthz 200" in logs(agent, "duo", "web")


def test_init_containers_run_in_order_before_the_app(agent: Agent) -> None:
    manifest = pod(
        "inits",
        sh("app", "cat /shared/order; sleep 600", volumeMounts=MOUNT),
        volumes=SHARED,
        initContainers=[
            sh("first", "sleep 2; echo first >> /shared/order", volumeMounts=MOUNT),
            sh("second", "echo second >> /shared/order", volumeMounts=MOUNT),
        ],
    )
    agent.apply(manifest)
    during = agent.wait_for(
        lambda: (
            (p := agent.pod("inits"))
            and (status_of(p, "first", init=True).get("state") or {}).get("running")
            and p
        ),
        30,
        why="first init container running",
    )
    assert during["status"]["phase"] == "Pending"
    assert waiting_reason(during, "app") == "PodInitializing"
    assert waiting_reason(during, "second", init=True) == "PodInitializing"
    initialized = {c["type"]: c for c in during["status"]["conditions"]}["Initialized"]
    assert initialized["status"] == "False"
    assert initialized["reason"] == "ContainersNotInitialized"
    running = wait_running(agent, "inits", "app")
    for name in ("first", "second"):
        done = (status_of(running, name, init=True).get("state") or {}).get("terminated")
        assert done and done["exitCode"] == 0 and done["reason"] == "Completed"
    assert agent.wait_for(lambda: logs(agent, "inits", "app"), 10) == "first\nsecond\n"
    first = status_of(running, "first", init=True)["state"]["terminated"]
    second = status_of(running, "second", init=True)["state"]["terminated"]
    assert first["finishedAt"] <= second["startedAt"]


def test_failing_init_container_under_never_fails_the_pod(agent: Agent) -> None:
    agent.apply(
        pod(
            "initfail",
            sh("app", "sleep 600"),
            restartPolicy="Never",
            initContainers=[sh("setup", "exit 2")],
        )
    )
    failed = wait_phase(agent, "initfail", "Failed")
    setup = status_of(failed, "setup", init=True)["state"]["terminated"]
    assert (setup["exitCode"], setup["reason"]) == (2, "Error")
    assert waiting_reason(failed, "app") == "PodInitializing"
    assert status_of(failed, "setup", init=True)["restartCount"] == 0


def test_failing_init_container_under_always_is_retried(agent: Agent) -> None:
    agent.apply(pod("initloop", sh("app", "sleep 600"), initContainers=[sh("setup", "exit 1")]))
    looping = agent.wait_for(
        lambda: (
            (p := agent.pod("initloop"))
            and waiting_reason(p, "setup", init=True) == "CrashLoopBackOff"
            and status_of(p, "setup", init=True)["restartCount"] >= 1
            and p
        ),
        40,
        why="init container in CrashLoopBackOff",
    )
    assert looping["status"]["phase"] == "Pending"
    setup = status_of(looping, "setup", init=True)
    assert setup["lastState"]["terminated"]["reason"] == "Error"
    assert setup["state"]["waiting"]["message"].startswith(
        "back-off 10s restarting failed container=setup pod=initloop_default("
    )
    assert waiting_reason(looping, "app") == "PodInitializing"


def test_restart_policy_never_and_on_failure(agent: Agent) -> None:
    agent.apply(pod("never", sh("app", "exit 3"), restartPolicy="Never"))
    agent.apply(pod("onfail-ok", sh("app", "exit 0"), restartPolicy="OnFailure"))
    agent.apply(pod("onfail-bad", sh("app", "exit 1"), restartPolicy="OnFailure"))
    failed = wait_phase(agent, "never", "Failed")
    state = terminated(failed, "app")
    assert state is not None and (state["exitCode"], state["reason"]) == (3, "Error")
    assert status_of(failed, "app")["restartCount"] == 0
    done = wait_phase(agent, "onfail-ok", "Succeeded")
    state = terminated(done, "app")
    assert state is not None and (state["exitCode"], state["reason"]) == (0, "Completed")
    again = agent.wait_for(
        lambda: (p := agent.pod("onfail-bad")) and status_of(p, "app")["restartCount"] >= 1 and p,
        30,
        why="OnFailure restart",
    )
    assert again["status"]["phase"] == "Running"
    last = terminated(again, "app", last=True)
    assert last is not None and last["exitCode"] == 1


def test_delete_sends_sigterm_then_sigkill_after_the_grace_period(agent: Agent) -> None:
    manifest = pod(
        "term",
        {
            "name": "web",
            "image": WEBAPL,
            "env": [WEB_READY],
            "volumeMounts": MOUNT,
        },
        volumes=SHARED,
        terminationGracePeriodSeconds=2,
    )
    uid = agent.apply(manifest)["metadata"]["uid"]
    rv = wait_running(agent, "term", "web")["metadata"]["resourceVersion"]
    watch = PodWatch(agent, "term", rv)
    volumes = agent.paths.pods / uid
    assert volumes.is_dir()
    started = time.monotonic()
    deleted = delete(agent, "term")
    assert deleted["metadata"]["deletionTimestamp"]
    assert deleted["metadata"]["deletionGracePeriodSeconds"] == 2
    seen = watch.join()
    assert time.monotonic() - started >= 2.0
    assert agent.gone("term")
    assert [kind for kind, _ in seen][-1] == "DELETED"
    assert all(obj["metadata"].get("deletionTimestamp") for _, obj in seen[1:])
    killed = [t for _, obj in seen if (t := terminated(obj, "web"))]
    assert killed and killed[-1]["exitCode"] == 137 and killed[-1]["reason"] == "Error"
    assert seen[-1][1]["status"]["phase"] == "Failed"
    assert not volumes.exists()
    assert not engine_containers(agent, uid)
    killing = find_event(agent, "term", "Killing")
    assert killing is not None and killing["message"] == "Stopping container web"


def test_force_delete_removes_the_object_at_once(agent: Agent) -> None:
    uid = agent.apply(pod("forced", sh("app", "sleep 600")))["metadata"]["uid"]
    wait_running(agent, "forced", "app")
    delete(agent, "forced", gracePeriodSeconds=0)
    assert agent.gone("forced")
    # the containers go first, then the pod's directory: wait for both
    agent.wait_for(
        lambda: not engine_containers(agent, uid) and not (agent.paths.pods / uid).exists(),
        20,
        why="containers and the pod's directory removed",
    )


def test_events_of_a_pod_that_runs(agent: Agent) -> None:
    agent.apply(pod("evts", sh("app", "sleep 600")))
    wait_running(agent, "evts", "app")
    delete(agent, "evts")
    agent.wait_for(lambda: find_event(agent, "evts", "Killing"), 20, why="Killing event")
    events = {e["reason"]: e for e in agent.events("evts")}
    scheduled = events["Scheduled"]
    assert scheduled["message"] == "Successfully assigned default/evts to e2e-node"
    assert scheduled["source"]["component"] == "default-scheduler"
    expected = {
        "Pulled": f'Container image "{BASE}" already present on machine',
        "Created": "Created container app",
        "Started": "Started container app",
        "Killing": "Stopping container app",
    }
    for reason, message in expected.items():
        event = events[reason]
        assert (event["type"], event["message"]) == ("Normal", message)
        assert event["involvedObject"]["fieldPath"] == "spec.containers{app}"
        assert event["source"] == {"component": "kubelet", "host": "e2e-node"}
        assert event["count"] == 1


def test_node_selector_mismatch_then_node_labelled(agent: Agent) -> None:
    agent.apply(pod("picky", sh("app", "sleep 600"), nodeSelector={"disk": "ssd"}))
    message = (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    event = agent.wait_for(
        lambda: find_event(agent, "picky", "FailedScheduling"), 20, why="FailedScheduling"
    )
    assert (event["type"], event["message"]) == ("Warning", message)
    pending = agent.pod("picky")
    assert pending["status"]["phase"] == "Pending"
    assert not pending["spec"].get("nodeName")
    scheduled = {c["type"]: c for c in pending["status"]["conditions"]}["PodScheduled"]
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    assert scheduled["message"] == message
    agent.api.request(
        "PATCH", "/api/v1/nodes/e2e-node", body={"metadata": {"labels": {"disk": "ssd"}}}
    )
    running = wait_running(agent, "picky", "app", timeout=30)
    assert running["spec"]["nodeName"] == "e2e-node"
    assert find_event(agent, "picky", "Scheduled") is not None


def test_image_update_restarts_the_container(agent: Agent) -> None:
    agent.apply(pod("upd", sh("app", "sleep 600")))
    first = wait_running(agent, "upd", "app")
    body = agent.pod("upd")
    body["spec"]["containers"][0]["image"] = "webapl:0.1"
    agent.api.request("PUT", "/api/v1/namespaces/default/pods/upd", body=body)
    updated = agent.wait_for(
        lambda: (
            (p := agent.pod("upd"))
            and status_of(p, "app")["restartCount"] == 1
            and (status_of(p, "app").get("state") or {}).get("running")
            and p
        ),
        30,
        why="container restarted with the new image",
    )
    status = status_of(updated, "app")
    assert status["image"] == "webapl:0.1"
    assert status["containerID"] != status_of(first, "app")["containerID"]
    killing = find_event(agent, "upd", "Killing")
    assert killing is not None
    assert killing["message"] == "Container app definition changed, will be restarted"


def test_container_names_and_labels(agent: Agent) -> None:
    uid = agent.apply(pod("named", sh("app", "sleep 600")))["metadata"]["uid"]
    wait_running(agent, "named", "app")
    found = {c.name: c for c in engine_containers(agent, uid)}
    assert set(found) == {f"k8s_app_named_default_{uid}_0", f"k8s_POD_named_default_{uid}_0"}
    labels = found[f"k8s_app_named_default_{uid}_0"].labels
    assert labels["io.kubernetes.pod.uid"] == uid
    assert labels["io.kubernetes.pod.name"] == "named"
    assert labels["io.kubernetes.pod.namespace"] == "default"
    assert labels["io.kubernetes.container.name"] == "app"
    assert labels["annotation.io.kubernetes.container.restartCount"] == "0"
    assert labels["io.kubernetes.docker.type"] == "container"
    sandbox = found[f"k8s_POD_named_default_{uid}_0"].labels
    assert sandbox["io.kubernetes.container.name"] == "POD"
    assert sandbox["io.kubernetes.docker.type"] == "podsandbox"
