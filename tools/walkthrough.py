"""The seed's walkthrough, live: nginx-pod.yml, then webapl's readiness and liveness probes,
and webapl behind a Service, where readiness decides which requests reach the pod.

    python tools/walkthrough.py           # the seed's real timings (about 2 minutes)
    python tools/walkthrough.py --short   # the same story with short timings (under a minute)

Each step runs the command a user would type, shows its real output, and says what to look
for; waits are on conditions with deadlines. While webapl runs, a client sends one request a
second through the Service's NodePort and `get endpoints webapl -w` runs beside it
(tools/walkthrough_service.py); the walkthrough shows both as they change. The pods and the
Service are deleted at the end.

nginx-pod.yml (`nginx:latest`) really pulls where images/ensure-engine.sh started the engine:
it serves Docker Hub's name from a loopback mirror holding nginx built from Debian's package.
On an engine started otherwise the pull fails as on a node without Docker Hub, and the
walkthrough shows that and goes on.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from walkthrough_service import ANSWERED, EndpointsWatch, Traffic, request, spans_text

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "minikubelet"]
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")

NGINX_FAILED = """\
The pull failed: this engine has no loopback mirror of Docker Hub (images/ensure-engine.sh adds
one only to an engine it starts itself), so the pod reads ErrImagePull, then ImagePullBackOff,
exactly as on a node that cannot reach Docker Hub. The walkthrough goes on with webapl, whose
image `make images` built locally."""


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


def pod(name: str = "webapl") -> dict[str, Any]:
    from minikubelet.cli.client import connect
    from minikubelet.errors import NotFound

    with connect() as api:
        try:
            found: dict[str, Any] = api.request("GET", f"/api/v1/namespaces/default/pods/{name}")
        except NotFound:
            return {}
        return found


def container(name: str = "webapl") -> dict[str, Any]:
    statuses = (pod(name).get("status") or {}).get("containerStatuses") or [{}]
    found: dict[str, Any] = statuses[0]
    return found


def nginx() -> None:
    """The seed's first manifest, unchanged: it pulls nginx:latest, then serves port 80."""
    say("The notes start with nginx-pod.yml: image nginx:latest, so the kubelet pulls it first")
    if pod("nginx"):
        run_quiet("delete", "pod", "nginx", "--grace-period=1")
    run("apply", "-f", "manifests/nginx-pod.yml")

    def settled() -> bool:
        state = container("nginx").get("state") or {}
        reason = (state.get("waiting") or {}).get("reason")
        return bool(state.get("running")) or reason in ("ErrImagePull", "ImagePullBackOff")

    wait("the pull to end (Running, or ErrImagePull)", settled, 90)
    run("get", "pod", "nginx", "-o", "wide")
    if (container("nginx").get("state") or {}).get("running"):
        ip = (pod("nginx").get("status") or {}).get("podIP", "")
        say(f"nginx answers on the pod IP, port 80 (GET http://{ip}/)")
        page: list[tuple[int, str]] = []

        def answered() -> bool:
            """nginx has no readiness probe: Running comes before it listens, by some ms."""
            try:
                with urllib.request.urlopen(f"http://{ip}/", timeout=10) as reply:
                    page.append((reply.status, reply.read().decode(errors="replace")))
            except ConnectionRefusedError:
                return False
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionRefusedError):
                    return False
                raise
            return True

        wait("nginx to listen", answered, 30)
        status, body = page[0]
        title = body.split("<title>")[-1].split("</")[0]
        print(f"HTTP {status}: {title}", flush=True)
        run("describe", "pod", "nginx", tail=8)
    else:
        print(NGINX_FAILED, flush=True)
        run("describe", "pod", "nginx", tail=8)
    run("delete", "-f", "manifests/nginx-pod.yml", "--grace-period=1")


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
    say("minikubelet: the seed's walkthrough" + (" (short timings)" if args.short else ""))
    nginx()
    if pod():
        run("delete", "pod", "webapl", "--grace-period=1")
    run_quiet("delete", "service", "webapl", "--ignore-not-found")
    say("Apply the manifest: the node agent starts the pod on the local Docker engine")
    origin = time.monotonic()
    run("apply", "-f", manifest)
    port = expose()
    watch = EndpointsWatch(CLI, ROOT, "webapl", origin).start()
    traffic = Traffic(port, origin).start()
    try:
        say("Not Ready yet: the Service has no ready endpoint, so a request through it is refused")
        curl(port)
        probes(args.short, port, watch)
        traffic.wait_for(ANSWERED, 10)  # the client's own request to the restarted container
    finally:
        samples = traffic.stop()
        watch.stop()
    say(f"One request a second through the Service (127.0.0.1:{port}), seconds since the apply:")
    sys.stdout.write(spans_text(samples))
    if run_quiet("timeline", "--help"):
        say("Every probe, readiness change, restart and endpoint change on one picture")
        run("timeline", "webapl")
    say("Clean up")
    run("delete", "service", "webapl")
    run("delete", "-f", manifest, "--grace-period=1")
    say("Watch the node think: the live view (pods, probes as they run, why each restart)")
    print("Open this URL in a browser on this machine; apply the manifest again to watch it live:")
    run("dashboard", "--no-open")
    return 0


