"""`kubectl describe pod`, as kubectl 1.32 prints it: a pure function of the pod, its events and
`now` (describe is client-side in kubectl, so the CLI calls this on what it fetched).

The text is built as kubectl's PrefixWriter builds it (2 spaces a level, `\\t` between label and
value) and laid out by the Go tabwriter port (minwidth 0, padding 2), where alignment is per run
of lines that hold a tab. The events table is flushed on its own, as `DescribeEvents` does; an
empty `Events:\\t<none>` is not, so it aligns with the lines above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from minikubelet.api.gofmt import go_quote
from minikubelet.api.raw import JSON
from minikubelet.printers.describe_fields import (
    annotation_lines,
    env_lines,
    go_time,
    label_lines,
    probe_text,
    qos_class,
    quantity_text,
    since,
    toleration_lines,
)
from minikubelet.printers.describe_sections import (
    events_block,
    layout,
    topology_lines,
    volume_lines,
)

__all__ = ["describe_pod", "describe_pods"]


def describe_pod(
    pod: JSON, events: list[JSON] | None, now: datetime, *, tz: tzinfo | None = UTC
) -> str:
    """The whole `describe pod` text. `events=None` leaves the Events section out (kubectl's
    `--show-events=false`); `tz` is the zone times print in (`None`: this machine's, as kubectl)."""
    lines = _header(pod, now, tz)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if spec.get("resources"):
        lines.append("Resources:")
        lines.extend(_resources(spec["resources"], 1))
    groups = [
        ("Init Containers", "initContainers", "initContainerStatuses"),
        ("Containers", "containers", "containerStatuses"),
        ("Ephemeral Containers", "ephemeralContainers", "ephemeralContainerStatuses"),
    ]
    for label, key, statuses in groups:
        if spec.get(key) or key == "containers":
            lines.extend(_containers(pod, label, spec.get(key) or [], status.get(statuses), tz))
    lines.extend(_conditions(pod))
    lines.extend(volume_lines(spec.get("volumes")))
    lines.append(f"QoS Class:\t{qos_class(pod)}")
    lines.extend(label_lines("Node-Selectors", spec.get("nodeSelector")))
    lines.extend(toleration_lines(spec.get("tolerations")))
    lines.extend(topology_lines(spec.get("topologySpreadConstraints")))
    inline, table = events_block(events, now)
    return layout(lines + inline) + layout(table)


def describe_pods(
    described: Sequence[tuple[JSON, list[JSON] | None]], now: datetime, **kw: Any
) -> str:
    """Several pods, as `describe pods` prints them: each text, then `\\n\\n` before the next."""
    return "\n\n".join(describe_pod(pod, events, now, **kw) for pod, events in described)


def _header(pod: JSON, now: datetime, tz: tzinfo | None) -> list[str]:
    """From `Name:` to `NominatedNodeName:`, in describePod's order."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    lines = [f"Name:\t{meta.get('name', '')}", f"Namespace:\t{meta.get('namespace', '')}"]
    if spec.get("priority") is not None:
        lines.append(f"Priority:\t{spec['priority']}")
    for key, label in (
        ("priorityClassName", "Priority Class Name"),
        ("runtimeClassName", "Runtime Class Name"),
        ("serviceAccountName", "Service Account"),
    ):
        if spec.get(key):
            lines.append(f"{label}:\t{spec[key]}")
    node = spec.get("nodeName")
    lines.append(f"Node:\t{node}/{status.get('hostIP') or ''}" if node else "Node:\t<none>")
    if status.get("startTime"):
        lines.append(f"Start Time:\t{go_time(status['startTime'], tz)}")
    lines.extend(label_lines("Labels", meta.get("labels")))
    lines.extend(annotation_lines(meta.get("annotations")))
    phase = status.get("phase") or ""
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        lines.append(f"Status:\tTerminating (lasts {since(meta['deletionTimestamp'], now)})")
        lines.append(f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s")
    else:
        lines.append(f"Status:\t{phase}")
    for key, label in (("reason", "Reason"), ("message", "Message")):
        if status.get(key):
            lines.append(f"{label}:\t{status[key]}")
    seccomp = (spec.get("securityContext") or {}).get("seccompProfile")
    if seccomp is not None:
        lines.extend(_seccomp(seccomp, ""))
    lines.append(f"IP:\t{status.get('podIP') or ''}")
    ips = [ip.get("ip", "") for ip in status.get("podIPs") or []]
    lines.extend(["IPs:", *(f"  IP:\t{ip}" for ip in ips)] if ips else ["IPs:\t<none>"])
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is not None:
        lines.append(f"Controlled By:\t{owner.get('kind', '')}/{owner.get('name', '')}")
    if status.get("nominatedNodeName"):
        lines.append(f"NominatedNodeName:\t{status['nominatedNodeName']}")
    return lines


def _seccomp(profile: JSON, indent: str) -> list[str]:
    lines = [f"{indent}SeccompProfile:\t{profile.get('type', '')}"]
    if profile.get("type") == "Localhost":
        lines.append(f"{indent}  LocalhostProfile:\t{profile.get('localhostProfile', '')}")
    return lines


def _resources(resources: JSON, level: int) -> list[str]:
    """`describeResources`: Limits then Requests, each sorted by resource name."""
    lines: list[str] = []
    pad = "  " * level
    for key, label in (("limits", "Limits"), ("requests", "Requests")):
        quantities = resources.get(key) or {}
        if quantities:
            lines.append(f"{pad}{label}:")
        lines.extend(f"{pad}  {n}:\t{quantity_text(quantities[n])}" for n in sorted(quantities))
    return lines


def _ports(ports: list[JSON], field: str) -> str:
    return ", ".join(f"{p.get(field, 0)}/{p.get('protocol') or ''}" for p in ports)


def _containers(
    pod: JSON, label: str, containers: list[JSON], statuses: list[JSON] | None, tz: tzinfo | None
) -> list[str]:
    """`describeContainers`: one block per container, its status found by name."""
    by_name = {s.get("name"): s for s in statuses or []}
    lines = [f"{label}:" + ("" if containers else " <none>")]
    for container in containers:
        status = by_name.get(container.get("name"))
        lines.append(f"  {container.get('name', '')}:")
        if status is not None:
            lines.append(f"    Container ID:\t{status.get('containerID') or ''}")
        lines.append(f"    Image:\t{container.get('image') or ''}")
        if status is not None:
            lines.append(f"    Image ID:\t{status.get('imageID') or ''}")
        for field, one, many in (
            ("containerPort", "Port", "Ports"),
            ("hostPort", "Host Port", "Host Ports"),
        ):
            text = _ports(container.get("ports") or [], field)
            lines.append(
                f"    {many}:\t{text}" if "," in text else f"    {one}:\t{text or '<none>'}"
            )
        seccomp = (container.get("securityContext") or {}).get("seccompProfile")
        if seccomp is not None:
            lines.extend(_seccomp(seccomp, "    "))
        for key, title in (("command", "Command"), ("args", "Args")):
            if container.get(key):
                lines.append(f"    {title}:")
                lines.extend(f"      {p}" for item in container[key] for p in str(item).split("\n"))
        if status is not None:
            lines.extend(_state_lines(status, tz))
        lines.extend(_resources(container.get("resources") or {}, 2))
        for key, title in (
            ("livenessProbe", "Liveness"),
            ("readinessProbe", "Readiness"),
            ("startupProbe", "Startup"),
        ):
            if container.get(key) is not None:
                lines.append(f"    {title}:\t{probe_text(container[key])}")
        lines.extend(_env_from(container.get("envFrom") or []))
        lines.extend(env_lines(pod, container))
        lines.extend(_mounts(container))
    return lines


def _state(title: str, state: JSON, tz: tzinfo | None) -> list[str]:
    """`describeStatus`: Running, Waiting or Terminated with its details; no state is Waiting."""
    if (running := state.get("running")) is not None:
        return [
            f"    {title}:\tRunning",
            f"      Started:\t{go_time(running.get('startedAt'), tz)}",
        ]
    if (waiting := state.get("waiting")) is not None:
        reason = waiting.get("reason")
        return [f"    {title}:\tWaiting", *([f"      Reason:\t{reason}"] if reason else [])]
    if (done := state.get("terminated")) is not None:
        lines = [f"    {title}:\tTerminated"]
        for key, label in (("reason", "Reason"), ("message", "Message")):
            if done.get(key):
                lines.append(f"      {label}:\t{done[key]}")
        lines.append(f"      Exit Code:\t{done.get('exitCode', 0)}")
        if (done.get("signal") or 0) > 0:
            lines.append(f"      Signal:\t{done['signal']}")
        lines.append(f"      Started:\t{go_time(done.get('startedAt'), tz)}")
        lines.append(f"      Finished:\t{go_time(done.get('finishedAt'), tz)}")
        return lines
    return [f"    {title}:\tWaiting"]


def _state_lines(status: JSON, tz: tzinfo | None) -> list[str]:
    """`describeContainerState`: State, Last State (only a terminated one), Ready, Restart Count."""
    lines = _state("State", status.get("state") or {}, tz)
    last = status.get("lastState") or {}
    if last.get("terminated") is not None:
        lines.extend(_state("Last State", last, tz))
    lines.append(f"    Ready:\t{'True' if status.get('ready') else 'False'}")
    lines.append(f"    Restart Count:\t{status.get('restartCount', 0)}")
    return lines


def _env_from(sources: list[JSON]) -> list[str]:
    """`describeContainerEnvFrom`: `<name>\\t<ConfigMap|Secret>[ with prefix 'P']\\tOptional: b`."""
    if not sources:
        return []
    lines = ["    Environment Variables from:"]
    for source in sources:
        ref, kind = source.get("configMapRef"), "ConfigMap"
        if ref is None:
            ref, kind = source.get("secretRef"), ("Secret" if source.get("secretRef") else "")
        ref = ref or {}
        optional = "true" if ref.get("optional") else "false"
        prefix = f" with prefix '{source['prefix']}'" if source.get("prefix") else ""
        lines.append(f"      {ref.get('name', '')}\t{kind}{prefix}\tOptional: {optional}")
    return lines


def _mounts(container: JSON) -> list[str]:
    """`describeContainerVolumes`: mounts sorted by path, `(rw|ro[,path="sub"])`; devices after."""
    mounts = sorted(container.get("volumeMounts") or [], key=lambda m: str(m.get("mountPath", "")))
    lines = ["    Mounts:" + ("" if mounts else "\t<none>")]
    for mount in mounts:
        flags = ["ro" if mount.get("readOnly") else "rw"]
        if mount.get("subPath"):
            flags.append(f"path={go_quote(mount['subPath'])}")
        lines.append(
            f"      {mount.get('mountPath', '')} from {mount.get('name', '')} ({','.join(flags)})"
        )
    devices = sorted(
        container.get("volumeDevices") or [], key=lambda d: str(d.get("devicePath", ""))
    )
    if devices:
        lines.append("    Devices:" + ("" if mounts else "\t<none>"))
        lines.extend(f"      {d.get('devicePath', '')} from {d.get('name', '')}" for d in devices)
    return lines


def _conditions(pod: JSON) -> list[str]:
    """Readiness Gates and Conditions: rows `  <type> \\t<status> ` (kubectl's trailing spaces)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    lines: list[str] = []
    if spec.get("readinessGates"):
        lines += ["Readiness Gates:", "  Type\tStatus"]
        for gate in spec["readinessGates"]:
            kind = gate.get("conditionType", "")
            found = next(
                (c.get("status", "") for c in conditions if c.get("type") == kind), "<none>"
            )
            lines.append(f"  {kind} \t{found} ")
    if conditions:
        lines += ["Conditions:", "  Type\tStatus"]
        lines.extend(f"  {c.get('type', '')} \t{c.get('status', '')} " for c in conditions)
    return lines
