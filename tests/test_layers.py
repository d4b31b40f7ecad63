"""The house rules of DESIGN.md, enforced: imports point one way, one clock, a light CLI.

Every module of the package falls under a rule (`test_every_module_has_a_rule`), so every case
here can fail; the rules themselves are checked against a planted violation each.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minikubelet"

# What no module may import, besides its own rule: the CLI (it is the top), the composition
# root, and the entry point.
_EVERYWHERE = {"cli", "agent", "__main__", "reset"}
# The runtime's plain data and protocols (ContainerInfo, InstanceState, SandboxInfo, Runtime,
# the exec streams): what `status`, `node`, `prober` and (for streams) `server` may see of the
# runtime. Its implementations (Docker, the fake, their helpers) are chosen by `agent` alone.
_RUNTIME_TYPES = "runtime.types"

# Leaves and the entry point: layer -> all it may import (besides its own modules).
ONLY: dict[str, set[str]] = {
    "__init__": set(),
    "clock": set(),
    "errors": set(),
    "paths": set(),
    "__main__": {"cli"},
}
# layer -> the minikubelet modules (or packages) it must never import (DESIGN.md "The house",
# STYLE.md 12), with _EVERYWHERE. A layer is a dotted prefix; a module obeys every layer it
# falls under, and may always import its own package's modules.
FORBIDDEN: dict[str, set[str]] = {
    # The composition root wires store, node, prober, runtime and server; the CLI starts it.
    "agent": set(),
    # `minikubelet reset`, run as its own process by the CLI: the engine and the state dirs.
    "reset": {"server", "store", "node", "prober", "status", "services", "printers"},
    # The model: used by all, uses nothing but itself, the clock and the error vocabulary.
    "api": {"server", "store", "node", "prober", "status", "runtime", "printers", "services"},
    # Pure functions of objects and now.
    "printers": {"server", "store", "node", "prober", "status", "runtime", "services"},
    # Status from the pod and what the runtime observed: its plain data, no engine, no store.
    "status": {"server", "store", "node", "prober", "runtime"},
    # The node uses prober, status, runtime (through its protocol) and store.
    "node": {"server", "runtime"},
    "node.sync": {"store", "prober"},  # decides, pure: the executor acts
    "node.actions": {"store", "prober"},  # what a sync may decide: data
    "node.init_containers": {"store", "prober"},  # the init half of the decision, pure
    "node.backoff": {"store", "runtime", "prober", "status"},  # back-off as data
    # Probe workers and handlers: the node owns them, they do not reach back.
    "prober": {"server", "store", "node", "status", "runtime"},
    "runtime": {"server", "store", "node", "prober", "status", "printers"},
    "store": {"server", "node", "prober", "status", "runtime", "printers"},
    # The API: store, printers and the node's narrow interfaces, never the engine directly.
    "server": {"runtime", "prober", "status"},
    # Endpoints from pods' readiness, traffic rules, DNS: store and api.
    "services": {"server", "node", "prober", "status", "runtime", "printers"},
    # A thin client of the agent over HTTP; `daemon run` execs `python -m minikubelet.agent`.
    "cli": {"server", "store", "node", "prober", "status", "runtime"},
}
# layer -> modules it may import although a rule above names their package.
PERMITTED: dict[str, set[str]] = {
    "status": {_RUNTIME_TYPES},
    "node": {_RUNTIME_TYPES},
    "prober": {_RUNTIME_TYPES},
    "server": {_RUNTIME_TYPES},
}

# Only clock.py may read the machine's clocks or sleep for real.
CLOCK_CALLS = {
    "time.time",
    "time.time_ns",
    "time.monotonic",
    "time.monotonic_ns",
    "time.perf_counter",
    "time.perf_counter_ns",
    "time.sleep",
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "anyio.sleep",
    "anyio.current_time",
    "asyncio.sleep",
}
CLOCK_OWNER = "clock.py"
# (module, call) -> why that module may: each must still be there (a stale one fails).
_LOOP_TIME = (
    "a gRPC probe's deadline and dial back-off (1 s x1.6, as grpc-go's) are network I/O on the "
    "event loop's time, the clock every handler's timeout (move_on_after) runs on; the fake "
    "clock does not drive sockets"
)
CLOCK_EXCEPTIONS = {
    ("prober.grpc", "anyio.sleep"): _LOOP_TIME,
    ("prober.grpc", "anyio.current_time"): _LOOP_TIME,
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imported(source: str, name: str = "") -> set[str]:
    """The minikubelet modules `source` (module `name`) imports, without the `minikubelet.`
    prefix: plain and `from` imports, `from minikubelet import x`, relative imports."""
    names: set[str] = set()
    package = ["minikubelet", *name.split(".")[:-1]]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {n.removeprefix("minikubelet.") for n in names if n.startswith("minikubelet.")}


def _under(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def _layers(name: str) -> list[str]:
    return [layer for layer in (*ONLY, *FORBIDDEN) if _under(name, layer)]


def violations(name: str, targets: set[str]) -> list[str]:
    """`name imports target (layer)` for each target a rule of `name` forbids."""
    own = name.split(".")[0]
    found = []
    for layer in _layers(name):
        allowed = PERMITTED.get(layer, set()) | ONLY.get(layer, set())
        for target in sorted(t for t in targets if not _under(t, own)):
            if layer in ONLY:
                bad = True
            else:
                bad = any(_under(target, d) for d in FORBIDDEN[layer] | _EVERYWHERE)
            if bad and not any(_under(target, ok) for ok in allowed):
                found.append(f"{name} imports {target} ({layer})")
    return found


def test_every_module_has_a_rule() -> None:
    assert [dotted(p) for p in modules() if not _layers(dotted(p))] == []


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_imports_point_one_way(path: Path) -> None:
    name = dotted(path)
    assert _layers(name), f"{name} falls under no rule"
    assert violations(name, imported(path.read_text(), name)) == []


@pytest.mark.parametrize(
    ("module", "source", "bad"),
    [
        ("status.phase", "from minikubelet.runtime.docker import DockerRuntime", True),
        ("status.phase", "from minikubelet.runtime.types import ContainerInfo", False),
        ("prober.worker", "from minikubelet.node import manager", True),
        ("prober.worker", "from minikubelet import store", True),
        ("node.manager", "from minikubelet.prober.manager import ProbeManager", False),
        ("node.manager", "import minikubelet.runtime.fake", True),
        ("node.sync", "from minikubelet.store import Store", True),
        ("node.worker", "from minikubelet.agent import run", True),
        ("clock", "from minikubelet.errors import MinikubeletError", True),
        ("errors", "from .clock import RealClock", True),
        ("__main__", "from minikubelet.cli.main import main", False),
        ("__main__", "from minikubelet.server import create_app", True),
        ("agent", "from minikubelet.server import create_app", False),
        ("agent", "from minikubelet.cli import main", True),
        ("cli.daemon", "from minikubelet.agent import run_agent", True),
        ("cli.get", "from minikubelet.store import Store", True),
        ("server.pods", "from minikubelet.runtime.docker import DockerRuntime", True),
        ("server.pods", "from ..store import Store", False),
        ("server.deps", "from minikubelet.runtime.types import ExecStream", False),
        ("services.endpoints", "from minikubelet.node import manager", True),
        ("api.codec", "from . import printers", False),  # api.printers: its own module
        ("api.codec", "from .. import printers", True),
    ],
)
def test_the_import_rules_catch_what_they_name(module: str, source: str, bad: bool) -> None:
    assert bool(violations(module, imported(source, module))) is bad


def _clock_calls(source: str) -> list[tuple[int, str]]:
    """(line, `module.function`) of each clock read or real sleep: attribute calls through any
    alias (`import time as t`, `datetime.datetime.now`) and names imported from the modules."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module.split('.')[-1]}.{alias.name}"
                aliases[alias.asname or alias.name] = full
                if full in CLOCK_CALLS:
                    found.append((node.lineno, full))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = [node.attr]
            value = node.value
            while isinstance(value, ast.Attribute):
                parts.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name):
                chain = ".".join([aliases.get(value.id, value.id), *reversed(parts)])
                call = ".".join(chain.split(".")[-2:])
                if call in CLOCK_CALLS:
                    found.append((node.lineno, call))
    return found