def expose() -> int:
    """The notes: to reach a pod's port from outside the cluster, use a Service. The seed's
    manifest has no labels, so the pod gets one for the Service to select it by."""
    say("Put webapl behind a Service: a label to select it by, then its port 3000 as a NodePort")
    run("label", "pod", "webapl", "app=webapl")
    run("expose", "pod", "webapl", "--port", "80", "--target-port", "3000", "--type", "NodePort")
    from minikubelet.cli.client import connect

    with connect() as api:
        svc = api.request("GET", "/api/v1/namespaces/default/services/webapl")
    return int(svc["spec"]["ports"][0]["nodePort"])


def killing() -> bool:
    """The kubelet's Killing event for webapl exists (read in-process: the grace period of the
    short manifest is 3 s, and the walkthrough shows a request made within it)."""
    from minikubelet.cli.client import connect

    with connect() as api:
        found = api.request("GET", "/api/v1/namespaces/default/events")
    return any(
        e.get("reason") == "Killing" and (e.get("involvedObject") or {}).get("name") == "webapl"
        for e in found.get("items") or []
    )


# `wget -qO- localhost:3000/healthz`, in the image's own python3: the status, then the body
HEALTHZ = (
    "import urllib.request as u; r = u.urlopen('http://localhost:3000/healthz', timeout=5);"
    " print(r.status, r.read().decode())"
)


def curl(port: int) -> None:
    """One request through the Service, shown as curl would be typed."""
    print(f"{DIM}$ curl http://127.0.0.1:{port}/{RESET}", flush=True)
    print(request(port)[1], flush=True)


def probes(short: bool, port: int, watch: EndpointsWatch) -> None:
    """The seed's story: not ready, ready, killed by liveness, restarted and ready again; and
    the Service's endpoints and requests through it at each turn."""
    scale = 0.4 if short else 1.0
    ready_after, fail_after = (5, 14) if short else (20, 40)
    wait("the container to run", lambda: bool(container().get("state", {}).get("running")), 60)
    run("get", "pod")
    say(f"READY 0/1: /ready answers 500 for the app's first {ready_after} s: readiness fails")
    run("get", "pod", "-o", "wide")
    say("The Service, and its Endpoints as `get endpoints -w` shows them: no ready address yet")
    run("get", "service", "webapl")
    watch.wait_for(lambda line: line.startswith("webapl"), 10)
    watch.show(DIM, RESET)
    print(f"{DIM}  to watch the pod live in a browser on this machine, open:{RESET}", flush=True)
    run("dashboard", "--no-open")
    wait(
        "the readiness probe to pass (READY 1/1)",
        lambda: bool(container().get("ready")),
        60 * scale + 30,
    )
    run("get", "pod")
    say("Ready: the pod's IP joins the Service's endpoints, and requests through it are answered")
    watch.wait_for(lambda line: ":3000" in line, 10)
    watch.show(DIM, RESET)
    curl(port)
    say(
        "exec sees what the probe sees: GET /healthz from inside the pod (the image has no wget;"
        " its python3 asks localhost:3000, in the pod's own network namespace)"
    )
    run("exec", "webapl", "--", "python3", "-c", HEALTHZ)
    say(
        f"From {fail_after} s /healthz answers 500: three failed liveness probes kill the container"
    )
    wait("the third liveness failure and the Killing event", killing, 70 * scale + 30)
    say(
        "Killing, yet still Ready: the container runs on for its grace period and /ready still"
        " answers 200, so the pod stays in the endpoints and requests are still answered"
    )
    curl(port)
    watch.show(DIM, RESET)
    run("describe", "pod", "webapl", tail=8)
    say("webapl runs as PID 1 and ignores SIGTERM: it dies by SIGKILL when the grace period ends")
    wait("the restart (RESTARTS 1)", lambda: container().get("restartCount", 0) >= 1, 45)
    run("get", "pod")
    say(
        "The killed container exited: the new one is not Ready yet, the pod leaves the endpoints,"
        " and requests through the Service are refused again"
    )
    watch.wait_for(lambda line: line.startswith("webapl") and ":3000" not in line, 10)
    watch.show(DIM, RESET)
    curl(port)
    say("The last state of the killed container: exit code 137 (SIGKILL)")
    run("describe", "pod", "webapl")
    say("What the killed container logged: the Service's requests (GET /), and the probes'")
    logged = run_quiet("logs", "webapl", "--previous").splitlines()
    print(f"{DIM}$ minikubelet logs webapl --previous | grep -c '^GET /$'{RESET}", flush=True)
    print(sum(line == "GET /" for line in logged), flush=True)
    print(f"{DIM}$ minikubelet logs webapl --previous | grep -v '^GET /$' | tail -8{RESET}")
    print("\n".join([line for line in logged if line != "GET /"][-8:]), flush=True)
    say("The new container answers once its own readiness probe passes, not before")
    wait(
        "the restarted container to be Ready (READY 1/1)",
        lambda: bool(container().get("ready")),
        60 * scale + 30,
    )
    run("get", "pod")
    watch.wait_for(lambda line: ":3000" in line, 10)
    watch.show(DIM, RESET)
    curl(port)


def run_quiet(*args: str) -> str:
    done = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else ""


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
