"""The `minikubelet` command's entry point (pyproject's script).

A plain `exec` goes straight to its session (`quick_exec`, which imports a fifth of what the
whole CLI does) and the process ends with `os._exit` once its output is flushed: the
interpreter's teardown of the modules took ~10 ms per exec, for nothing left to do. Everything
else, and every exec `quick_exec` leaves, runs `main`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> int:
    argv = sys.argv[1:]
    if "exec" in argv:
        from minikubelet.cli import quick_exec

        try:
            code = quick_exec.run(argv)
        except (Exception, KeyboardInterrupt) as err:
            from minikubelet.cli.main import report

            return report(err)
        if code is not None:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                return code  # the interpreter's own exit reports it, as for any command
            os._exit(code)
    from minikubelet.cli.main import main as whole

    return whole(argv)
