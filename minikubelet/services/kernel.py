"""Service routes in the kernel: the agent's own nftables table, written through libnftables.

    KernelRoutes.open(instance)      a libnftables context: its netlink socket lives as long as
                                     this process, and the table it makes is `flags owner`, so
                                     the kernel deletes the table when the process ends, however
                                     it ends (`daemon stop`, SIGKILL, a crash)
    .apply(routes)                   one transaction per sync (nft_rules.py)
    .bridge(address)                 the pod bridge holding the node's address: `route_localnet`
                                     on it (127.0.0.1:NODE-PORT may then be translated to a pod),
                                     `hairpin_mode` on its ports (a pod may reach itself
                                     through a Service)

libnftables is Debian's `libnftables1` (the library under the `nft` command); it is called with
ctypes, as its own Python binding does, so nothing is compiled. The two bridge switches belong
to the node's pod network and go with it (`reset` removes the network); they are the only
things of the proxy that outlive a SIGKILLed agent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from pathlib import Path

from minikubelet.services.nft_rules import Ruleset, render
from minikubelet.services.proxy_rules import Address, Backend

__all__ = ["KernelRoutes", "table_name"]

log = logging.getLogger("minikubelet.services")
_SYS = Path("/sys/class/net")
_PROC = Path("/proc/sys/net/ipv4/conf")


def table_name(instance: str) -> str:
    return f"minikubelet-{instance}"


class _Libnftables:
    """The four calls of libnftables this module needs."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("nftables") or "libnftables.so.1"
        lib = ctypes.CDLL(path, use_errno=True)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._lib = lib
        self._ctx: int | None = lib.nft_ctx_new(0)
        if not self._ctx:
            raise OSError("libnftables: no context")
        lib.nft_ctx_buffer_error(self._ctx)

    def run(self, script: str) -> None:
        if self._ctx is None:
            raise OSError("libnftables: closed")
        if self._lib.nft_run_cmd_from_buffer(self._ctx, script.encode()) != 0:
            error = self._lib.nft_ctx_get_error_buffer(self._ctx) or b""
            raise OSError(error.decode(errors="replace").strip() or "nftables refused the rules")

    def close(self) -> None:
        if self._ctx is not None:
            self._lib.nft_ctx_free(self._ctx)  # its socket closes: the owned table goes
            self._ctx = None


class KernelRoutes:
    """The agent's nftables table; see the module docstring."""

    def __init__(self, nft: _Libnftables, table: str) -> None:
        self._nft = nft
        self.table = table
        self._made: Ruleset | None = None
        self.localnet = ""  # the bridge with route_localnet on ("" until known)

    @classmethod
    def open(cls, instance: str) -> KernelRoutes:
        """The table, empty; OSError when libnftables or the kernel refuses (no library, no
        CAP_NET_ADMIN, no nf_tables)."""
        nft = _Libnftables()
        routes = cls(nft, table_name(instance))
        try:
            routes.apply({})
        except OSError:
            nft.close()
            raise
        return routes

    def apply(self, routes: dict[Address, Backend]) -> None:
        ruleset = render(self.table, routes, self._made)
        self._nft.run(ruleset.script)
        self._made = ruleset

    def bridge(self, address: str, interfaces: list[tuple[str, str]]) -> str:
        """Set the pod bridge holding `address` up for the routes; its name, or "" when no
        device of the host holds it."""
        device = next((dev for dev, ip in interfaces if ip == address), "")
        if not device:
            return ""
        try:
            if device != self.localnet:
                (_PROC / device / "route_localnet").write_text("1")
                self.localnet = device
            for port in (_SYS / device / "brif").glob("*/hairpin_mode"):
                if port.read_text().strip() != "1":
                    port.write_text("1")
        except OSError as exc:
            log.warning("cannot set up bridge %s for service routes: %s", device, exc)
            return ""
        return device

    def close(self) -> None:
        self._nft.close()
