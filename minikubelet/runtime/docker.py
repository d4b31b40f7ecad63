"""The Runtime protocol on the local Docker engine, through the (blocking) Docker SDK.

This is the only module that imports `docker`. Every SDK call runs in a worker thread behind a
`CapacityLimiter` you can see (STYLE pattern 5), each gate with its own client so that one kind
of traffic cannot starve another:

- control: short lifecycle calls (create, start, inspect, list, remove, networks);
- stops: `docker stop`, which holds its call for the container's whole grace period: in the
  control gate, eight pods being deleted kept every other pod's create and start waiting
  for their grace periods to end;
- streams: logs and pulls, which hold a connection for as long as they run;
- sessions: the control calls of execs (probes' and users') and attaches, so a hung exec
  delays only execs, never pod lifecycle; their I/O runs on the loop, and on a local Docker
  engine their calls too (`_engine_http`), with no thread at all;
- events: one dedicated thread and client per `events()` stream, outside every limiter.

Each limiter stays below its client's connection pool (docker-py's default is 10; the stops'
client has a pool of its own size). Mutating calls
never abandon their thread on cancellation: the engine would go on acting while we forgot it.

Names and labels follow dockershim (kubelet-reference Part 2 §9), so a restarted agent adopts
what it finds. The docker-free parts live in private modules: `_docker_json` (inspect, event
and network JSON as our types), `_proc` (the /proc process-tree kill), `_streams` (SDK
streams read from threads and shut safely), and parts of the runtime itself, mixed in:
`_sandboxes` (pod sandboxes, warm ones too), `_sessions` (exec, attach, port-forward),
`_logs` (a container's log stream) and `_teardown` (what `minikubelet reset` removes).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import resource
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import docker
import docker.auth
import docker.errors
import docker.types
import docker.utils
import requests.exceptions

from minikubelet.api.raw import JSON as Raw
from minikubelet.clock import Clock, RealClock
from minikubelet.errors import (
    ContainerNotFound,
    ContainerStartError,
    ImagePullError,
    RuntimeFailure,
    RuntimeUnavailable,
)
from minikubelet.runtime._cgroup import CGROUP_ROOT, enable_oom_group
from minikubelet.runtime._direct import Helper, Target
from minikubelet.runtime._docker_json import (
    EVENT_ACTIONS,
    container_gone,
    container_info,
    error_message,
    free_subnets,
    gateway_of,
    instance_of,
    labels_for,
    to_event,
)
from minikubelet.runtime._logs import Logs
from minikubelet.runtime._oom import OomWatch
from minikubelet.runtime._pods_cgroup import PodsCgroup
from minikubelet.runtime._proc import engine_hard_limits
from minikubelet.runtime._sandboxes import Sandboxes
from minikubelet.runtime._security import container_host_config
from minikubelet.runtime._sessions import Sessions
from minikubelet.runtime._streams import (
    pump_events,
    release,
    shutdown,
)
from minikubelet.runtime._teardown import Teardown
from minikubelet.runtime._uts import set_hostname
from minikubelet.runtime.order import RankedSlots
from minikubelet.runtime.types import (
    CALLER_RANK,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_SANDBOX_ID,
    LABEL_UID,
    ContainerInfo,
    ContainerSpec,
    ImageInfo,
    Instance,
    RegistryAuth,
    RuntimeEvent,
)

__all__ = ["LABEL_SANDBOX_ID", "DockerRuntime"]

T = TypeVar("T")

_POOL = 10  # docker-py's DEFAULT_MAX_POOL_SIZE; every limiter below stays under it
# Stops in flight at once, each a thread and a connection waiting out its grace period: a
# node's 110 pods being drained stop in four waves of their grace period at most.
_STOPS = 32


@dataclass
class _Gate:
    """One client and the limiter that bounds how many threads use it at once; with `order`,
    its waiting calls go in their callers' rank (`order.py`), not first come, first served."""

    limiter: anyio.CapacityLimiter
    client: Any = None
    pool: int = _POOL  # its client's connection pool
    order: RankedSlots | None = None


