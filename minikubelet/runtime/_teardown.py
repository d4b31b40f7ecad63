"""Taking a node down (`minikubelet reset`), a part of `DockerRuntime` kept apart: the node
instances an engine holds, and removing one's containers and network, or the images this
project builds.

Docker-free: the SDK calls go through the runtime's own `_call` (a worker thread behind the
control gate, STYLE pattern 5) on the client it gives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from minikubelet.api.raw import JSON as Raw
from minikubelet.clock import Clock
from minikubelet.errors import ContainerNotFound, RuntimeFailure
from minikubelet.runtime._pods_cgroup import CgroupParent
from minikubelet.runtime.types import LABEL_INSTANCE

__all__ = ["NETWORK_RELEASE", "Teardown"]

# Seconds the engine gets to let go of the endpoints of the containers just removed.
NETWORK_RELEASE = 10.0


class Teardown(CgroupParent):
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    instance_id: str
    _clock: Clock
    _gateway: str | None  # the pod network's, forgotten with the network
    _call: Callable[..., Awaitable[Any]]
    _list_ids: Callable[..., Awaitable[list[str]]]
    remove_container: Callable[[str], Awaitable[None]]

    # -- taking a node down (`minikubelet reset`) ---------------------------------------

    async def instances(self) -> set[str]:
        """Every node instance with containers or networks on this engine (by their label)."""

        def scan(c: Any) -> set[str]:
            labelled = {"label": LABEL_INSTANCE}
            found = {
                x["Labels"].get(LABEL_INSTANCE, "")
                for x in c.containers(all=True, filters=labelled)
            }
            found |= {n["Labels"].get(LABEL_INSTANCE, "") for n in c.networks(filters=labelled)}
            return found - {""}

        found: set[str] = await self._call(scan)
        return found

    async def remove_everything(self) -> tuple[int, int]:
        """Remove every container (a pod's members before its sandbox, which Podman requires)
        and the network of this instance; (containers, networks) removed."""
        ids = await self._list_ids("container") + await self._list_ids("podsandbox")
        for container_id in ids:
            await self.remove_container(container_id)
        nets: list[Raw] = await self._call(
            lambda c: c.networks(filters={"label": f"{LABEL_INSTANCE}={self.instance_id}"})
        )
        for net in nets:
            await self._remove_network(net["Id"], net.get("Name") or net["Id"])
        self._gateway = None
        await self._forget_parent()
        return len(ids), len(nets)

    async def _remove_network(self, net_id: str, name: str) -> None:
        """Docker 20.10 can refuse for a moment, or until dockerd restarts, a network whose
        containers are all gone (`has active endpoints`): asked again for NETWORK_RELEASE
        seconds, then the error says what is left and the way out."""
        deadline = self._clock.monotonic() + NETWORK_RELEASE
        while True:
            try:
                await self._call(lambda c: c.remove_network(net_id))
                return
            except ContainerNotFound:
                return
            except RuntimeFailure as exc:
                if "active endpoints" not in str(exc):
                    raise
                if self._clock.monotonic() >= deadline:
                    raise RuntimeFailure(
                        f"network {name}: {exc}. No container of this node is left on it: the"
                        " engine keeps a stale endpoint. Restart the engine (for Docker:"
                        " `systemctl restart docker`), then run `minikubelet reset` again"
                    ) from exc
            await self._clock.sleep(0.5)

    async def remove_built_images(self) -> list[str]:
        """The images this project builds (images/build.sh: tags under `minikubelet/`, or a
        `minikubelet.*` label); an image a container still uses stays, with the engine's error."""

        def ours(c: Any) -> list[str]:
            tags = []
            for image in c.images():
                labels = image.get("Labels") or {}
                for tag in image.get("RepoTags") or []:
                    if tag.startswith("minikubelet/") or any(
                        k.startswith("minikubelet.") for k in labels
                    ):
                        tags.append(tag)
            return tags

        removed = []
        for tag in await self._call(ours):
            with contextlib.suppress(RuntimeFailure):
                await self._call(lambda c, tag=tag: c.remove_image(tag))
                removed.append(tag)
        return removed
