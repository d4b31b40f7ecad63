"""`dashboard [--no-open]`: the URL of the live view the node agent serves on loopback (its
pods, each pod's probe timeline drawing itself, why each restart and Ready change happened,
its events), printed, and opened in a browser when there is a desktop to open it on."""

from __future__ import annotations

import argparse
import os
import sys

from minikubelet.cli import client as agent

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-open", action="store_true", help="only print the URL")


def _desktop() -> bool:
    return sys.stdout.isatty() and bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def run(args: argparse.Namespace) -> int:
    with agent.connect() as client:
        url = str(client.request("GET", "/minikubelet/v1/dashboard")["url"])
    print(url)
    if not args.no_open and _desktop():
        import webbrowser

        webbrowser.open(url)
    return 0