def _translate(exc: Exception, default: type[RuntimeFailure]) -> RuntimeFailure:
    """Map an SDK error to ours, most specific first; `default` is the call's own failure.
    A missing image is the call's failure (create, pull), not a missing container."""
    text = str(getattr(exc, "explanation", None) or exc)  # the engine's own words
    if isinstance(exc, docker.errors.ImageNotFound):
        return default(text)
    status = 404 if isinstance(exc, docker.errors.NotFound) else None  # the SDK's 404
    if container_gone(status, text):
        return ContainerNotFound(text)
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return RuntimeUnavailable(f"Docker engine unreachable: {text}")
    if isinstance(exc, docker.errors.APIError):
        return default(text)
    if isinstance(exc, docker.errors.DockerException):  # e.g. no engine when building a client
        return RuntimeUnavailable(text)
    return default(text)


class DockerRuntime(Sessions, Sandboxes, Logs, Teardown):
    """Runtime on Docker for one agent instance: its own bridge network, its own labels."""

    def __init__(
        self,
        instance_id: str,
        *,
        infra_image: str = "minikubelet/pause:3.10",
        network_subnet: str | None = None,
        pull_timeout: float = 300.0,
        clock: Clock | None = None,
        direct_exec: bool = True,
    ) -> None:
        self.instance_id = instance_id
        self._clock = clock or RealClock()
        self.infra_image = infra_image
        self.network_name = f"minikubelet-{instance_id}"
        self.pull_timeout = pull_timeout
        # cgroup v2 on this host: containers get memory.oom.group (see `_cgroup`)
        self._unified_cgroup = (CGROUP_ROOT / "cgroup.controllers").exists()
        self._subnet = network_subnet
        self._gateway: str | None = None
        self._network_lock = anyio.Lock()
        self._client_lock = anyio.Lock()
        self._api_version: str | None = None
        self._podman = False  # learnt from the engine's /version with the first client
        self._ulimits: list[Any] | None = None
        self._oom = OomWatch()  # the OOM kills Podman does not report and Docker can miss
        self._pods_cgroup = PodsCgroup(CGROUP_ROOT)  # the pods' `kubepods` (`_pods_cgroup`)
        self._cgroup_parent: str | None | bool = False
        self._cgroupfs: bool | None = None
        self._control = _Gate(anyio.CapacityLimiter(8), order=RankedSlots(8))
        self._streams = _Gate(anyio.CapacityLimiter(8))
        self._pulls = anyio.CapacityLimiter(2)  # shares the streams client: 8 + 2 = its pool
        self._sessions = _Gate(anyio.CapacityLimiter(8))  # exec/attach/port-forward sessions
        self._stops = _Gate(anyio.CapacityLimiter(_STOPS), pool=_STOPS + 2)
        self._netns: dict[str, tuple[str, int]] = {}  # sandboxes dialed into (`Sessions.dial`)
        # exec without the engine where runc's result is reproduced (`_direct`; `Sessions`)
        self._helper: Helper | None = Helper() if direct_exec else None
        self._targets: dict[str, Target | None] = {}
        # claimed warm sandbox id -> its pod's hostname; a container created in one -> the same
        self._spare_hosts: dict[str, str] = {}
        self._rehost: dict[str, str] = {}

    # -- plumbing -----------------------------------------------------------------------

    def _new_client(self, pool: int = _POOL) -> Any:
        """A low-level client; the first one asks the engine for its API version (I/O)."""
        kwargs = docker.utils.kwargs_from_env()
        version = self._api_version or "auto"
        client = docker.APIClient(version=version, max_pool_size=pool, timeout=60, **kwargs)
        if self._api_version is None:
            self._podman = _is_podman(client.version(False))
        self._api_version = client.api_version
        return client

    def _limits(self) -> dict[str, Any]:
        """Host-config limits the engine needs from us. Podman (rootful) gives every container
        RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 4194304, which fail (`error setting rlimit type
        7`, then `type 6`) wherever its service's own hard limits are lower; ask for those
        instead (read from the service's /proc entry, else ours), as Docker's containers
        inherit dockerd's."""
        if not self._podman:
            return {}
        if self._ulimits is None:
            engine = engine_hard_limits("podman")
            self._ulimits = [
                _ulimit("nofile", resource.RLIMIT_NOFILE, 1048576, engine.get("nofile")),
                _ulimit("nproc", resource.RLIMIT_NPROC, 4194304, engine.get("nproc")),
            ]
        return {"ulimits": self._ulimits}

    async def _client(self, gate: _Gate) -> Any:
        async with self._client_lock:
            if gate.client is None:
                try:
                    gate.client = await anyio.to_thread.run_sync(
                        self._new_client, gate.pool, limiter=gate.limiter
                    )
                except Exception as exc:
                    raise _translate(exc, RuntimeUnavailable) from exc
            return gate.client

    async def _call(
        self,
        fn: Callable[..., T],
        *args: Any,
        gate: _Gate | None = None,
        limiter: anyio.CapacityLimiter | None = None,
        error: type[RuntimeFailure] = RuntimeFailure,
    ) -> T:
        """Run `fn(client, *args)` in a worker thread; translate what it raises."""
        gate = gate or self._control
        call = partial(fn, await self._client(gate), *args)
        order = gate.order if limiter is None else None
        async with order.slot(CALLER_RANK.get()) if order is not None else contextlib.nullcontext():
            try:
                return await anyio.to_thread.run_sync(call, limiter=limiter or gate.limiter)
            except RuntimeFailure:
                raise
            except Exception as exc:
                raise _translate(exc, error) from exc

    async def _inspect(self, container_id: str) -> Raw:
        raw: Raw = await self._call(lambda c: c.inspect_container(container_id))
        return raw

    async def _list_ids(self, kind: str, *extra: str) -> list[str]:
        labels = [f"{LABEL_INSTANCE}={self.instance_id}", f"{LABEL_KIND}={kind}", *extra]
        found: list[Raw] = await self._call(
            lambda c: c.containers(all=True, filters={"label": labels})
        )
        return [item["Id"] for item in found]

    async def _inspect_all(self, ids: list[str]) -> list[Raw]:
        """Fresh inspects (never the list's summary); a container gone meanwhile is skipped."""
        out: list[Raw] = []
        for container_id in ids:
            try:
                out.append(await self._inspect(container_id))
            except ContainerNotFound:
                continue
        return out

    # -- engine and images --------------------------------------------------------------

    async def version(self) -> str:
        info: Raw = await self._call(lambda c: c.version(False), error=RuntimeUnavailable)
        engine = "podman" if self._podman else "docker"
        return f"{engine}://{info.get('Version', 'unknown')}"

    async def image_info(self, image: str) -> ImageInfo | None:
        raw: Raw | None = await self._call(partial(_inspect_image, image=image))
        if raw is None:
            return None
        user = str((raw.get("Config") or {}).get("User") or "")
        return ImageInfo(id=raw["Id"], size=int(raw.get("Size") or 0), user=user)

    async def pull_image(self, image: str, auth: RegistryAuth | None = None) -> ImageInfo:
        """Pull within `pull_timeout`: past it the connection is dropped, which makes the
        engine abandon the pull, and ImagePullError says so. `auth` goes to the engine as the
        pull's X-Registry-Auth (as cri-dockerd sends CRI's AuthConfig); without it, the
        engine's client config for that registry, as `docker pull` would."""
        abort = threading.Event()
        failure: RuntimeFailure | None = None
        async with anyio.create_task_group() as tg:

            async def watchdog() -> None:
                with anyio.move_on_after(self.pull_timeout):  # a deadline on the loop's clock
                    await anyio.sleep_forever()
                abort.set()

            tg.start_soon(watchdog)
            try:
                pull = partial(
                    _pull, image=image, auth=auth, abort=abort, read_timeout=self.pull_timeout
                )
                await self._call(
                    pull, gate=self._streams, limiter=self._pulls, error=ImagePullError
                )
            except RuntimeFailure as exc:
                failure = exc  # raised outside the group, not wrapped in an ExceptionGroup
            tg.cancel_scope.cancel()
        if failure is not None:
            raise failure
        found = await self.image_info(image)
        if found is None:
            raise ImagePullError(f"image {image} not present after pull")
        return found

    # -- the pod network ----------------------------------------------------------------

    async def _ensure_network(self) -> str:
        """This instance's bridge network, created on a free /24 on first use; its gateway is
        the node's hostIP. Another agent may race us for a subnet: the engine refuses the
        overlap and we try the next one."""
        async with self._network_lock:
            if self._gateway is not None:
                return self._gateway
            nets: list[Raw] = await self._call(lambda c: c.networks())
            for net in nets:
                if net["Name"] == self.network_name:
                    self._gateway = gateway_of(net)
                    return self._gateway
            routes = await anyio.to_thread.run_sync(_read_routes)
            for subnet in [self._subnet] if self._subnet else free_subnets(nets, routes):
                gateway = str(next(ipaddress.ip_network(subnet).hosts()))
                pool = docker.types.IPAMPool(subnet=subnet, gateway=gateway)
                create = partial(
                    _create_network,
                    name=self.network_name,
                    ipam=docker.types.IPAMConfig(pool_configs=[pool]),
                    labels={LABEL_INSTANCE: self.instance_id},
                )
                try:
                    await self._call(create)
                except RuntimeFailure as exc:
                    if "overlap" in str(exc).lower() and not self._subnet:
                        continue  # another agent took it since we listed: try the next
                    raise
                self._gateway = gateway
                return gateway
            raise RuntimeFailure(f"no free 10.89.N.0/24 subnet for {self.network_name}")

    async def host_ip(self) -> str:
        """The node's address on the pod network (its gateway), as the kubelet's hostIP."""
        return await self._ensure_network()

    # -- containers ---------------------------------------------------------------------

    async def _create_named(self, create: Callable[[Any, str], Raw], name: str) -> str:
        """Create under the dockershim name; on a name conflict add `_<8 hex>` as it does."""
        try:
            result = await self._call(create, name, error=ContainerStartError)
        except ContainerStartError as exc:
            if "is already in use" not in str(exc):
                raise
            suffixed = f"{name}_{secrets.token_hex(4)}"
            result = await self._call(create, suffixed, error=ContainerStartError)
        return str(result["Id"])

    async def create_container(self, spec: ContainerSpec) -> str:
        labels = labels_for(spec, self.instance_id, spec.name, kind="container")
        labels[LABEL_SANDBOX_ID] = spec.sandbox_id
        env = [f"{k}={v}" for k, v in spec.env]
        hostname = self._spare_hosts.get(spec.sandbox_id)
        if hostname is not None and not any(k == "HOSTNAME" for k, _ in spec.env):
            env.insert(0, f"HOSTNAME={hostname}")  # the engine would set the spare's
        binds = [f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts]
        memory = spec.memory_limit
        parent = await self._parent()

        def create(c: Any, name: str) -> Raw:
            host_config = c.create_host_config(
                **container_host_config(spec),
                binds=binds or None,
                mem_limit=memory,
                memswap_limit=memory,  # no swap: the kubelet's NoSwap on cgroup v1
                nano_cpus=spec.nano_cpus,
                cpu_shares=spec.cpu_shares,
                log_config=docker.types.LogConfig(type="json-file", config={}),
                **self._limits(),
                **parent,
            )
            # Kubernetes: command replaces ENTRYPOINT, args replace CMD. The engine itself
            # drops the image CMD whenever an entrypoint is given, so None means "keep".
            config = c.create_container_config(
                spec.image,
                entrypoint=list(spec.command) if spec.command else None,
                command=list(spec.args) if spec.args else None,
                working_dir=spec.working_dir or None,
                user=spec.security.user or None,
                environment=env or None,
                labels=labels,
                host_config=host_config,
                stdin_open=spec.stdin,
                tty=spec.tty,
            )
            # dockershim's OpenStdin/StdinOnce/Tty; docker-py ties StdinOnce to OpenStdin
            config["StdinOnce"] = spec.stdin_once
            result: Raw = c.create_container_from_config(config, name)
            return result

        name = f"k8s_{spec.name}_{spec.pod_name}_{spec.namespace}_{spec.pod_uid}_{spec.attempt}"
        created = await self._create_named(create, name)
        if hostname is not None:
            self._rehost[created] = hostname
        return created

    async def start_container(self, container_id: str) -> None:
        """Start; then, in a claimed warm sandbox, the pod's hostname (the engine gave the
        container the spare's: a process that asks in its first milliseconds may still see
        it); then, on cgroup v2, `memory.oom.group` as the kubelet sets it (`_cgroup`) and a
        watch for the OOM kills the engine may not report (`_oom`), which Podman never does and
        so gets on cgroup v1 too."""
        await self._call(lambda c: c.start(container_id), error=ContainerStartError)
        hostname = self._rehost.pop(container_id, None)
        if self._unified_cgroup or hostname is not None or self._podman:
            with contextlib.suppress(RuntimeFailure, OSError):
                raw = await self._inspect(container_id)
                pid = int((raw.get("State") or {}).get("Pid") or 0)
                if hostname is not None and pid:
                    await anyio.to_thread.run_sync(set_hostname, pid, hostname)
                if (self._unified_cgroup or self._podman) and pid:
                    await anyio.to_thread.run_sync(self._watch_memory, container_id, pid)

    def _watch_memory(self, container_id: str, pid: int) -> None:
        """In one worker thread's turn: the OOM group on cgroup v2, then the OOM watch."""
        if self._unified_cgroup:
            enable_oom_group(pid)
        self._oom.watch(container_id, pid)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        """`docker stop -t`: the image's stop signal, SIGKILL after the timeout. docker-py
        adds the stop timeout to the HTTP timeout; a stopped container answers 304, no error."""
        seconds = max(0, math.ceil(timeout))
        await self._call(lambda c: c.stop(container_id, timeout=seconds), gate=self._stops)

    async def remove_container(self, container_id: str) -> None:
        """Force-remove; like CRI's RemoveContainer, a container already gone is no error."""
        try:
            await self._call(lambda c: c.remove_container(container_id, force=True))
        except ContainerNotFound:
            pass
        except RuntimeFailure as exc:
            if "already in progress" not in str(exc):
                raise
        self._oom.forget(container_id)
        self._forget_target(container_id)

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerInfo]:
        ids = await self._list_ids("container", *_of_pod(pod_uid))
        return [self._info(raw) for raw in await self._inspect_all(ids)]

    async def list_instances(self) -> list[Instance]:
        """One `GET /containers/json` of this instance's label, read from its summaries."""
        label = {"label": [f"{LABEL_INSTANCE}={self.instance_id}"]}
        found: list[Raw] = await self._call(lambda c: c.containers(all=True, filters=label))
        kinds = ("container", "podsandbox")
        return [instance_of(i) for i in found if (i.get("Labels") or {}).get(LABEL_KIND) in kinds]

    async def inspect_container(self, container_id: str) -> ContainerInfo:
        return self._info(await self._inspect(container_id))

    def _info(self, raw: Raw) -> ContainerInfo:
        info = container_info(raw)
        if info.oom_killed or not self._oom.killed(info.id):
            return info
        return replace(info, oom_killed=True)

    # -- events (logs: `_logs`) ----------------------------------------------------------

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        """Engine events of this instance's containers (sandboxes too, named "POD"), read by a
        dedicated thread and client and handed over on a memory stream."""
        try:
            client = await anyio.to_thread.run_sync(
                self._new_client, 1, limiter=self._control.limiter
            )
        except Exception as exc:
            raise _translate(exc, RuntimeUnavailable) from exc
        try:
            filters = {
                "type": ["container"],
                "label": [f"{LABEL_INSTANCE}={self.instance_id}"],
                "event": list(EVENT_ACTIONS),
            }
            try:
                stream = await anyio.to_thread.run_sync(
                    lambda: client.events(filters=filters, decode=True),
                    limiter=self._control.limiter,
                )
            except Exception as exc:
                raise _translate(exc, RuntimeFailure) from exc
            send, receive = anyio.create_memory_object_stream[Raw](64)
            token = anyio.lowlevel.current_token()
            thread = threading.Thread(
                target=pump_events, args=(stream, send, token), name="docker-events", daemon=True
            )
            thread.start()
            try:
                async with receive:
                    async for raw in receive:
                        event = to_event(raw)
                        if event is not None:
                            yield event
            finally:
                shutdown(stream)
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(thread.join)
                release(stream)
        finally:
            client.close()

    async def close(self) -> None:
        self._oom.close()
        if self._helper is not None:
            self._helper.close()
        for gate in (self._control, self._sessions, self._streams, self._stops):
            client, gate.client = gate.client, None
            if client is not None:
                client.close()


