"""The small formatters `kubectl describe pod` is made of (kubectl's describe.go helpers).

Each returns text lines with `\\t` between label and value; `describe.py` arranges them and the
tabwriter aligns them. Values are printed as Go prints them: `%v` of a slice is `[a b]`, a nil
pointer is `<nil>`, a zero time is year 1. Kept apart from `describe.py` so both stay readable.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from minikubelet.api import qos
from minikubelet.api.raw import JSON
from minikubelet.api.rfc3339 import parse_time
from minikubelet.printers.duration import human_duration

if TYPE_CHECKING:
    from minikubelet.api.quantity import Quantity

__all__ = [
    "annotation_lines",
    "env_lines",
    "go_bool",
    "parse_quantity",
    "go_time",
    "label_lines",
    "probe_text",
    "qos_class",
    "quantity_text",
    "since",
    "toleration_lines",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SKIPPED_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}
_MAX_ANNOTATION = 140
_PATH_SAFE = "/$&+,:;=@"  # Go's shouldEscape(encodePath) leaves these (and -_.~) alone


def go_time(text: str | None, tz: tzinfo | None) -> str:
    """Go's `time.RFC1123Z` (`Mon, 02 Jan 2006 15:04:05 -0700`); a missing time is Go's zero
    time. `tz=None` is the machine's local zone, which is what kubectl prints in."""
    if not text:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    moment = parse_time(text)
    moment = moment.astimezone() if tz is None else moment.astimezone(tz)
    offset = int((moment.utcoffset() or (moment - moment)).total_seconds()) // 60
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment:%H:%M:%S} {sign}{hours:02d}{minutes:02d}"
    )


def since(text: str | None, now: datetime) -> str:
    """kubectl's `translateTimestampSince`: HumanDuration(now − t), `<unknown>` for no time."""
    if not text:
        return "<unknown>"
    return human_duration(now - parse_time(text))


def go_bool(value: Any) -> str:
    return "true" if value else "false"


def parse_quantity(value: Any) -> Quantity:
    """`resource.ParseQuantity`; raises a ValueError. Imported on first use: only pods with
    resources pay for the quantity module (and the `dataclasses` it imports)."""
    from minikubelet.api.quantity import Quantity

    return Quantity.parse(value)


def quantity_text(value: Any) -> str:
    """`Quantity.String()`: the canonical form (the server already stores it so)."""
    try:
        return str(parse_quantity(value))
    except ValueError:
        return str(value)


def label_lines(title: str, labels: dict[str, str] | None) -> list[str]:
    """`printLabelsMultiline`: sorted `k=v`, continuation lines aligned under the first value."""
    if not labels:
        return [f"{title}:\t<none>"]
    return [
        f"{title}:\t{key}={labels[key]}" if i == 0 else f"\t{key}={labels[key]}"
        for i, key in enumerate(sorted(labels))
    ]


def _shorten(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit].decode(errors="replace") + "..."


def annotation_lines(annotations: dict[str, str] | None) -> list[str]:
    """`printAnnotationsMultiline`: long or multi-line values go below their key, cut at 138
    bytes; kubectl's own last-applied annotation is never shown."""
    keys = sorted(k for k in annotations or {} if k not in _SKIPPED_ANNOTATIONS)
    if not keys or annotations is None:
        return ["Annotations:\t<none>"]
    lines: list[str] = []
    for i, key in enumerate(keys):
        head = "Annotations:\t" if i == 0 else "\t"
        value = annotations[key].removesuffix("\n")
        if len(value.encode()) + len(key.encode()) + 2 > _MAX_ANNOTATION or "\n" in value:
            lines.append(f"{head}{key}:")
            lines.extend(f"\t  {_shorten(s, _MAX_ANNOTATION - 2)}" for s in value.split("\n"))
        else:
            lines.append(f"{head}{key}: {value}")
    return lines


def toleration_lines(tolerations: list[JSON] | None) -> list[str]:
    """`printTolerationsMultilineWithIndent`: sorted by key, `key[=value][:Effect]` plus
    ` op=Exists` and ` for Ns`."""
    if not tolerations:
        return ["Tolerations:\t<none>"]
    lines = []
    for i, tol in enumerate(sorted(tolerations, key=lambda t: str(t.get("key") or ""))):
        key, value, effect = tol.get("key") or "", tol.get("value") or "", tol.get("effect") or ""
        text = key + (f"={value}" if value else "") + (f":{effect}" if effect else "")
        if tol.get("operator") == "Exists" and not value:
            text += " op=Exists" if key or effect else "op=Exists"
        if tol.get("tolerationSeconds") is not None:
            text += f" for {tol['tolerationSeconds']}s"
        lines.append(("Tolerations:\t" if i == 0 else "\t") + text)
    return lines


def _port_text(port: Any) -> str:
    return "" if port is None else str(port)  # IntOrString.String()


