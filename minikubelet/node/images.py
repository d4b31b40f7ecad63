"""`EnsureImageExists` (`pkg/kubelet/images/image_manager.go`): pull policy, events, back-off."""

from __future__ import annotations

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import Container, Pod
from minikubelet.clock import Clock
from minikubelet.errors import ImagePullError
from minikubelet.node.backoff import Backoff, image_pull_key
from minikubelet.node.events import NORMAL, WARNING, Recorder
from minikubelet.runtime.types import Runtime

__all__ = ["ImageManager"]


class ImageManager:
    """Makes a container's image present, or says why not as a (reason, message) pair."""

    def __init__(self, runtime: Runtime, clock: Clock, recorder: Recorder) -> None:
        self.runtime = runtime
        self.clock = clock
        self.recorder = recorder
        self.backoff = Backoff()
        self._last_error: dict[str, str] = {}

    def retry_in(self, pod: Pod) -> float | None:
        """Seconds until the soonest pull back-off of this pod ends, if any."""
        now = self.clock.monotonic()
        waits = [
            self.backoff.in_backoff_since_update(image_pull_key(pod, c.image or ""), now)
            for c in pod.spec.all_containers()
        ]
        found = [w for w in waits if w is not None]
        return min(found) if found else None

    async def ensure(self, pod: Pod, container: Container) -> tuple[str, str] | None:
        image = container.image or ""
        event = self.recorder.pod
        present = await self.runtime.image_info(image)
        if container.imagePullPolicy == "Never" and present is None:
            message = f'Container image "{image}" is not present with pull policy of Never'
            event(pod, WARNING, "ErrImageNeverPull", message, container=container.name)
            return "ErrImageNeverPull", message
        if present is not None and container.imagePullPolicy != "Always":
            message = f'Container image "{image}" already present on machine'
            event(pod, NORMAL, "Pulled", message, container=container.name)
            return None
        key = image_pull_key(pod, image)
        if self.backoff.in_backoff_since_update(key, self.clock.monotonic()) is not None:
            event(
                pod,
                NORMAL,
                "BackOff",
                f'Back-off pulling image "{image}"',
                container=container.name,
            )
            detail = self._last_error.get(key, "")
            return "ImagePullBackOff", f'Back-off pulling image "{image}": ErrImagePull: {detail}'
        return await self._pull(pod, container, key)

    async def _pull(self, pod: Pod, container: Container, key: str) -> tuple[str, str] | None:
        image = container.image or ""
        name = container.name
        self.recorder.pod(pod, NORMAL, "Pulling", f'Pulling image "{image}"', container=name)
        started = self.clock.monotonic()
        try:
            info = await self.runtime.pull_image(image)
        except ImagePullError as exc:
            self.backoff.next(key, self.clock.monotonic())
            self._last_error[key] = str(exc)
            message = f'Failed to pull image "{image}": {exc}'
            self.recorder.pod(pod, WARNING, "Failed", message, container=name)
            return "ErrImagePull", str(exc)
        took = go_duration(int((self.clock.monotonic() - started) * 1000) / 1000)  # to ms
        self.backoff.reset(key)
        self._last_error.pop(key, None)
        message = (
            f'Successfully pulled image "{image}" in {took} ({took} including waiting).'
            f" Image size: {info.size} bytes."
        )
        self.recorder.pod(pod, NORMAL, "Pulled", message, container=name)
        return None
