"""`ValidateService` and `ValidateServiceUpdate` (`pkg/apis/core/validation/validation.go`, 1.32).

The checks run in upstream's order, because it is the order of the Status causes and of the
aggregated message kubectl prints. Values print as Go prints them in `field.Error`: strings %q,
numbers bare, slices and structs as `%#v` literals (`[]string{"10.96.0.5"}`).

The object is the Service's JSON after defaulting and allocation (`api/services.py`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from minikubelet.api.codec import from_dict
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import ObjectMeta
from minikubelet.api.raw import JSON
from minikubelet.api.validation.field import (
    Bare,
    FieldError,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from minikubelet.api.validation.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
    max_len_error,
    regex_error,
)
from minikubelet.api.validation.pod import validate_labels, validate_object_meta

__all__ = [
    "go_strings",
    "is_dns1035_label",
    "is_headless",
    "validate_cluster_ips",
    "validate_service",
    "validate_service_meta",
    "validate_service_update",
]

SPEC = Path("spec")
_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_AFFINITIES = ("ClientIP", "None")
_POLICIES = ("Cluster", "Local")
_MAX_AFFINITY_SECONDS = 86400
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_RE = re.compile(_DNS1035_FMT)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_BAD_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_LB_ONLY = "may only be used when `type` is 'LoadBalancer'"


def is_dns1035_label(value: str, prefix: bool = False) -> list[str]:
    """`NameIsDNS1035Label`: the Service name rule (a prefix may end in `-`)."""
    if prefix and len(value) > 1 and value.endswith("-"):
        value = value[:-2] + "a"
    errs = []
    if len(value.encode()) > 63:
        errs.append(max_len_error(63))
    if not _DNS1035_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_MSG, _DNS1035_FMT, "my-name", "abc-123"))
    return errs


def go_strings(values: list[str] | None) -> Bare:
    """A Go `[]string` as `%#v` prints it: `[]string{"a", "b"}`, nil as `[]string(nil)`."""
    if not values:
        return Bare("[]string(nil)")
    return Bare("[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}")


def _parse_ip(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if isinstance(text, str) else None
    except ValueError:
        return None


def is_headless(spec: JSON) -> bool:
    ips = spec.get("clusterIPs") or []
    return len(ips) == 1 and ips[0] == "None"


def validate_service_meta(meta: JSON) -> list[FieldError]:
    """`ValidateObjectMeta` with `ValidateServiceName` (a DNS-1035 label) as the name rule."""
    path = Path("metadata")
    name, generate = meta.get("name") or "", meta.get("generateName") or ""
    rest = validate_object_meta(from_dict(ObjectMeta, meta), path)
    names = {"metadata.name", "metadata.generateName"}
    errs = (
        [invalid(path.child("generateName"), generate, m) for m in is_dns1035_label(generate, True)]
        if generate
        else []
    )
    if name:
        errs += [invalid(path.child("name"), name, m) for m in is_dns1035_label(name)]
    else:
        errs += [e for e in rest if e.field == "metadata.name" and e.reason == "FieldValueRequired"]
    return errs + [e for e in rest if e.field not in names]


def _validate_port(port: JSON, require_name: bool, names: set[str], path: Path) -> list[FieldError]:
    """`validateServicePort`."""
    errs: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(path.child("name")))
    elif name:
        errs += [invalid(path.child("name"), name, m) for m in is_dns1123_label(name)]
        if name in names:
            errs.append(duplicate(path.child("name"), name))
        names.add(name)
    number = int(port.get("port") or 0)
    errs += [invalid(path.child("port"), number, m) for m in is_valid_port_num(number)]
    protocol = port.get("protocol") or ""
    if not protocol:
        errs.append(required(path.child("protocol")))
    elif protocol not in _PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), protocol, _PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, str):
        errs += [invalid(path.child("targetPort"), target, m) for m in is_valid_port_name(target)]
    else:
        number = int(target or 0)
        errs += [invalid(path.child("targetPort"), number, m) for m in is_valid_port_num(number)]
    if port.get("appProtocol") is not None:
        app = str(port["appProtocol"])
        errs += [invalid(path.child("appProtocol"), app, m) for m in is_qualified_name(app)]
    return errs


def _validate_type_rules(spec: JSON) -> list[FieldError]:
    """The per-type rules near the top of ValidateService."""
    errs: list[FieldError] = []
    kind = spec.get("type") or ""
    if kind in ("LoadBalancer", "NodePort") and is_headless(spec):
        detail = f"may not be set to 'None' for {kind} services"
        errs.append(invalid(SPEC.child("clusterIPs").index(0), "None", detail))
    elif kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies"):
            if spec.get(key):
                errs.append(forbidden(SPEC.child(key), "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(
                forbidden(SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services")
            )
        cname = str(spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs += [
                invalid(SPEC.child("externalName"), cname, m) for m in is_dns1123_subdomain(cname)
            ]
        else:
            errs.append(required(SPEC.child("externalName")))
    return errs


def _validate_affinity(spec: JSON) -> list[FieldError]:
    errs: list[FieldError] = []
    affinity = spec.get("sessionAffinity") or ""
    config = spec.get("sessionAffinityConfig")
    path = SPEC.child("sessionAffinityConfig")
    if not affinity:
        errs.append(required(SPEC.child("sessionAffinity")))
    elif affinity not in _AFFINITIES:
        errs.append(not_supported(SPEC.child("sessionAffinity"), affinity, _AFFINITIES))
    if affinity == "ClientIP":
        # validateClientIPAffinityConfig
        when = "when session affinity type is ClientIP"
        client = (config or {}).get("clientIP")
        if config is None:
            errs.append(required(path, when))
        elif client is None:
            errs.append(required(path.child("clientIP"), when))
        elif client.get("timeoutSeconds") is None:
            errs.append(required(path.child("clientIP", "timeoutSeconds"), when))
        elif not 0 < int(client["timeoutSeconds"]) <= _MAX_AFFINITY_SECONDS:
            detail = f"must be greater than 0 and less than {_MAX_AFFINITY_SECONDS}"
            errs.append(
                invalid(
                    path.child("clientIP", "timeoutSeconds"), int(client["timeoutSeconds"]), detail
                )
            )
    elif affinity == "None" and config is not None:
        errs.append(forbidden(path, "must not be set when session affinity is None"))
    return errs


def validate_cluster_ips(spec: JSON) -> list[FieldError]:
    """`ValidateServiceClusterIPsRelatedFields` (also run before allocation)."""
    if spec.get("type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    field = SPEC.child("clusterIPs")
    cluster_ip = spec.get("clusterIP") or ""
    ips: list[str] = list(spec.get("clusterIPs") or [])
    if cluster_ip:
        if not ips:
            errs.append(required(field))
        elif ips[0] != cluster_ip:
            errs.append(invalid(field, go_strings(ips), "first value must match `clusterIP`"))
    elif ips:
        errs.append(
            invalid(field, go_strings(ips), "must be empty when `clusterIP` is not specified")
        )
    seen: set[str] = set()
    for i, family in enumerate(spec.get("ipFamilies") or []):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(SPEC.child("ipFamilies").index(i), family, ("IPv4", "IPv6")))
        if family in seen:
            errs.append(duplicate(SPEC.child("ipFamilies").index(i), family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    policies = ("PreferDualStack", "RequireDualStack", "SingleStack")
    if policy is not None and policy not in policies:
        errs.append(not_supported(SPEC.child("ipFamilyPolicy"), policy, policies))
    bad = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad = True
                errs.append(
                    invalid(field, go_strings(ips), "'None' must be the first and only value")
                )
            continue
        if _parse_ip(ip) is None:
            bad = True
            errs.append(invalid(field.index(i), ip, _BAD_IP))
    if len(ips) > 2:
        errs.append(invalid(field, go_strings(ips), "may only hold up to 2 values"))
    if bad:
        return errs
    if len(ips) > 1 and len({_parse_ip(ip).version for ip in ips}) != len(ips):  # type: ignore[union-attr]
        errs.append(
            invalid(field, go_strings(ips), "may specify no more than one IP for each IP family")
        )
    families = spec.get("ipFamilies") or []
    if not is_headless(spec):
        for i, (ip, family) in enumerate(zip(ips, families, strict=False)):
            version = _parse_ip(ip).version  # type: ignore[union-attr]
            if family == "IPv4" and version == 6 or family == "IPv6" and version == 4:
                want = family
                detail = f"expected an {want} value as indicated by `ipFamilies[{i}]`"
                errs.append(invalid(field.index(i), ip, detail))
    return errs


def _validate_external_ips(spec: JSON) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, text in enumerate(spec.get("externalIPs") or []):
        path = SPEC.child("externalIPs").index(i)
        ip = _parse_ip(text)
        if ip is None:
            errs.append(invalid(path, text, _BAD_IP))
            continue
        if ip.is_unspecified:
            errs.append(invalid(path, text, "may not be unspecified (0.0.0.0)"))
        if ip.is_loopback:
            errs.append(
                invalid(path, text, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
            )
        if ip.is_link_local:
            detail = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
            errs.append(invalid(path, text, detail))
        if ip.is_multicast and (
            ip in ipaddress.ip_network("224.0.0.0/24")
            if ip.version == 4
            else ip in ipaddress.ip_network("ff02::/16")
        ):
            detail = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            errs.append(invalid(path, text, detail))
    return errs


def _go_service_port(protocol: str, port: int) -> Bare:
    """The duplicate-port BadValue: an internal `core.ServicePort` with only the key set (%#v)."""
    return Bare(
        f'core.ServicePort{{Name:"", Protocol:{go_quote(protocol)}, AppProtocol:(*string)(nil), '
        f'Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}'
    )


def _validate_ports_together(spec: JSON) -> list[FieldError]:
    """The ClusterIP nodePort rule, then duplicate nodePorts, then duplicate ports."""
    errs: list[FieldError] = []
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    path = SPEC.child("ports")
    if spec.get("type") == "ClusterIP":
        for i, port in enumerate(ports):
            if port.get("nodePort"):
                detail = "may not be used when `type` is 'ClusterIP'"
                errs.append(forbidden(path.index(i).child("nodePort"), detail))
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        if not port.get("nodePort"):
            continue
        key = (port.get("protocol") or "", int(port["nodePort"]))
        if key in node_ports:
            errs.append(duplicate(path.index(i).child("nodePort"), key[1]))
        node_ports.add(key)
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        key = (port.get("protocol") or "", int(port.get("port") or 0))
        if key in seen:
            errs.append(duplicate(path.index(i), _go_service_port(*key)))
        seen.add(key)
    return errs


def _validate_lb_fields(spec: JSON, annotations: JSON) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = spec.get("type")
    ranges_key = "service.beta.kubernetes.io/load-balancer-source-ranges"
    if spec.get("loadBalancerSourceRanges"):
        if kind != "LoadBalancer":
            errs.append(forbidden(SPEC.child("LoadBalancerSourceRanges"), _LB_ONLY))
    elif ranges_key in annotations and kind != "LoadBalancer":
        errs.append(forbidden(Path("metadata").child("annotations").key(ranges_key), _LB_ONLY))
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        errs.append(forbidden(SPEC.child("allocateLoadBalancerNodePorts"), _LB_ONLY))
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        errs.append(required(Path("allocateLoadBalancerNodePorts")))
    if spec.get("loadBalancerClass") is not None and kind != "LoadBalancer":
        errs.append(forbidden(SPEC.child("loadBalancerClass"), _LB_ONLY))
    return errs


def _externally_accessible(spec: JSON) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _validate_traffic_policies(spec: JSON) -> list[FieldError]:
    errs: list[FieldError] = []
    external = spec.get("externalTrafficPolicy") or ""
    if not _externally_accessible(spec):
        if external:
            detail = "may only be set for externally-accessible services"
            errs.append(invalid(SPEC.child("externalTrafficPolicy"), external, detail))
    elif not external:
        errs.append(required(SPEC.child("externalTrafficPolicy")))
    elif external not in _POLICIES:
        errs.append(not_supported(SPEC.child("externalTrafficPolicy"), external, _POLICIES))
    health = int(spec.get("healthCheckNodePort") or 0)
    needs_health = spec.get("type") == "LoadBalancer" and external == "Local"
    if not needs_health and health:
        detail = (
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        )
        errs.append(invalid(SPEC.child("healthCheckNodePort"), health, detail))
    elif needs_health and not health:
        errs.append(required(SPEC.child("healthCheckNodePort")))
    internal = spec.get("internalTrafficPolicy")
    if internal is None and spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
        errs.append(required(SPEC.child("internalTrafficPolicy")))
    if internal is not None and internal not in _POLICIES:
        errs.append(not_supported(SPEC.child("internalTrafficPolicy"), internal, _POLICIES))
    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution != "PreferClose":
        errs.append(
            not_supported(SPEC.child("trafficDistribution"), distribution, ("PreferClose",))
        )
    return errs


def validate_service(service: JSON) -> list[FieldError]:
    """`ValidateService`: every field error of a defaulted, allocated Service, in order."""
    meta = service.get("metadata") or {}
    spec = service.get("spec") or {}
    errs = validate_service_meta(meta)
    ports = [p if isinstance(p, dict) else {} for p in spec.get("ports") or []]
    if not ports and not is_headless(spec) and spec.get("type") != "ExternalName":
        errs.append(required(SPEC.child("ports")))
    errs += _validate_type_rules(spec)
    names: set[str] = set()
    for i, port in enumerate(ports):
        errs += _validate_port(port, len(ports) > 1, names, SPEC.child("ports").index(i))
    if spec.get("selector") is not None:
        errs += validate_labels(spec["selector"], SPEC.child("selector"))
    errs += _validate_affinity(spec)
    errs += validate_cluster_ips(spec)
    errs += _validate_external_ips(spec)
    kind = spec.get("type") or ""
    if not kind:
        errs.append(required(SPEC.child("type")))
    elif kind not in _TYPES:
        errs.append(not_supported(SPEC.child("type"), kind, _TYPES))
    errs += _validate_ports_together(spec)
    errs += _validate_lb_fields(spec, meta.get("annotations") or {})
    errs += _validate_traffic_policies(spec)
    return errs


def _upgrade_downgrade(old: JSON, new: JSON) -> list[FieldError]:
    """`validateUpgradeDowngradeClusterIPs` and `...IPFamilies`."""
    if "ExternalName" in (old.get("type"), new.get("type")):
        return []
    errs: list[FieldError] = []
    old_ips, new_ips = list(old.get("clusterIPs") or []), list(new.get("clusterIPs") or [])
    first = SPEC.child("clusterIPs").index(0)
    if not (is_headless(old) and is_headless(new)):
        if len(old_ips) == len(new_ips):
            for i, ip in enumerate(old_ips):
                if ip != new_ips[i]:
                    path = SPEC.child("clusterIPs").index(i)
                    errs.append(invalid(path, go_strings(new_ips), "may not change once set"))
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                errs.append(
                    invalid(first, go_strings(new_ips), "primary clusterIP can not be unset")
                )
            elif new_ips[0] != old_ips[0]:
                errs.append(invalid(first, go_strings(new_ips), "may not change once set"))
            if len(new_ips) == 1 and new.get("ipFamilyPolicy") != "SingleStack":
                detail = "must be set to 'SingleStack' when releasing the secondary clusterIP"
                errs.append(
                    invalid(SPEC.child("ipFamilyPolicy"), new.get("ipFamilyPolicy"), detail)
                )
        elif old_ips and new_ips[0] != old_ips[0]:
            errs.append(invalid(first, go_strings(new_ips), "may not change once set"))
    if is_headless(old) or is_headless(new):
        return errs
    old_fam, new_fam = list(old.get("ipFamilies") or []), list(new.get("ipFamilies") or [])
    family = SPEC.child("ipFamilies").index(0)
    if len(old_fam) == len(new_fam):
        errs += [
            invalid(family, go_strings(new_fam), "may not change once set")
            for a, b in zip(old_fam, new_fam, strict=True)
            if a != b
        ]
    elif len(old_fam) > len(new_fam):
        if not new_fam:
            errs.append(invalid(family, go_strings(new_fam), "primary ipFamily can not be unset"))
        elif new_fam[0] != old_fam[0]:
            errs.append(invalid(family, go_strings(new_fam), "may not change once set"))
    elif old_fam and new_fam[0] != old_fam[0]:
        errs.append(invalid(family, go_strings(new_fam), "may not change once set"))
    return errs


def validate_service_update(new: JSON, old: JSON) -> list[FieldError]:
    """`ValidateServiceUpdate` after the metadata update rules: IP and family changes, then
    `healthCheckNodePort`, then the whole `ValidateService`."""
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    errs = _upgrade_downgrade(old_spec, new_spec)
    old_class, new_class = old_spec.get("loadBalancerClass"), new_spec.get("loadBalancerClass")
    if old_spec.get("type") == "LoadBalancer" == new_spec.get("type") and old_class != new_class:
        errs.append(invalid(SPEC.child("loadBalancerClass"), new_class, "may not change once set"))
    needs = ("LoadBalancer", "Local")
    before = (old_spec.get("type"), old_spec.get("externalTrafficPolicy")) == needs
    after = (new_spec.get("type"), new_spec.get("externalTrafficPolicy")) == needs
    if (
        before
        and after
        and old_spec.get("healthCheckNodePort") != new_spec.get("healthCheckNodePort")
    ):
        errs.append(forbidden(SPEC.child("healthCheckNodePort"), "field is immutable"))
    return errs + validate_service(new)
