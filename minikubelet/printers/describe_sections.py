"""The pod-level sections of `kubectl describe pod` below the containers: Volumes, Topology
Spread Constraints and Events (kubectl's `describeVolumes`, `describeTopologySpreadConstraints`,
`DescribeEvents`). Lines use `\\t` between label and value, as `describe_fields` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from minikubelet.api.raw import JSON
from minikubelet.api.rfc3339 import parse_time
from minikubelet.printers.describe_fields import go_bool, parse_quantity, quantity_text, since
from minikubelet.printers.tabwriter import TabWriter

__all__ = ["event_rows", "events_block", "layout", "topology_lines", "volume_lines"]

_F = "    "  # a volume's fields are at LEVEL_2


def _positive(quantity: Any) -> bool:
    try:
        return parse_quantity(quantity).sign > 0
    except ValueError:
        return False


def _go_bool_ptr(value: Any) -> str:
    """Go's `%v` of a `*bool`, which 1.32 prints raw in projected volumes."""
    return "<nil>" if value is None else go_bool(value)


def _projected(source: JSON) -> list[str]:
    lines = [f"{_F}Type:\tProjected (a volume that contains injected data from multiple sources)"]
    for item in source.get("sources") or []:
        if (secret := item.get("secret")) is not None:
            lines.append(f"{_F}SecretName:\t{secret.get('name', '')}")
            lines.append(f"{_F}SecretOptionalName:\t{_go_bool_ptr(secret.get('optional'))}")
        elif item.get("downwardAPI") is not None:
            lines.append(f"{_F}DownwardAPI:\ttrue")
        elif (config := item.get("configMap")) is not None:
            lines.append(f"{_F}ConfigMapName:\t{config.get('name', '')}")
            lines.append(f"{_F}ConfigMapOptional:\t{_go_bool_ptr(config.get('optional'))}")
        elif (token := item.get("serviceAccountToken")) is not None:
            lines.append(f"{_F}TokenExpirationSeconds:\t{token.get('expirationSeconds', 0)}")
    return lines


def _empty_dir(source: JSON) -> list[str]:
    limit = source.get("sizeLimit")
    shown = "<unset>"  # only a limit above zero is shown
    if limit is not None and _positive(limit):
        shown = quantity_text(limit)
    return [
        f"{_F}Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)",
        f"{_F}Medium:\t{source.get('medium') or ''}",
        f"{_F}SizeLimit:\t{shown}",
    ]


def _downward(source: JSON) -> list[str]:
    lines = [f"{_F}Type:\tDownwardAPI (a volume populated by information about the pod)"]
    lines.append(f"{_F}Items:")
    for item in source.get("items") or []:
        if (field := item.get("fieldRef")) is not None:
            lines.append(f"      {field.get('fieldPath', '')} -> {item.get('path', '')}")
        if (resource := item.get("resourceFieldRef")) is not None:
            lines.append(f"      {resource.get('resource', '')} -> {item.get('path', '')}")
    return lines


def _volume(volume: JSON) -> list[str]:
    """One volume's fields, for the sources a node can hold; `<unknown>` for the others."""
    if (host := volume.get("hostPath")) is not None:
        kind = host.get("type")
        return [
            f"{_F}Type:\tHostPath (bare host directory volume)",
            f"{_F}Path:\t{host.get('path', '')}",
            f"{_F}HostPathType:\t{'<none>' if kind is None else kind}",
        ]
    if (empty := volume.get("emptyDir")) is not None:
        return _empty_dir(empty)
    if (secret := volume.get("secret")) is not None:
        return [
            f"{_F}Type:\tSecret (a volume populated by a Secret)",
            f"{_F}SecretName:\t{secret.get('secretName', '')}",
            f"{_F}Optional:\t{go_bool(secret.get('optional'))}",
        ]
    if (config := volume.get("configMap")) is not None:
        return [
            f"{_F}Type:\tConfigMap (a volume populated by a ConfigMap)",
            f"{_F}Name:\t{config.get('name', '')}",
            f"{_F}Optional:\t{go_bool(config.get('optional'))}",
        ]
    if (claim := volume.get("persistentVolumeClaim")) is not None:
        return [
            f"{_F}Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the "
            "same namespace)",
            f"{_F}ClaimName:\t{claim.get('claimName', '')}",
            f"{_F}ReadOnly:\t{go_bool(claim.get('readOnly'))}",
        ]
    if (projected := volume.get("projected")) is not None:
        return _projected(projected)
    if (downward := volume.get("downwardAPI")) is not None:
        return _downward(downward)
    return ["  <unknown>"]


