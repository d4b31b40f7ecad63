"""The seed's walkthrough, live: webapl's readiness and liveness probes on this machine.

    python tools/walkthrough.py           # the seed's real timings (about 2 minutes)
    python tools/walkthrough.py --short   # the same story with short timings (under a minute)

Each step runs the command a user would type, shows its real output, and says what to look
for; waits are on conditions with deadlines. The pod is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "minikubelet"]
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")

NGINX_NOTE = """\
The notes start with nginx-pod.yml (image nginx:latest). This machine has no registry, so
that pod would end in ErrImagePull / ImagePullBackOff, exactly as on a node that cannot
reach Docker Hub; on a machine that can pull, `minikubelet apply -f manifests/nginx-pod.yml`
runs it. The walkthrough goes on with webapl, whose image `make images` built locally."""


def say(text: str) -> None:
    print(f"\n{BOLD}# {text}{RESET}", flush=True)


def run(*args: str, tail: int | None = None) -> str:
    """Run a minikubelet command as a user would, echoing it and its output."""
    print(f"{DIM}$ minikubelet {shlex.join(args)}{RESET}", flush=True)
    done = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    out = done.stdout
    if tail is not None:
        out = "".join(out.splitlines(keepends=True)[-tail:])
    sys.stdout.write(out)
    sys.stdout.write(done.stderr)
    sys.stdout.flush()
    return done.stdout


def pod() -> dict[str, Any]:
    from minikubelet.cli.client import connect
    from minikubelet.errors import NotFound

    with connect() as api:
        try:
            found: dict[str, Any] = api.request("GET", "/api/v1/namespaces/default/pods/webapl")
        except NotFound:
            return {}
        return found


def container() -> dict[str, Any]:
    statuses = (pod().get("status") or {}).get("containerStatuses") or [{}]
    found: dict[str, Any] = statuses[0]
    return found


def wait(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Wait for `check`, printing the seconds as they pass; the time it took."""
    start = time.monotonic()
    print(f"{DIM}  waiting: {what}{RESET}", end="", flush=True)
    while not check():
        if time.monotonic() - start > timeout:
            print()
            raise SystemExit(f"walkthrough: gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)
        print(".", end="", flush=True)
    took = time.monotonic() - start
    print(f" ({took:.0f}s)", flush=True)
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="short app and probe timings")
    args = parser.parse_args()
    manifest = "manifests/webapl-pod-short.yaml" if args.short else "manifests/webapl-pod.yaml"
    scale = 0.4 if args.short else 1.0
    ready_after, fail_after = (5, 14) if args.short else (20, 40)
    say("minikubelet: the seed's webapl walkthrough" + (" (short timings)" if args.short else ""))
    print(NGINX_NOTE)
    if pod():
        run("delete", "pod", "webapl", "--grace-period=1")
    say("Apply the manifest: the node agent starts the pod on the local Docker engine")
    run("apply", "-f", manifest)
    wait("the container to run", lambda: bool(container().get("state", {}).get("running")), 60)
    run("get", "pod")
    say(f"READY 0/1: /ready answers 500 for the app's first {ready_after} s: readiness fails")
    run("get", "pod", "-o", "wide")
    wait(
        "the readiness probe to pass (READY 1/1)",
        lambda: bool(container().get("ready")),
        60 * scale + 30,
    )
    run("get", "pod")
    say(
        f"From {fail_after} s /healthz answers 500: three failed liveness probes kill the container"
    )
    wait(
        "the third liveness failure and the Killing event",
        lambda: "failed liveness probe" in run_quiet("describe", "pod", "webapl"),
        70 * scale + 30,
    )
    run("describe", "pod", "webapl", tail=8)
    say("webapl runs as PID 1 and ignores SIGTERM: it dies by SIGKILL when the grace period ends")
    wait("the restart (RESTARTS 1)", lambda: container().get("restartCount", 0) >= 1, 45)
    run("get", "pod")
    say("The last state of the killed container: exit code 137 (SIGKILL)")
    run("describe", "pod", "webapl")
    say("What the killed container logged, probe requests included (logs --previous)")
    run("logs", "webapl", "--previous", tail=8)
    if run_quiet("timeline", "--help"):
        say("Every probe, readiness change and restart on one picture")
        run("timeline", "webapl")
    say("Clean up")
    run("delete", "-f", manifest, "--grace-period=1")
    return 0


def run_quiet(*args: str) -> str:
    done = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else ""


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
