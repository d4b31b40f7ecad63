"""Small helpers for the end-to-end pod tests: manifests, statuses, events, logs."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Generator
from typing import Any, cast

import docker

from minikubelet.runtime.types import LABEL_INSTANCE, LABEL_SPARE, LABEL_UID, sandbox_owner
from tests.e2e.conftest import Agent

BASE = "minikubelet/debian-base:bookworm"
WEBAPL = "webapl:0.1"


def pod(name: str, *containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A Pod manifest; a short grace period keeps the suite fast."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 1, **spec, "containers": list(containers)},
    }


def sh(name: str, script: str, image: str = BASE, **extra: Any) -> dict[str, Any]:
    """A container running `sh -c script`."""
    return {"name": name, "image": image, "command": ["sh", "-c", script], **extra}


def statuses(obj: dict[str, Any], init: bool = False) -> dict[str, dict[str, Any]]:
    key = "initContainerStatuses" if init else "containerStatuses"
    return {s["name"]: s for s in obj.get("status", {}).get(key) or []}


def status_of(obj: dict[str, Any], name: str, init: bool = False) -> dict[str, Any]:
    return statuses(obj, init).get(name) or {}


def waiting_reason(obj: dict[str, Any], name: str, init: bool = False) -> str | None:
    waiting = (status_of(obj, name, init).get("state") or {}).get("waiting")
    return None if waiting is None else str(waiting.get("reason") or "")


def terminated(obj: dict[str, Any], name: str, last: bool = False) -> dict[str, Any] | None:
    status = status_of(obj, name)
    found: dict[str, Any] | None = (status.get("lastState" if last else "state") or {}).get(
        "terminated"
    )
    return found


def phase(agent: Agent, name: str) -> str:
    return str(agent.pod(name).get("status", {}).get("phase") or "")


def pod_when(
    agent: Agent, name: str, check: Callable[[dict[str, Any]], object], timeout: float, why: str
) -> dict[str, Any]:
    """The pod, once `check(pod)` holds."""

    def found() -> dict[str, Any] | None:
        current = agent.pod(name)
        return current if check(current) else None

    return agent.wait_for(found, timeout, why=why)


def wait_phase(agent: Agent, name: str, wanted: str, timeout: float = 60.0) -> dict[str, Any]:
    return agent.wait_for(
        lambda: (p := agent.pod(name)).get("status", {}).get("phase") == wanted and p,
        timeout,
        why=f"pod {name} {wanted}",
    )


def wait_running(agent: Agent, name: str, container: str, timeout: float = 60.0) -> dict[str, Any]:
    """The pod with `container` running."""
    return agent.wait_for(
        lambda: (
            (p := agent.pod(name))
            and (status_of(p, container).get("state") or {}).get("running")
            and p
        ),
        timeout,
        why=f"{name}/{container} running",
    )


def logs(agent: Agent, name: str, container: str | None = None, **params: Any) -> str:
    path = f"/api/v1/namespaces/default/pods/{name}/log"
    return b"".join(agent.api.stream_lines(path, container=container, **params)).decode()


def events(agent: Agent, name: str) -> list[dict[str, Any]]:
    return agent.events(name)


def find_event(agent: Agent, name: str, reason: str, contains: str = "") -> dict[str, Any] | None:
    for event in agent.events(name):
        if event.get("reason") == reason and contains in str(event.get("message", "")):
            return event
    return None


def delete(agent: Agent, name: str, **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = agent.api.request(
        "DELETE", f"/api/v1/namespaces/default/pods/{name}", **params
    )
    return found


def container_processes(container_id: str) -> list[str]:
    """The command lines of the host's processes in a container's cgroup (its own and the
    execs in it), read from /proc: the same on every engine."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as fh:
                if container_id not in fh.read():
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                found.append(fh.read().replace(b"\0", b" ").decode(errors="replace").strip())
        except OSError:
            continue
    return found


def engine_containers(agent: Agent, uid: str, *, all_: bool = True) -> list[Any]:
    """The engine's containers of one pod (sandbox included), by label; a warm sandbox the
    pod claimed by its name, as the runtime reads it (its labels were fixed before the pod)."""
    client = docker.from_env()
    try:
        labels = [f"{LABEL_INSTANCE}={agent.instance}", f"{LABEL_UID}={uid}"]
        # ignore_removed: the SDK inspects each listed container, and one may go in between
        found: list[Any] = client.containers.list(
            all=all_, filters={"label": labels}, ignore_removed=True
        )
        spares = [f"{LABEL_INSTANCE}={agent.instance}", f"{LABEL_SPARE}=true"]
        named: dict[str, str | list[str] | bool] = {"label": spares, "name": [uid]}
        for spare in client.containers.list(all=all_, filters=named, ignore_removed=True):
            owner = sandbox_owner(spare.labels, spare.name or "")
            if owner is not None and owner[2] == uid:
                found.append(spare)
        return found
    finally:
        client.close()


class PodWatch:
    """Every version of one pod, from a watch read by a thread until the pod is DELETED.

    Polling can miss a state the agent writes just before removing the object (the terminal
    status of a deleted pod); the watch sees each one."""

    def __init__(self, agent: Agent, name: str, resource_version: str) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._lines = cast(
            Generator[bytes, None, None],
            agent.api.stream_lines(
                "/api/v1/namespaces/default/pods",
                watch="true",
                fieldSelector=f"metadata.name={name}",
                resourceVersion=resource_version,
            ),
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._lines:
            if not line.strip():
                continue
            event = json.loads(line)
            self.seen.append((event["type"], event["object"]))
            if event["type"] == "DELETED":
                break
        self._lines.close()

    def join(self, timeout: float = 30.0) -> list[tuple[str, dict[str, Any]]]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the pod was not DELETED in time"
        return self.seen
