"""Run every benchmark in bench/ that needs no arguments; `make bench` calls this."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ["manifests.py", "scheduler.py", "apply.py"]


def main() -> int:
    here = Path(__file__).resolve().parent
    status = 0
    for bench in BENCHES:
        status |= subprocess.run([sys.executable, str(here / bench)], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