def _http_url(get: JSON) -> str:
    """Go's `url.URL{Scheme, Host, Path}.String()` as DescribeProbe builds it."""
    scheme = str(get.get("scheme") or "").lower()
    host = str(get.get("host") or "")
    port = _port_text(get.get("port"))
    if port:
        host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    path = str(get.get("path") or "")
    url = f"{scheme}:" if scheme else ""
    if (scheme or host) and (host or path):
        url += "//" + host
    if path and not path.startswith("/") and host:
        url += "/"
    return url + quote(path, safe=_PATH_SAFE)


def probe_text(probe: JSON) -> str:
    """`DescribeProbe`: the handler, then the numbers as stored (the API server defaults them)."""
    attrs = (
        f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 0)}s "
        f"period={probe.get('periodSeconds', 0)}s #success={probe.get('successThreshold', 0)} "
        f"#failure={probe.get('failureThreshold', 0)}"
    )
    if (exec_ := probe.get("exec")) is not None:
        return f"exec [{' '.join(exec_.get('command') or [])}] {attrs}"
    if (get := probe.get("httpGet")) is not None:
        return f"http-get {_http_url(get)} {attrs}"
    if (tcp := probe.get("tcpSocket")) is not None:
        return f"tcp-socket {tcp.get('host') or ''}:{_port_text(tcp.get('port'))} {attrs}"
    if (grpc := probe.get("grpc")) is not None:
        return f"grpc <pod>:{grpc.get('port', 0)} {grpc.get('service') or ''} {attrs}"
    return f"unknown {attrs}"


def _field_value(pod: JSON, path: str) -> str:
    """kubectl's `EnvValueRetriever`: its scheme converts only metadata.name and
    metadata.namespace, so every other fieldRef prints an empty value."""
    meta = pod.get("metadata") or {}
    if path in ("metadata.name", "metadata.namespace"):
        return str(meta.get(path.split(".")[1]) or "")
    return ""


def _resource_value(ref: JSON, container: JSON) -> str:
    """`ExtractContainerResourceValue`: ceil(value / divisor), cpu in millis."""
    kind, _, name = str(ref.get("resource") or "").partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        return ""
    divisor = parse_quantity(ref.get("divisor") or "0")
    if divisor.is_zero:
        divisor = parse_quantity("1")
    amount = parse_quantity(((container.get("resources") or {}).get(kind) or {}).get(name, "0"))
    if name == "cpu":
        numerator, denominator = amount.milli_value(), divisor.milli_value()
    else:
        numerator, denominator = amount.value(), divisor.value()
    return str(-(-numerator // denominator))


def env_lines(pod: JSON, container: JSON) -> list[str]:
    """`describeContainerEnvVars`: at level 3 (6 spaces), values resolved as kubectl does."""
    env = container.get("env") or []
    lines = ["    Environment:" + ("" if env else "\t<none>")]
    pad = "      "
    for var in env:
        name, source = var.get("name", ""), var.get("valueFrom")
        if source is None:
            for i, part in enumerate(str(var.get("value") or "").split("\n")):
                lines.append(f"{pad}{name}:\t{part}" if i == 0 else f"{pad}\t{part}")
        elif (ref := source.get("fieldRef")) is not None:
            value = _field_value(pod, str(ref.get("fieldPath") or ""))
            api = ref.get("apiVersion") or ""
            lines.append(f"{pad}{name}:\t{value} ({api}:{ref.get('fieldPath', '')})")
        elif (ref := source.get("resourceFieldRef")) is not None:
            value = _resource_value(ref, container)
            resource = ref.get("resource", "")
            if value == "0" and resource in ("limits.cpu", "limits.memory"):
                value = "node allocatable"
            lines.append(f"{pad}{name}:\t{value} ({resource})")
        elif (ref := source.get("secretKeyRef")) is not None:
            lines.append(
                f"{pad}{name}:\t<set to the key '{ref.get('key', '')}' in secret "
                f"'{ref.get('name', '')}'>\tOptional: {go_bool(ref.get('optional'))}"
            )
        elif (ref := source.get("configMapKeyRef")) is not None:
            lines.append(
                f"{pad}{name}:\t<set to the key '{ref.get('key', '')}' of config map "
                f"'{ref.get('name', '')}'>\tOptional: {go_bool(ref.get('optional'))}"
            )
    return lines


def qos_class(pod: JSON) -> str:
    """`GetPodQOS`: the status's class, else `ComputePodQOS` over regular and init containers."""
    status = pod.get("status") or {}
    if status.get("qosClass"):
        return str(status["qosClass"])
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    resources = [c.get("resources") or {} for c in containers]
    return qos.qos_class(
        (qos.json_amounts(r, "requests"), qos.json_amounts(r, "limits")) for r in resources
    )
