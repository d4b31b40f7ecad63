"""`reset [--all] [--images] [--force]`: take the node down and remove everything it made.

The work is done by `python -m minikubelet.reset` (it needs the engine's SDK, which the CLI
never imports); this command says what will go and asks first, unless `--force`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from minikubelet.errors import ManifestError
from minikubelet.paths import StatePaths

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all",
        action="store_true",
        help="every node instance found on the engine, and every agent of this machine",
    )
    parser.add_argument("--images", action="store_true", help="also the images the project built")
    parser.add_argument("-f", "--force", action="store_true", help="do not ask first")


def _confirmed(args: argparse.Namespace, home: str) -> bool:
    if args.force:
        return True
    if not sys.stdin.isatty():
        raise ManifestError("reset removes every pod of the node: pass --force to confirm")
    what = (
        "every minikubelet node on this engine (containers, networks) and the agents' state"
        if args.all
        else f"the node of {home}: its agent, pods, containers, network and state"
    )
    if args.images:
        what += ", and the images minikubelet built"
    answer = input(f"This removes {what}.\nContinue? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    paths = StatePaths.from_env()
    if not _confirmed(args, str(paths.home)):
        print("reset cancelled")
        return 1
    flags = [flag for flag, on in (("--all", args.all), ("--images", args.images)) if on]
    done = subprocess.run([sys.executable, "-m", "minikubelet.reset", *flags], check=False)
    return done.returncode
