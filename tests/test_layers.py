"""The house rules of DESIGN.md, enforced: imports point one way, one clock, a light CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minikubelet"

# layer -> the minikubelet layers it must never import (DESIGN.md "The house", STYLE.md 12).
FORBIDDEN: dict[str, set[str]] = {
    "api": {"cli", "server", "store", "node", "prober", "status", "runtime", "printers"},
    "printers": {"cli", "server", "store", "node", "prober", "runtime"},
    "status": {"cli", "server", "store", "node", "prober", "runtime.docker"},
    "node.sync": {"cli", "server", "store", "runtime.docker"},
    "node.backoff": {"cli", "server", "store", "runtime"},
    "prober": {"cli", "server", "store", "runtime.docker"},
    "runtime": {"cli", "server", "store", "node", "prober", "status"},
    "store": {"cli", "server", "node", "prober", "runtime"},
    "server": {"cli"},
    "cli": {"server", "store", "node", "prober", "status", "runtime"},
}
# Only these modules may read the machine's clocks or sleep for real.
CLOCK_CALLS = {"time.time", "time.monotonic", "datetime.now", "datetime.utcnow", "time.sleep"}
CLOCK_OWNERS = {"clock.py"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n.removeprefix("minikubelet.") for n in names if n.startswith("minikubelet.")}


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_imports_point_one_way(path: Path) -> None:
    name = dotted(path)
    rules = [
        bad for layer, bad in FORBIDDEN.items() if name == layer or name.startswith(layer + ".")
    ]
    for target in imported(path):
        for bad in set().union(*rules) if rules else set():
            assert not (target == bad or target.startswith(bad + ".")), f"{name} imports {target}"


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_only_the_clock_reads_time(path: Path) -> None:
    if path.name in CLOCK_OWNERS:
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            call = f"{node.value.id}.{node.attr}"
            assert call not in CLOCK_CALLS, f"{dotted(path)}:{node.lineno} calls {call}"


def test_cli_start_imports_nothing_heavy() -> None:
    code = (
        "import sys, minikubelet.cli.main as m; m.build_parser();"
        "print(','.join(x for x in ('docker', 'anyio', 'starlette', 'uvicorn', 'sqlite3')"
        " if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
