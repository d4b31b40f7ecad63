"""The pod's /etc/resolv.conf, as the kubelet forms it (`pkg/kubelet/network/dns/dns.go`
`GetPodDNS`, `appendDNSConfig`) and cri-dockerd writes it (`rewriteResolvFile`: nameservers,
then `search`, then `options`, one trailing newline).

- ClusterFirst (the default) and ClusterFirstWithHostNet: `nameserver <cluster DNS>`, search
  `<ns>.svc.cluster.local svc.cluster.local cluster.local` then the host's search list
  (duplicates dropped, the first kept), `options ndots:5` (the host's options are dropped).
  A hostNetwork pod with plain ClusterFirst gets Default, as the kubelet treats it.
- Default: the engine's own file (None here: nothing is written).
- None: only `dnsConfig`. `dnsConfig` adds nameservers and searches (duplicates dropped) and
  merges options by name (a given value replaces the base's).
- At most 3 nameservers and 32 search domains are kept (the kubelet's limits).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DOMAIN", "parse_resolv_conf", "pod_resolv_conf"]

DOMAIN = "cluster.local"
_MAX_NAMESERVERS = 3
_MAX_SEARCHES = 32


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """`parseResolvConf`: nameservers accumulate; the last search and options lines win."""
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            nameservers.append(words[1])
        elif words[0] == "search":
            searches = [w.removesuffix(".") for w in words[1:]]
        elif words[0] == "options":
            options = words[1:]
    return nameservers, searches, options


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(base: list[str], extra: list[dict[str, Any]]) -> list[str]:
    merged = {item.partition(":")[0]: item for item in base}
    for option in extra:
        name = str(option.get("name") or "")
        value = option.get("value")
        merged[name] = name if value is None else f"{name}:{value}"
    return list(merged.values())


def pod_resolv_conf(
    spec: dict[str, Any], namespace: str, cluster_dns: str, host: str
) -> str | None:
    """The file's text for a pod `spec` (JSON), or None to leave the engine's file alone."""
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"
    config = spec.get("dnsConfig") or {}
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
        if not cluster_dns:
            return None  # MissingClusterDNS: the kubelet falls back to Default
        _, host_searches, _ = parse_resolv_conf(host)
        nameservers = [cluster_dns]
        searches = [f"{namespace}.svc.{DOMAIN}", f"svc.{DOMAIN}", DOMAIN, *host_searches]
        options = ["ndots:5"]
    elif policy == "None":
        nameservers, searches, options = [], [], []
    else:
        if not config:
            return None
        nameservers, searches, options = parse_resolv_conf(host)
    nameservers = _unique(nameservers + list(config.get("nameservers") or []))[:_MAX_NAMESERVERS]
    searches = _unique(searches + list(config.get("searches") or []))[:_MAX_SEARCHES]
    options = _merge_options(options, list(config.get("options") or []))
    lines = [f"nameserver {ns}" for ns in nameservers]
    if searches:
        lines.append("search " + " ".join(searches))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + "\n"