@pytest.mark.parametrize("path", [p for p in modules() if p.name != CLOCK_OWNER], ids=dotted)
def test_only_the_clock_reads_time(path: Path) -> None:
    name = dotted(path)
    calls = _clock_calls(path.read_text())
    allowed = {call for (module, call) in CLOCK_EXCEPTIONS if module == name}
    assert [f"{name}:{line} {call}" for line, call in calls if call not in allowed] == []
    assert allowed <= {call for _, call in calls}, f"stale CLOCK_EXCEPTIONS for {name}"


def test_the_clock_is_where_time_is_read() -> None:
    assert {call for _, call in _clock_calls((PACKAGE / CLOCK_OWNER).read_text())} >= {
        "time.monotonic",
        "datetime.now",
    }


@pytest.mark.parametrize(
    ("source", "call"),
    [
        ("import time\ntime.monotonic()", "time.monotonic"),
        ("from time import monotonic\nmonotonic()", "time.monotonic"),
        ("from time import monotonic as m\nm()", "time.monotonic"),
        ("import time as t\nt.sleep(1)", "time.sleep"),
        ("import datetime\ndatetime.datetime.now()", "datetime.now"),
        ("from datetime import datetime\ndatetime.now(UTC)", "datetime.now"),
        ("import anyio\nawait anyio.sleep(1)", "anyio.sleep"),
        ("from asyncio import sleep\nawait sleep(1)", "asyncio.sleep"),
        ("from time import perf_counter_ns", "time.perf_counter_ns"),
    ],
)
def test_the_clock_rule_catches_every_spelling(source: str, call: str) -> None:
    assert call in {c for _, c in _clock_calls(source)}


def test_cli_start_imports_nothing_heavy() -> None:
    code = (
        "import sys, minikubelet.cli.main as m; m.build_parser();"
        "print(','.join(x for x in ('docker', 'anyio', 'starlette', 'uvicorn', 'sqlite3')"
        " if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_agent_start_imports_no_streaming_nor_probe_clients() -> None:
    """An agent's start (issue 20's cold apply) imports what the first request and pod need:
    the streaming subresources (h2, wsproto), the httpGet and gRPC probe handlers (httpx, h2)
    and the manifest reader (PyYAML) come with their first use."""
    lazy = (
        "minikubelet.server.streams.routes",
        "minikubelet.prober.http",
        "minikubelet.prober.grpc",
        "httpx",
        "h2",
        "wsproto",
        "yaml",
    )
    code = (
        "import sys, minikubelet.agent, minikubelet.runtime.docker;"
        f"print(','.join(x for x in {lazy!r} if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