def volume_lines(volumes: list[JSON] | None) -> list[str]:
    """`describeVolumes`: `Volumes:\\t<none>`, or each volume's name and fields."""
    if not volumes:
        return ["Volumes:\t<none>"]
    lines = ["Volumes:"]
    for volume in volumes:
        lines.append(f"  {volume.get('name', '')}:")
        lines.extend(_volume(volume))
    return lines


def _selector_text(selector: JSON | None) -> str:
    """`metav1.FormatLabelSelector`: requirements sorted by key, `<none>` when empty."""
    if selector is None:
        return "<none>"
    terms: list[tuple[str, str]] = [
        (k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()
    ]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})"}.get(op)
        terms.append((key, text or (key if op == "Exists" else f"!{key}")))
    text = ",".join(t for _, t in sorted(terms, key=lambda term: term[0]))
    return text or "<none>"


def topology_lines(constraints: list[JSON] | None) -> list[str]:
    """`describeTopologySpreadConstraints`, sorted by topology key; nothing when there are none."""
    lines = []
    ordered = sorted(constraints or [], key=lambda c: str(c.get("topologyKey") or ""))
    for i, tsc in enumerate(ordered):
        head = "Topology Spread Constraints:\t" if i == 0 else "\t"
        text = (
            f"{tsc.get('topologyKey', '')}:{tsc.get('whenUnsatisfiable', '')} when max skew "
            f"{tsc.get('maxSkew', 0)} is exceeded"
        )
        if tsc.get("labelSelector") is not None:
            text += f" for selector {_selector_text(tsc['labelSelector'])}"
        lines.append(head + text)
    return lines


def _sort_key(event: JSON) -> datetime:
    stamp = event.get("lastTimestamp")
    return parse_time(stamp) if stamp else datetime.min.replace(tzinfo=UTC)  # Go's zero time


def event_rows(events: list[JSON], now: datetime) -> list[str]:
    """`DescribeEvents` rows after the header: sorted by lastTimestamp (stable, as Go's
    insertion sort is for the short lists a pod has), Age in the `x3 over 15m` form."""
    rows = []
    for event in sorted(events, key=_sort_key):
        first = since(event.get("eventTime"), now)
        if not event.get("eventTime"):
            first = since(event.get("firstTimestamp"), now)
        series = event.get("series")
        count = event.get("count") or 0
        if series is not None:
            age = (
                f"{since(series.get('lastObservedTime'), now)} "
                f"(x{series.get('count', 0)} over {first})"
            )
        elif count > 1:
            age = f"{since(event.get('lastTimestamp'), now)} (x{count} over {first})"
        else:
            age = first
        source = (event.get("source") or {}).get("component") or event.get(
            "reportingController", ""
        )
        message = str(event.get("message") or "").strip()
        rows.append(
            f"  {event.get('type', '')}\t{event.get('reason', '')}\t{age}\t{source}\t{message}"
        )
    return rows


_ESCAPES = str.maketrans({"\x1b": "^[", "\r": "\\r"})  # printers.WriteEscaped


def layout(lines: list[str]) -> str:
    """The Go tabwriter over the lines (minwidth 0, padding 2), as `tabbedString` lays them
    out, after `WriteEscaped`; alignment is per run of lines that hold a tab."""
    if not lines:
        return ""
    return TabWriter(0, 2).format("".join(line + "\n" for line in lines).translate(_ESCAPES))


def events_block(events: list[JSON] | None, now: datetime) -> tuple[list[str], list[str]]:
    """`DescribeEvents`: nothing for `--show-events=false`; `Events:\t<none>` joins the
    block above; a table is flushed apart."""
    if events is None:
        return [], []
    if not events:
        return ["Events:\t<none>"], []
    table = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    return [], table + event_rows(events, now)
