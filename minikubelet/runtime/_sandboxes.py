"""Pod sandboxes on the engine, a part of `DockerRuntime` kept apart: the infra container
of each pod, and the node's pool of warm ones a new pod claims.

Docker-free: the SDK calls go through the runtime's own `_call` (a worker thread behind the
control gate, STYLE pattern 5) on the client it gives. A sandbox is the dockershim one
(kubelet-reference Part 2 §9): named `k8s_POD_<pod>_<namespace>_<uid>_<attempt>`, labelled so a
restarted agent adopts it. A warm sandbox (`minikubelet-spare-<instance>-<token>`) is started
on the pod network before any pod wants it; claiming it sets the pod's hostname (file and UTS
namespace) and renames it, the rename last, as the commit.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread

from minikubelet.api.raw import JSON as Raw
from minikubelet.errors import RuntimeFailure
from minikubelet.runtime._docker_json import labels_for, sandbox_info
from minikubelet.runtime._pods_cgroup import CgroupParent
from minikubelet.runtime._security import sandbox_host_config
from minikubelet.runtime._uts import read_hostname_file, set_hostname, write_hostname_file
from minikubelet.runtime.types import (
    LABEL_CONTAINER,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_SANDBOX_ID,
    LABEL_SPARE,
    SPARE_PREFIX,
    SandboxInfo,
    SandboxSpec,
    sandbox_name,
    sandbox_owner,
)

__all__ = ["SANDBOX_STOP_TIMEOUT", "Sandboxes"]

SANDBOX_STOP_TIMEOUT = 10  # dockershim's grace for the infra container


class Sandboxes(CgroupParent):
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    instance_id: str
    infra_image: str
    network_name: str
    _call: Callable[..., Awaitable[Any]]
    _inspect: Callable[[str], Awaitable[dict[str, Any]]]
    _ensure_network: Callable[[], Awaitable[str]]
    _limits: Callable[[], dict[str, Any]]
    _create_named: Callable[[Callable[[Any, str], Raw], str], Awaitable[str]]
    _list_ids: Callable[..., Awaitable[list[str]]]
    _inspect_all: Callable[[list[str]], Awaitable[list[Raw]]]
    start_container: Callable[[str], Awaitable[None]]
    stop_container: Callable[[str, float], Awaitable[None]]
    remove_container: Callable[[str], Awaitable[None]]
    _netns: dict[str, tuple[str, int]]  # sandbox id -> its /proc/<pid>/ns/net, and inode
    _spare_hosts: dict[str, str]  # claimed warm sandbox id -> its pod's hostname

    # -- sandboxes ----------------------------------------------------------------------

    async def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        await self._ensure_network()
        labels = labels_for(spec, self.instance_id, "POD", kind="podsandbox")
        ports = [(p.container_port, p.protocol.lower()) for p in spec.ports]
        bindings = {
            f"{p.container_port}/{p.protocol.lower()}": (p.host_ip, p.host_port) for p in spec.ports
        }
        name = sandbox_name(spec.pod_name, spec.namespace, spec.pod_uid, spec.attempt)

        host_network = spec.namespaces.host_network
        parent = await self._parent()

        def create(c: Any, name: str) -> Raw:
            host_config = c.create_host_config(
                port_bindings=None if host_network else bindings or None,
                **sandbox_host_config(spec, self.network_name),
                **self._limits(),
                **parent,
            )
            result: Raw = c.create_container(
                self.infra_image,
                name=name,
                hostname=None if host_network else spec.hostname or spec.pod_name,
                labels=labels,
                ports=None if host_network else ports or None,
                host_config=host_config,
            )
            return result

        created = await self._create_named(create, name)
        await self.start_container(created)
        return await self._sandbox_info(await self._inspect(created))

    async def _sandbox_info(self, raw: Raw) -> SandboxInfo:
        """A sandbox on the host's network has the node's address (the kubelet reports a
        hostNetwork pod's IPs as the node's)."""
        host_ip = ""
        if (raw.get("HostConfig") or {}).get("NetworkMode") == "host":
            host_ip = await self._ensure_network()
        return sandbox_info(raw, self.network_name, host_ip)

    async def stop_sandbox(self, sandbox_id: str) -> None:
        await self.stop_container(sandbox_id, SANDBOX_STOP_TIMEOUT)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """CRI semantics: remove the sandbox's containers too; a sandbox gone is no error."""
        for member in await self._list_ids("container", f"{LABEL_SANDBOX_ID}={sandbox_id}"):
            await self.remove_container(member)
        await self.remove_container(sandbox_id)
        self._netns.pop(sandbox_id, None)

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxInfo]:
        """A pod's sandboxes are found by name (`..._<uid>_<attempt>`), which both those made
        for it and claimed warm ones carry; unclaimed spares belong to the pool, not here."""
        found: list[Raw] = await self._call(
            lambda c: c.containers(all=True, filters=self._sandbox_filter(pod_uid))
        )
        raws = await self._inspect_all([item["Id"] for item in found])
        infos = []
        for raw in raws:
            info = await self._sandbox_info(raw)
            if not info.pod_uid or (pod_uid is not None and info.pod_uid != pod_uid):
                continue  # a name filter matches substrings; a spare is no pod's yet
            if (raw["Config"].get("Labels") or {}).get(LABEL_SPARE) == "true":
                await self._remember_spare(raw)
            infos.append(info)
        return infos

    def _sandbox_filter(self, pod_uid: str | None) -> dict[str, Any]:
        labels = [f"{LABEL_INSTANCE}={self.instance_id}", f"{LABEL_KIND}=podsandbox"]
        return {"label": labels, **({"name": [pod_uid]} if pod_uid else {})}

    async def _remember_spare(self, raw: Raw) -> None:
        """A claimed warm sandbox seen after a restart: its pod's hostname is in its file."""
        if raw["Id"] in self._spare_hosts or not raw.get("HostnamePath"):
            return
        with contextlib.suppress(OSError):
            hostname = await anyio.to_thread.run_sync(read_hostname_file, raw["HostnamePath"])
            self._spare_hosts[raw["Id"]] = hostname

    # -- warm sandboxes (the node's pool) -------------------------------------------------

    async def run_spare_sandbox(self) -> SandboxInfo:
        await self._ensure_network()
        token = secrets.token_hex(6)
        labels = {
            LABEL_INSTANCE: self.instance_id,
            LABEL_KIND: "podsandbox",
            LABEL_CONTAINER: "POD",
            LABEL_SPARE: "true",
        }

        parent = await self._parent()

        def create(c: Any, name: str) -> Raw:
            host_config = c.create_host_config(
                network_mode=self.network_name, ipc_mode="shareable", **self._limits(), **parent
            )
            result: Raw = c.create_container(
                self.infra_image,
                name=name,
                hostname=f"spare-{token}",
                labels=labels,
                host_config=host_config,
            )
            return result

        created = await self._create_named(create, f"{SPARE_PREFIX}{self.instance_id}-{token}")
        await self.start_container(created)
        return sandbox_info(await self._inspect(created), self.network_name)

    async def list_spare_sandboxes(self) -> list[SandboxInfo]:
        ids = await self._list_ids("podsandbox", f"{LABEL_SPARE}=true")
        raws = await self._inspect_all(ids)
        return [
            sandbox_info(raw, self.network_name)
            for raw in raws
            if sandbox_owner(raw["Config"].get("Labels") or {}, str(raw.get("Name"))) is None
        ]

    async def claim_sandbox(self, spare_id: str, spec: SandboxSpec) -> SandboxInfo:
        """The hostname first (file and UTS namespace), the rename last: the rename commits."""
        raw = await self._inspect(spare_id)
        state = raw.get("State") or {}
        if not state.get("Running") or not raw.get("HostnamePath"):
            raise RuntimeFailure(f"warm sandbox {spare_id[:12]} is not running")
        hostname = spec.hostname or spec.pod_name
        try:
            await anyio.to_thread.run_sync(write_hostname_file, raw["HostnamePath"], hostname)
            await anyio.to_thread.run_sync(set_hostname, int(state.get("Pid") or 0), hostname)
        except OSError as exc:
            raise RuntimeFailure(f"warm sandbox {spare_id[:12]}: hostname: {exc}") from exc
        name = sandbox_name(spec.pod_name, spec.namespace, spec.pod_uid, spec.attempt)
        await self._call(lambda c: c.rename(spare_id, name))
        self._spare_hosts[spare_id] = hostname
        return sandbox_info({**raw, "Name": f"/{name}"}, self.network_name)
