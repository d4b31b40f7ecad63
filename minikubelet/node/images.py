"""`EnsureImageExists` (`pkg/kubelet/images/image_manager.go`): pull policy, events, back-off;
with the pull itself as `kuberuntime_image.go` `PullImage` makes it: the pod's
`imagePullSecrets` (`getPullSecretsForPod`, `credentialprovider`), each matching credential
tried in turn, and pulls one at a time (`serializeImagePulls`, on by default), so the `Pulled`
event's "including waiting" counts the wait behind another pod's pull.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from minikubelet.api.gofmt import go_duration, go_quote
from minikubelet.api.models import Container, Pod
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import ImagePullError, RuntimeFailure
from minikubelet.node.backoff import Backoff, image_pull_key
from minikubelet.node.credentials import KeyringError, make_keyring, missing_secrets_message
from minikubelet.node.envvars import ObjectSource
from minikubelet.node.events import NORMAL, WARNING, EventRecorder
from minikubelet.node.imageref import ImageRefError, apply_default_image_tag, parse_image_name
from minikubelet.runtime.types import ImageInfo, RegistryAuth, Runtime

__all__ = ["ImageManager", "aggregate_errors"]


def aggregate_errors(messages: Sequence[str]) -> str:
    """`utilerrors.NewAggregate(errs).Error()`: one message as it is, several deduplicated in
    brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else f"[{', '.join(unique)}]"


def _ms(seconds: float) -> str:
    """A Go duration truncated to the millisecond (`Truncate(time.Millisecond)`)."""
    return go_duration(int(seconds * 1000) / 1000)


class ImageManager:
    """Makes a container's image present, or says why not as a (reason, message) pair."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        recorder: EventRecorder,
        objects: ObjectSource | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.recorder = recorder
        self.objects = objects  # where the pods' pull Secrets are read
        self.backoff = Backoff()
        self._last_error: dict[str, str] = {}
        self._serial = anyio.Lock()  # serializeImagePulls

    def pull_secrets(self, pod: Pod) -> list[JSON]:
        """`getPullSecretsForPod`: the Secrets named in `imagePullSecrets` that exist; the rest
        named in one FailedToRetrieveImagePullSecret event."""
        refs = pod.spec.extra.get("imagePullSecrets") or []
        found: list[JSON] = []
        missing: list[str] = []
        for ref in refs:
            name = ref.get("name") if isinstance(ref, dict) else None
            if not name:
                continue  # validation lets empty names through; the kubelet skips them
            secret = None
            if self.objects is not None:
                secret = self.objects.get_object("Secret", pod.namespace, name)
            if secret is None:
                missing.append(name)
            else:
                found.append(secret)
        if missing:
            message = missing_secrets_message(missing)
            self.recorder.pod(pod, WARNING, "FailedToRetrieveImagePullSecret", message)
        return found

    async def ensure(
        self, pod: Pod, container: Container, secrets: Sequence[JSON] | None = None
    ) -> tuple[str, str] | None:
        """The image of `container`, present or pulled with `secrets` (read from the pod's
        `imagePullSecrets` when None); None when it is there, else (reason, message)."""
        image = container.image or ""
        event = self.recorder.pod
        try:
            spec_image = apply_default_image_tag(image)
        except ImageRefError as exc:
            message = f"Failed to apply default image tag {go_quote(image)}: {exc}"
            event(pod, WARNING, "InspectFailed", message, container=container.name)
            return "InvalidImageName", message
        try:
            present = await self.runtime.image_info(spec_image)
        except RuntimeFailure as exc:
            message = f"Failed to inspect image {go_quote(spec_image)}: {exc}"
            event(pod, WARNING, "InspectFailed", message, container=container.name)
            return "ImageInspectError", message
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
        if secrets is None:
            secrets = self.pull_secrets(pod)
        return await self._pull(pod, container, spec_image, secrets, key)

    async def _pull(
        self, pod: Pod, container: Container, spec_image: str, secrets: Sequence[JSON], key: str
    ) -> tuple[str, str] | None:
        image = container.image or ""
        name = container.name
        self.recorder.pod(pod, NORMAL, "Pulling", f'Pulling image "{image}"', container=name)
        started = self.clock.monotonic()
        try:
            async with self._serial:
                began = self.clock.monotonic()
                info = await self._pull_with_credentials(spec_image, secrets)
                pulled_in = self.clock.monotonic() - began
        except ImagePullError as exc:
            self.backoff.next(key, self.clock.monotonic())
            self._last_error[key] = str(exc)
            message = f'Failed to pull image "{image}": {exc}'
            self.recorder.pod(pod, WARNING, "Failed", message, container=name)
            return "ErrImagePull", str(exc)
        waited = self.clock.monotonic() - started
        self.backoff.gc(self.clock.monotonic())  # a success GCs, it does not reset
        self._last_error.pop(key, None)
        message = (
            f'Successfully pulled image "{image}" in {_ms(pulled_in)} ({_ms(waited)} including'
            f" waiting). Image size: {info.size} bytes."
        )
        self.recorder.pod(pod, NORMAL, "Pulled", message, container=name)
        return None

    async def _pull_with_credentials(self, image: str, secrets: Sequence[JSON]) -> ImageInfo:
        """`kuberuntime_image.go` `PullImage`: no matching credential → one pull without;
        otherwise each credential in keyring order until one works, else every error."""
        repository, _, _ = parse_image_name(image)
        try:
            credentials: list[RegistryAuth | None] = [*make_keyring(secrets).lookup(repository)]
        except KeyringError as exc:
            raise ImagePullError(str(exc)) from exc
        if not credentials:
            return await self.runtime.pull_image(image, None)
        errors: list[str] = []
        for auth in credentials:
            try:
                return await self.runtime.pull_image(image, auth)
            except ImagePullError as exc:
                errors.append(str(exc))
        raise ImagePullError(aggregate_errors(errors))
