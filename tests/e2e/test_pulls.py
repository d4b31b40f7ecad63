"""Image pulls against a real registry on loopback (`images/image_manager.go` EnsureImageExists).

Every image here is pushed by the test to its own `docker-registry` on 127.0.0.1; nothing
comes from the internet. The failure messages are the engine's (the kubelet passes its CRI's
words through the same way), the events and reasons the kubelet's.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import anyio
import pytest

from minikubelet.errors import ImagePullError
from minikubelet.runtime.docker import DockerRuntime
from minikubelet.runtime.types import ImageInfo, RegistryAuth
from tests.e2e.conftest import Agent
from tests.e2e.pods import find_event, pod, pod_when, status_of, wait_running, waiting_reason
from tests.e2e.registry import SMALL_IMAGE, Registry

pytestmark = pytest.mark.e2e

# `Successfully pulled image %q in %v (%v including waiting). Image size: %v bytes.`, with Go
# durations truncated to the millisecond (`52ms`, `1.204s`).
_DURATION = r"(?:\d+(?:\.\d+)?(?:ms|s)|\d+m\d+(?:\.\d+)?s)"


def pulled_pattern(image: str) -> re.Pattern[str]:
    return re.compile(
        rf'Successfully pulled image "{re.escape(image)}" in {_DURATION} '
        rf"\({_DURATION} including waiting\)\. Image size: [1-9]\d* bytes\."
    )


def app(image: str, **extra: object) -> dict[str, object]:
    return {"name": "app", "image": image, **extra}


def test_always_pulls_then_if_not_present_finds_it(agent: Agent, registry: Registry) -> None:
    image = registry.push(SMALL_IMAGE, "tiny:1")
    agent.apply(pod("always", app(image, imagePullPolicy="Always")))
    wait_running(agent, "always", "app", 60)
    pulling = find_event(agent, "always", "Pulling")
    assert pulling is not None and pulling["message"] == f'Pulling image "{image}"'
    assert pulling["involvedObject"]["fieldPath"] == "spec.containers{app}"
    pulled = find_event(agent, "always", "Pulled")
    assert pulled is not None and pulled_pattern(image).fullmatch(pulled["message"]), pulled
    running = agent.pod("always")
    assert status_of(running, "app")["image"] == image

    agent.apply(pod("present", app(image, imagePullPolicy="IfNotPresent")))
    wait_running(agent, "present", "app", 60)
    assert find_event(agent, "present", "Pulling") is None
    present = find_event(agent, "present", "Pulled")
    assert present is not None
    assert present["message"] == f'Container image "{image}" already present on machine'


def test_a_missing_tag_is_err_image_pull(agent: Agent, registry: Registry) -> None:
    image = f"{registry.host}/tiny:missing"
    registry.push(SMALL_IMAGE, "tiny:1")  # the repository exists, the tag does not
    agent.apply(pod("notag", app(image)))
    current = pod_when(
        agent,
        "notag",
        lambda p: waiting_reason(p, "app") in {"ErrImagePull", "ImagePullBackOff"},
        40,
        "ErrImagePull",
    )
    assert current["status"]["phase"] == "Pending"
    failed = find_event(agent, "notag", "Failed", f'Failed to pull image "{image}": ')
    assert failed is not None and "manifest unknown" in failed["message"], failed
    assert find_event(agent, "notag", "Failed", "Error: ErrImagePull") is not None


def test_a_registry_that_wants_credentials(agent: Agent, auth_registry: Registry) -> None:
    image = auth_registry.push(SMALL_IMAGE, "private:1")
    agent.apply(pod("noauth", app(image)))
    pod_when(
        agent,
        "noauth",
        lambda p: waiting_reason(p, "app") in {"ErrImagePull", "ImagePullBackOff"},
        40,
        "ErrImagePull without credentials",
    )
    failed = find_event(agent, "noauth", "Failed", f'Failed to pull image "{image}": ')
    assert failed is not None and "no basic auth credentials" in failed["message"], failed


def test_the_docker_runtime_sends_the_pull_credentials(auth_registry: Registry) -> None:
    """`PullImage` with CRI's AuthConfig: the engine gets it as the pull's X-Registry-Auth."""
    image = auth_registry.push(SMALL_IMAGE, "private:2")
    assert auth_registry.auth is not None
    good = RegistryAuth(*auth_registry.auth)

    async def pulls() -> tuple[str, str, ImageInfo]:
        runtime = DockerRuntime(f"pulls-{uuid.uuid4().hex[:8]}")
        try:
            errors = []
            for auth in (None, RegistryAuth(good.username, "wrong")):
                with pytest.raises(ImagePullError) as caught:
                    await runtime.pull_image(image, auth)
                errors.append(str(caught.value))
            return errors[0], errors[1], await runtime.pull_image(image, good)
        finally:
            await runtime.close()

    without, wrong, pulled = anyio.run(pulls)
    assert "no basic auth credentials" in without
    assert "unauthorized: authentication required" in wrong
    assert pulled.id.startswith("sha256:") and pulled.size > 0


def test_image_pull_secrets_give_the_pull_its_credentials(
    agent: Agent, auth_registry: Registry
) -> None:
    """`imagePullSecrets` naming a `kubernetes.io/dockerconfigjson` Secret: the pull from the
    htpasswd registry works; a missing Secret is named in FailedToRetrieveImagePullSecret."""
    image = auth_registry.push(SMALL_IMAGE, "private:3")
    assert auth_registry.auth is not None
    user, password = auth_registry.auth
    config = {"auths": {auth_registry.host: {"username": user, "password": password}}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }
    agent.api.request("POST", "/api/v1/namespaces/default/secrets", body=secret)
    agent.apply(pod("private", app(image), imagePullSecrets=[{"name": "regcred"}]))
    wait_running(agent, "private", "app", 60)
    pulled = find_event(agent, "private", "Pulled")
    assert pulled is not None and pulled_pattern(image).fullmatch(pulled["message"])

    absent = [{"name": "absent"}]  # Always: the image is on the node since the first pod
    agent.apply(pod("nosecret", app(image, imagePullPolicy="Always"), imagePullSecrets=absent))
    pod_when(
        agent,
        "nosecret",
        lambda p: waiting_reason(p, "app") in {"ErrImagePull", "ImagePullBackOff"},
        40,
        "ErrImagePull without the secret",
    )
    missing = find_event(agent, "nosecret", "FailedToRetrieveImagePullSecret")
    assert missing is not None and missing["type"] == "Warning"
    assert missing["message"] == (
        "Unable to retrieve some image pull secrets (absent); "
        "attempting to pull the image may not succeed."
    )
    failed = find_event(agent, "nosecret", "Failed", f'Failed to pull image "{image}": ')
    assert failed is not None and "no basic auth credentials" in failed["message"]


def test_an_invalid_image_name(agent: Agent) -> None:
    """`applyDefaultImageTag` refuses `MyApp:Latest`: InspectFailed, InvalidImageName."""
    agent.apply(pod("badname", app("MyApp:Latest")))
    current = pod_when(
        agent, "badname", lambda p: waiting_reason(p, "app") == "InvalidImageName", 30, "reason"
    )
    message = (
        'Failed to apply default image tag "MyApp:Latest": couldn\'t parse image name '
        '"MyApp:Latest": invalid reference format: repository name (library/MyApp) must be '
        "lowercase"
    )
    assert status_of(current, "app")["state"]["waiting"]["message"] == message
    inspect = find_event(agent, "badname", "InspectFailed")
    assert inspect is not None and (inspect["type"], inspect["message"]) == ("Warning", message)
    assert find_event(agent, "badname", "Failed", "Error: InvalidImageName") is not None
