"""Security contexts and host namespaces through the node (store → worker → executor → fake
engine), in virtual time: what reaches the engine, and what the kubelet refuses."""

from __future__ import annotations

import pytest

from minikubelet.runtime.types import ContainerSpec, InstanceState, SandboxSpec
from tests.node.test_manager import IMAGE, Harness, anyio_backend, harness

__all__ = ["anyio_backend", "harness"]


def _spec(h: Harness, name: str = "app") -> ContainerSpec:
    specs = [c.spec for c in h.runtime.containers.values() if c.info.name == name]
    found = [s for s in specs if isinstance(s, ContainerSpec)]
    assert found, f"no container {name}"
    return found[-1]


def _waiting(h: Harness, pod: str) -> dict[str, str]:
    return dict(h.status(pod).get("state", {}).get("waiting") or {})


@pytest.mark.anyio
async def test_run_as_non_root_with_a_root_image_is_a_config_error(harness: Harness) -> None:
    harness.apply("web", securityContext={"runAsNonRoot": True})
    await harness.until(lambda: _waiting(harness, "web").get("reason"))
    uid = harness.pod("web")["metadata"]["uid"]
    message = (
        f'container has runAsNonRoot and image will run as root (pod: "web_default({uid})", '
        "container: app)"
    )
    assert _waiting(harness, "web") == {"reason": "CreateContainerConfigError", "message": message}
    failed = [e["message"] for e in harness.events("Failed")]
    assert failed and failed[0] == f"Error: {message}"
    assert not harness.running()


@pytest.mark.anyio
async def test_run_as_non_root_reads_the_images_user(harness: Harness) -> None:
    harness.runtime.set_image("nonroot:1", user="1000:1000")
    harness.runtime.set_image("named:1", user="nginx")
    harness.apply(
        "web",
        securityContext={"runAsNonRoot": True, "runAsGroup": 5},
        containers=[{"name": "app", "image": "nonroot:1"}, {"name": "named", "image": "named:1"}],
    )
    await harness.until(lambda: harness.running() and _waiting(harness, "web") == {})
    assert _spec(harness).security.user == "1000:5"
    named = harness.status("web", "named")["state"]["waiting"]
    assert named["reason"] == "CreateContainerConfigError"
    assert named["message"].startswith(
        "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user "
        "is non-root"
    )


@pytest.mark.anyio
async def test_the_merged_context_reaches_the_engine(harness: Harness) -> None:
    harness.apply(
        "web",
        securityContext={"runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [3000]},
        containers=[
            {
                "name": "app",
                "image": IMAGE,
                "securityContext": {
                    "runAsUser": 1001,
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            }
        ],
    )
    await harness.until(lambda: harness.running())
    security = _spec(harness).security
    assert (security.user, security.group_add) == ("1001", ("2000", "3000"))
    assert security.read_only_rootfs and security.no_new_privs
    assert (security.cap_add, security.cap_drop) == (("NET_BIND_SERVICE",), ("ALL",))
    assert security.seccomp == "runtime/default"


@pytest.mark.anyio
async def test_localhost_seccomp_is_refused_with_an_event(harness: Harness) -> None:
    profile = {"type": "Localhost", "localhostProfile": "audit.json"}
    harness.apply("web", securityContext={"seccompProfile": profile})
    await harness.until(lambda: _waiting(harness, "web").get("reason"))
    waiting = _waiting(harness, "web")
    assert waiting["reason"] == "CreateContainerConfigError"
    assert 'Localhost ("audit.json") is not supported by minikubelet' in waiting["message"]
    assert [e["message"] for e in harness.events("Failed")][0] == f"Error: {waiting['message']}"


@pytest.mark.anyio
async def test_host_network_pod_has_the_nodes_address_and_its_own_sandbox(
    harness: Harness,
) -> None:
    harness.apply("web", hostNetwork=True, hostPID=True, shareProcessNamespace=False)
    await harness.until(lambda: harness.pod("web").get("status", {}).get("phase") == "Running")
    status = harness.pod("web")["status"]
    assert status["podIP"] == status["hostIP"] == "127.0.0.1"
    sandboxes = [c.spec for c in harness.runtime.containers.values()]
    sandbox = next(s for s in sandboxes if isinstance(s, SandboxSpec))
    assert sandbox.namespaces.host_network and sandbox.namespaces.host_pid
    assert _spec(harness).namespaces.host_pid
    assert harness.runtime.containers[harness.running()[0]].info.state is InstanceState.RUNNING


@pytest.mark.anyio
async def test_a_container_that_cannot_start_does_not_hold_back_the_next(harness: Harness) -> None:
    """SyncPod's step 8 ignores each start's error: the next container still starts."""
    harness.apply(
        "web",
        securityContext={"runAsNonRoot": True},
        containers=[
            {"name": "root", "image": IMAGE},
            {"name": "app", "image": IMAGE, "securityContext": {"runAsUser": 1000}},
        ],
    )
    await harness.until(lambda: harness.running())
    waiting = harness.status("web", "root")["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert _spec(harness).security.user == "1000"