def _inspect_image(client: Any, image: str) -> Raw | None:
    try:
        raw: Raw = client.inspect_image(image)
    except docker.errors.ImageNotFound:
        return None
    return raw


def _create_network(client: Any, name: str, ipam: Any, labels: dict[str, str]) -> None:
    client.create_network(name, driver="bridge", ipam=ipam, labels=labels, check_duplicate=True)


def _pull(
    client: Any,
    image: str,
    auth: RegistryAuth | None,
    abort: threading.Event,
    read_timeout: float,
) -> None:
    """POST /images/create, reading progress until done; checks `abort` between messages,
    and a socket read timeout bounds a silent engine. docker-py's own `pull` sends no
    timeout at all, hence the request by hand (with its auth header)."""
    repository, tag = docker.utils.parse_repository_tag(image)
    registry, _ = docker.auth.resolve_repository_name(repository)
    headers = {}
    header: bytes | None
    if auth is not None:
        header = docker.auth.encode_header(
            {"username": auth.username, "password": auth.password, "serveraddress": registry}
        )
    else:
        header = docker.auth.get_config_header(client, registry)
    if header:
        headers["X-Registry-Auth"] = header
    url = f"{client.base_url}/v{client.api_version}/images/create"
    params = {"fromImage": repository, "tag": tag or "latest"}
    try:
        with client.post(
            url, params=params, headers=headers, stream=True, timeout=(10, read_timeout)
        ) as response:
            if response.status_code >= 400:
                raise ImagePullError(error_message(response.status_code, response.text))
            for line in response.iter_lines():
                if abort.is_set():
                    raise ImagePullError(f"pulling {image}: timed out after {read_timeout:g}s")
                message = json.loads(line) if line else {}
                if message.get("error"):
                    raise ImagePullError(str(message["error"]))
    except requests.exceptions.Timeout as exc:
        raise ImagePullError(f"pulling {image}: timed out after {read_timeout:g}s") from exc


def _of_pod(pod_uid: str | None) -> tuple[str, ...]:
    """The label filter that keeps one pod's objects: the engine filters, we inspect fewer."""
    return (f"{LABEL_UID}={pod_uid}",) if pod_uid else ()


def _ulimit(name: str, which: int, podman_default: int, engine: int | None) -> Any:
    """The engine service's hard limit, else this process's, never above Podman's default."""
    hard = engine if engine is not None else resource.getrlimit(which)[1]
    value = podman_default if hard == resource.RLIM_INFINITY else min(hard, podman_default)
    return docker.types.Ulimit(name=name, soft=value, hard=value)


def _read_routes() -> str:
    try:
        with open("/proc/net/route") as fh:
            return fh.read()
    except OSError:  # not Linux, or /proc hidden: the engine's own list must do
        return ""


def _is_podman(version: Raw) -> bool:
    """Podman's Docker-compatible /version names a `Podman Engine` component."""
    components = version.get("Components") or []
    return any("podman" in str(c.get("Name", "")).lower() for c in components)
