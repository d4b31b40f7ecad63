"""The kubelet-managed /etc/hosts (`kubelet_pods.go` `makeHostsMount`, `ensureHostsFile`,
`managedHostsFileContent`, `hostsEntriesFromHostAliases`; `GeneratePodHostNameAndDomain`).

One file per pod (`pods/<uid>/etc-hosts`, mode 0644), bind-mounted at /etc/hosts in each of
its containers unless a container mounts /etc/hosts itself, and not for a pod without an IP.
A hostNetwork pod's is the node's /etc/hosts with the kubelet's header and its hostAliases.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Pod

__all__ = ["host_network_hosts", "managed_hosts", "pod_hostname_and_domain"]

_HEADER = "# Kubernetes-managed hosts file.\n"
_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"
_LOCAL = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def pod_hostname_and_domain(pod: Pod, cluster_domain: str) -> tuple[str, str]:
    """`GeneratePodHostNameAndDomain`: spec.hostname, else the pod name cut to 63 characters
    without a trailing `-` or `.`; the domain `<subdomain>.<ns>.svc.<cluster domain>` when a
    subdomain is set (validation made both DNS labels)."""
    hostname = pod.spec.hostname or (pod.name or "")[:63].rstrip("-.")
    subdomain = pod.spec.subdomain or ""
    domain = f"{subdomain}.{pod.namespace}.svc.{cluster_domain}" if subdomain else ""
    return hostname, domain


def _aliases(aliases: list[dict[str, Any]]) -> str:
    """`hostsEntriesFromHostAliases`: a blank line, the comment, one line per alias."""
    if not aliases:
        return ""
    lines = [f"{a.get('ip', '')}\t{chr(9).join(a.get('hostnames') or [])}\n" for a in aliases]
    return "\n# Entries added by HostAliases.\n" + "".join(lines)


def managed_hosts(pod: Pod, pod_ips: list[str], cluster_domain: str) -> str:
    """`managedHostsFileContent` for a pod on the pod network."""
    hostname, domain = pod_hostname_and_domain(pod, cluster_domain)
    if domain:
        entries = [f"{ip}\t{hostname}.{domain}\t{hostname}\n" for ip in pod_ips]
    else:
        entries = [f"{ip}\t{hostname}\n" for ip in pod_ips]
    aliases = list(pod.spec.extra.get("hostAliases") or [])
    return _HEADER + _LOCAL + "".join(entries) + _aliases(aliases)


def host_network_hosts(pod: Pod, node_hosts: str) -> str:
    """`nodeHostsFileContent`: a hostNetwork pod sees the node's own /etc/hosts, verbatim,
    under its header, then its hostAliases."""
    aliases = list(pod.spec.extra.get("hostAliases") or [])
    return _HEADER_HOST_NETWORK + node_hosts + _aliases(aliases)
