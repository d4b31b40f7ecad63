"""`timeline POD [-w] [--since D] [-o svg]`: a pod's probes, readiness and restarts on one chart.

Time on x in seconds since the pod started; one row per (container, probe kind) with its
thresholds, one per container for starts, kills and exits, one for Ready. Colour and Unicode
on a terminal; plain ASCII when piped, with NO_COLOR, or TERM=dumb. `-w` redraws as entries
arrive (and each second, as time moves on); `-o svg` writes a standalone SVG to stdout.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import sys
import threading

from minikubelet.api.raw import JSON
from minikubelet.cli import client as agent
from minikubelet.cli.logs import parse_duration
from minikubelet.cli.probes import fetch, pod_name, watch

__all__ = ["add_arguments", "run"]

CLEAR = "\x1b[H\x1b[2J"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD")
    parser.add_argument("-w", "--watch", action="store_true")
    parser.add_argument("--since", default="0s")
    parser.add_argument("-o", "--output", default="", choices=["", "svg"])
    parser.add_argument("--width", type=int, default=0, help="columns (default: the terminal's)")


def _styled() -> bool:
    env = os.environ
    return sys.stdout.isatty() and "NO_COLOR" not in env and env.get("TERM") != "dumb"


def draw(pod: JSON, items: list[JSON], since: float, output: str, width: int) -> str:
    from minikubelet.clock import RealClock
    from minikubelet.printers.timeline import Style, build_timeline, render_text

    timeline = build_timeline(pod, items, RealClock().utcnow(), since or None)
    if output == "svg":
        from minikubelet.printers.timeline_svg import render_svg

        return render_svg(timeline)
    fancy = _styled()
    columns = width or shutil.get_terminal_size((100, 24)).columns
    return render_text(timeline, columns, Style(unicode=fancy, color=fancy))


def run(args: argparse.Namespace) -> int:
    namespace, name = args.namespace or "default", pod_name(args.pod)
    since = parse_duration(args.since, "--since", "timeline")
    client = agent.connect()
    try:
        pod, history = fetch(client, namespace, name, "")
        items: list[JSON] = history["items"]
        live = args.watch and sys.stdout.isatty()
        sys.stdout.write((CLEAR if live else "") + draw(pod, items, since, args.output, args.width))
        sys.stdout.flush()
        if not args.watch:
            return 0
        arrived: queue.Queue[JSON | None] = queue.Queue()
        rv = str(history["metadata"]["resourceVersion"])

        def read() -> None:
            try:
                for entry in watch(agent.connect(), namespace, name, "", rv):
                    arrived.put(entry)
            finally:
                arrived.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            fresh, ended = _drain(arrived)
            items += fresh
            if ended:
                return 0
            if fresh or live:  # piped: a new picture only when something happened
                frame = draw(pod, items, since, args.output, args.width)
                sys.stdout.write((CLEAR if live else "\n") + frame)
                sys.stdout.flush()
    finally:
        client.close()


def _drain(arrived: queue.Queue[JSON | None]) -> tuple[list[JSON], bool]:
    """What arrived within a second (at least one wait), and whether the stream ended."""
    out: list[JSON] = []
    try:
        item = arrived.get(timeout=1.0)
        while True:
            if item is None:
                return out, True
            out.append(item)
            item = arrived.get_nowait()
    except queue.Empty:
        return out, False
