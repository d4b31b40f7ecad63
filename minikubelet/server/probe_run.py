"""`POST /minikubelet/v1/namespaces/{ns}/pods/{name}/probe?probe=liveness[&container=C]`: run
one of a container's probes once, now, and answer what it returned (`prober/once.py`), counted
by nobody. POST, not GET: an exec probe runs a command in the container."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minikubelet.errors import BadRequest
from minikubelet.server.deps import ApiDeps
from minikubelet.server.logs import pick_container
from minikubelet.server.responses import json_response

__all__ = ["pod_probe_run"]

KINDS = ("liveness", "readiness", "startup")


async def pod_probe_run(request: Request, deps: ApiDeps) -> Response:
    namespace, name = request.path_params["namespace"], request.path_params["name"]
    pod = deps.store.get("Pod", namespace, name)  # NotFound: pods "x" not found
    kind = request.query_params.get("probe", "")
    if kind not in KINDS:
        raise BadRequest(f'probe must be one of liveness, readiness, startup, not "{kind}"')
    spec = pod.get("spec") or {}
    requested = request.query_params.get("container") or None
    if requested is None:  # the first container with that probe, as a person means it
        having = [c["name"] for c in spec.get("containers") or [] if c.get(f"{kind}Probe")]
        requested = having[0] if having else None
    container = pick_container(pod, requested)
    source = deps.probes
    if source is None or not spec.get("nodeName"):
        raise BadRequest(f'pod "{name}" is not running on this node')
    return json_response(await source.probe_once(pod, container, kind))
