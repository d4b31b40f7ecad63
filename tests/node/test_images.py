"""`EnsureImageExists` (`pkg/kubelet/images/image_manager.go`) and the pull it makes
(`kuberuntime_image.go` `PullImage`, `kubelet.go` `getPullSecretsForPod`), on the in-memory
runtime in virtual time: InvalidImageName, pull secrets, credentials tried in order, pulls one
at a time with "including waiting", the back-off kept (GC, not reset) after a success."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.models import Container, Pod
from minikubelet.clock import FakeClock
from minikubelet.errors import ImagePullError
from minikubelet.node.events import EventRecorder
from minikubelet.node.images import ImageManager, aggregate_errors
from minikubelet.runtime.fake import FakeRuntime
from minikubelet.runtime.types import ImageInfo, RegistryAuth
from minikubelet.store import Store

pytestmark = pytest.mark.anyio

PRIVATE = "127.0.0.1:5000/private:1"
GOOD = RegistryAuth("puller", "s3cret")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Objects:
    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}

    def get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.secrets.get(name) if kind == "Secret" else None


class Rig:
    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.store, self.clock = store, clock
        self.runtime = FakeRuntime(clock=clock)
        self.objects = Objects()
        self.images = ImageManager(self.runtime, clock, EventRecorder(store, "node"), self.objects)

    def pod(self, image: str, policy: str = "IfNotPresent", secrets: tuple[str, ...] = ()) -> Pod:
        spec: dict[str, Any] = {
            "containers": [{"name": "app", "image": image, "imagePullPolicy": policy}]
        }
        if secrets:
            spec["imagePullSecrets"] = [{"name": s} for s in secrets]
        return from_dict(
            Pod, {"metadata": {"name": "p", "namespace": "default", "uid": "u1"}, "spec": spec}
        )

    def secret(self, name: str, auths: dict[str, Any]) -> None:
        raw = json.dumps({"auths": auths}).encode()
        self.objects.secrets[name] = {
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(raw).decode()},
        }

    def events(self) -> list[tuple[str, str, str]]:
        items = self.store.list("Event", "default")[0]
        return [(e["type"], e["reason"], e["message"]) for e in items]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    store = Store.open(tmp_path / "state.db", clock)
    try:
        yield Rig(store, clock)
    finally:
        store.close()


def app_of(pod: Pod) -> Container:
    return pod.spec.all_containers()[0]


def auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_invalid_image_name_is_inspect_failed(rig: Rig) -> None:
    """`applyDefaultImageTag` fails: InspectFailed event, InvalidImageName, no pull."""
    pod = rig.pod("MyApp:Latest", "Always")
    problem = await rig.images.ensure(pod, app_of(pod))
    message = (
        'Failed to apply default image tag "MyApp:Latest": couldn\'t parse image name '
        '"MyApp:Latest": invalid reference format: repository name (library/MyApp) must be '
        "lowercase"
    )
    assert problem == ("InvalidImageName", message)
    assert rig.events() == [("Warning", "InspectFailed", message)]
    assert not [c for c in rig.runtime.calls if c[0] == "pull_image"]


async def test_the_default_tag_is_what_is_inspected_and_pulled(rig: Rig) -> None:
    rig.runtime.pullable.add("busybox:latest")
    pod = rig.pod("busybox", "Always")
    assert await rig.images.ensure(pod, app_of(pod)) is None
    assert ("image_info", ("busybox:latest",)) in rig.runtime.calls
    assert ("pull_image", ("busybox:latest", None)) in rig.runtime.calls
    assert rig.events()[0] == ("Normal", "Pulling", 'Pulling image "busybox"')


async def test_pull_secrets_give_the_pull_its_credentials(rig: Rig) -> None:
    rig.runtime.pullable.add(PRIVATE)
    rig.runtime.private[PRIVATE] = GOOD
    rig.secret("regcred", {"127.0.0.1:5000": auth("puller", "s3cret")})
    pod = rig.pod(PRIVATE, "Always", secrets=("regcred",))
    assert await rig.images.ensure(pod, app_of(pod)) is None
    assert ("pull_image", (PRIVATE, GOOD)) in rig.runtime.calls


async def test_without_the_secret_the_pull_fails_and_the_event_says_why(rig: Rig) -> None:
    rig.runtime.pullable.add(PRIVATE)
    rig.runtime.private[PRIVATE] = GOOD
    pod = rig.pod(PRIVATE, "Always", secrets=("missing", "", "gone"))
    problem = await rig.images.ensure(pod, app_of(pod))
    assert problem is not None and problem[0] == "ErrImagePull"
    assert "no basic auth credentials" in problem[1]
    assert rig.events()[:2] == [
        (
            "Warning",
            "FailedToRetrieveImagePullSecret",
            "Unable to retrieve some image pull secrets (missing, gone); "
            "attempting to pull the image may not succeed.",
        ),
        ("Normal", "Pulling", f'Pulling image "{PRIVATE}"'),
    ]


async def test_every_matching_credential_is_tried_then_all_errors_aggregated(rig: Rig) -> None:
    rig.runtime.pullable.add(PRIVATE)
    rig.runtime.private[PRIVATE] = GOOD
    rig.secret("a", {"127.0.0.1:5000": auth("x", "1")})
    rig.secret("b", {"127.0.0.1:5000/private": auth("y", "2")})
    pod = rig.pod(PRIVATE, "Always", secrets=("a", "b"))
    problem = await rig.images.ensure(pod, app_of(pod))
    pulls = [c[1][1] for c in rig.runtime.calls if c[0] == "pull_image"]
    assert pulls == [RegistryAuth("y", "2"), RegistryAuth("x", "1")]  # most specific first
    # two identical errors read as one (utilerrors aggregate deduplicates)
    assert problem == ("ErrImagePull", "unauthorized: authentication required")
    rig.secret("c", {"127.0.0.1:5000": auth("puller", "s3cret")})
    await rig.clock.advance(11)
    pod = rig.pod(PRIVATE, "Always", secrets=("a", "c"))
    assert await rig.images.ensure(pod, app_of(pod)) is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
def test_aggregate_errors(anyio_backend: str) -> None:
    assert aggregate_errors(["a"]) == "a"
    assert aggregate_errors(["a", "a"]) == "a"
    assert aggregate_errors(["a", "b", "a"]) == "[a, b]"


async def test_pulls_are_serialized_and_the_wait_is_counted(rig: Rig) -> None:
    """serializeImagePulls: the second pull waits for the first; its `Pulled` event reads
    `in <its own pull> (<pull + wait> including waiting)`."""
    slow = {"a:1": 3.0, "b:1": 2.0}

    async def pull(image: str, auth: RegistryAuth | None = None) -> ImageInfo:
        await rig.clock.sleep(slow[image])
        return ImageInfo(id=f"sha256:{image}", size=7)

    rig.runtime.pull_image = pull  # type: ignore[method-assign]
    first, second = rig.pod("a:1", "Always"), rig.pod("b:1", "Always")
    async with anyio.create_task_group() as tg:
        tg.start_soon(rig.images.ensure, first, app_of(first))
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(rig.images.ensure, second, app_of(second))
        await anyio.wait_all_tasks_blocked()
        for _ in range(6):
            await rig.clock.advance(1)
            await anyio.wait_all_tasks_blocked()
    pulled = [m for (_, reason, m) in rig.events() if reason == "Pulled"]
    assert pulled == [
        'Successfully pulled image "a:1" in 3s (3s including waiting). Image size: 7 bytes.',
        'Successfully pulled image "b:1" in 2s (5s including waiting). Image size: 7 bytes.',
    ]


async def test_a_success_keeps_the_back_off_entry(rig: Rig) -> None:
    """A successful pull calls `backOff.GC()`, not a reset: the entry lives on until it
    expires, so a failure soon after doubles from where it was."""
    image = "127.0.0.1:5000/flaky:1"
    pod = rig.pod(image, "Always")
    rig.runtime.fail_next("pull_image", ImagePullError("boom"))
    assert (await rig.images.ensure(pod, app_of(pod)) or ("",))[0] == "ErrImagePull"
    await rig.clock.advance(10)
    rig.runtime.pullable.add(image)
    assert await rig.images.ensure(pod, app_of(pod)) is None
    rig.runtime.fail_next("pull_image", ImagePullError("boom"))
    await rig.clock.advance(1)
    assert (await rig.images.ensure(pod, app_of(pod)) or ("",))[0] == "ErrImagePull"
    await rig.clock.advance(10)  # 11 s after the last failure: the window is 20 s now
    problem = await rig.images.ensure(pod, app_of(pod))
    assert problem == (
        "ImagePullBackOff",
        f'Back-off pulling image "{image}": ErrImagePull: boom',
    )
