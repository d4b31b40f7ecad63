"""The kubelet's service environment variables (`pkg/kubelet/envvars/envvars.go` `FromServices`,
`kubelet_pods.go` `getServiceEnvVarMap`).

For every Service with a cluster IP in the pod's namespace (when `enableServiceLinks` is true,
the default), and always for the `kubernetes` Service of `default`:

    WEB_SERVICE_HOST=10.96.0.20          WEB_PORT=tcp://10.96.0.20:80
    WEB_SERVICE_PORT=80                  WEB_PORT_80_TCP=tcp://10.96.0.20:80
    WEB_SERVICE_PORT_HTTP=80             WEB_PORT_80_TCP_PROTO=tcp
                                         WEB_PORT_80_TCP_PORT=80
                                         WEB_PORT_80_TCP_ADDR=10.96.0.20

Only the Services that exist when a container starts count; the variables never change after.
The user's own `env` wins over a service variable of the same name (the caller merges).
"""

from __future__ import annotations

from minikubelet.api.raw import JSON

__all__ = ["from_services", "service_env"]

_MASTER_SERVICES = frozenset({"kubernetes"})


def _has_ip(service: JSON) -> bool:
    return (service.get("spec") or {}).get("clusterIP") not in (None, "", "None")


def _name(text: str) -> str:
    """`makeEnvVariableName`: upper case, `-` as `_`."""
    return text.replace("-", "_").upper()


def _join(host: str, port: int) -> str:
    """`net.JoinHostPort`: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def from_services(services: list[JSON]) -> list[tuple[str, str]]:
    """`FromServices`: the variables of each Service with a cluster IP, in upstream's order."""
    result: list[tuple[str, str]] = []
    for service in services:
        if not _has_ip(service):
            continue
        spec = service["spec"]
        ip = str(spec["clusterIP"])
        ports = spec.get("ports") or []
        prefix = _name(str(service["metadata"]["name"]))
        result.append((f"{prefix}_SERVICE_HOST", ip))
        if not ports:
            continue
        result.append((f"{prefix}_SERVICE_PORT", str(ports[0]["port"])))
        for port in ports:
            if port.get("name"):
                result.append((f"{prefix}_SERVICE_PORT_{_name(port['name'])}", str(port["port"])))
        for i, port in enumerate(ports):
            protocol = port.get("protocol") or "TCP"
            url = f"{protocol.lower()}://{_join(ip, int(port['port']))}"
            if i == 0:
                result.append((f"{prefix}_PORT", url))
            head = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
            result += [
                (head, url),
                (f"{head}_PROTO", protocol.lower()),
                (f"{head}_PORT", str(port["port"])),
                (f"{head}_ADDR", ip),
            ]
    return result


def service_env(services: list[JSON], namespace: str, enable_links: bool) -> dict[str, str]:
    """`getServiceEnvVarMap`: the variables a container of a pod in `namespace` gets."""
    chosen: dict[str, JSON] = {}
    for service in services:
        if not _has_ip(service):
            continue
        meta = service.get("metadata") or {}
        name = str(meta.get("name", ""))
        if meta.get("namespace") == "default" and name in _MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif meta.get("namespace") == namespace and enable_links:
            chosen[name] = service
    ordered = [chosen[name] for name in sorted(chosen)]
    return dict(from_services(ordered))
