"""`debug (POD | TYPE/NAME) [-i] [-t] --image=IMAGE [--target=C] [-c NAME] [-- COMMAND...]`:
kubectl 1.32's ephemeral-container debugging of a running pod.

kubectl's steps and words: the pod; an ephemeral container (named `debugger-` and five random
characters unless `-c` names it) added with a strategic merge patch of
`pods/NAME/ephemeralcontainers`; with `-i` (or `--attach`), a wait for it to run, then `attach`
(a container that already ended is followed through its logs instead).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.cli.attach import attach
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "ephemeral_container", "run"]

PROFILE_DEPRECATED = (
    "--profile=legacy is deprecated and will be removed in the future. It is recommended to "
    'explicitly specify a profile, for example "--profile=general".'
)
PROFILES = ("legacy", "general", "baseline", "netadmin", "restricted", "sysadmin")
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # utilrand.String's


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target_pod", nargs="*", metavar="(POD | TYPE/NAME)")
    parser.add_argument("-i", "--stdin", action="store_true")
    parser.add_argument("-t", "--tty", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("--image", default="")
    parser.add_argument("--image-pull-policy", default="")
    parser.add_argument("--target", default="")
    # a Go bool (`--attach`, `--attach=false`: main.py reads it as pflag does) whose being
    # given matters (`attach_changed`), hence no store_true
    parser.add_argument("--attach", default="false", choices=("true", "false"), action=_Given)
    parser.add_argument("--arguments-only", action="store_true")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--profile", default="legacy")
    parser.set_defaults(attach_changed=False)


class _Given(argparse.Action):
    """Stores the value and that the flag was given (pflag's `Changed`)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
        option_string: str | None = None,
    ) -> None:  # fmt: skip
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_changed", True)


def ephemeral_container(args: argparse.Namespace, name: str, command: list[str]) -> dict[str, Any]:
    """The container kubectl's `generateDebugContainer` makes (profile `legacy`: as is)."""
    container: dict[str, Any] = {"image": args.image, "name": name, "resources": {}}
    if command:
        container["args" if args.arguments_only else "command"] = command
    if args.env:
        container["env"] = [dict(zip(("name", "value"), e.split("=", 1), strict=False))
                            for e in args.env]  # fmt: skip
    if args.image_pull_policy:
        container["imagePullPolicy"] = args.image_pull_policy
    if args.stdin:
        container["stdin"] = True
    if args.target:
        container["targetContainerName"] = args.target
    container["terminationMessagePolicy"] = "File"
    if args.tty:
        container["tty"] = True
    if args.profile == "general":
        container["securityContext"] = {"capabilities": {"add": ["SYS_PTRACE"]}}
    return container


def _attach(args: argparse.Namespace) -> bool:
    """`--attach` as given, else `-i`'s (kubectl's Complete)."""
    return bool(args.attach == "true" if args.attach_changed else args.stdin)


def _validate(args: argparse.Namespace) -> str:
    """`DebugOptions.Complete` (the profile) and `Validate`, in their order, for the
    ephemeral-container style this node serves; Validate's two notes included."""
    if args.profile not in PROFILES:
        raise ManifestError(f"unknown profile: {args.profile}")
    if _attach(args) and args.attach_changed and not args.image and not args.container:
        raise ManifestError(
            "you must specify --container or create a new container using --image in order to "
            "attach."
        )
    if not args.image:
        raise ManifestError("you must specify --image when not using --copy-to.")
    words = list(args.target_pod)
    if not words:
        raise ManifestError("NAME or filename is required for debug")
    if args.image_pull_policy not in ("Always", "IfNotPresent", "Never", ""):
        raise ManifestError(f"invalid image pull policy: {args.image_pull_policy}")
    if args.target and not args.quiet:
        print(
            f'Targeting container "{args.target}". If you don\'t see processes from this '
            "container it may be because the container runtime doesn't support this feature."
        )
    if args.tty and not args.stdin:
        raise ManifestError("-i/--stdin is required for containers with -t/--tty=true")
    if args.profile == "legacy":  # said whether or not legacy was asked for
        sys.stdout.flush()
        print(PROFILE_DEPRECATED, file=sys.stderr)
    kind, _, name = words[0].rpartition("/")
    if kind and kind not in ("pod", "pods", "po"):
        raise ManifestError(f"debugging {kind} is not supported by minikubelet: pods only")
    return str(name)


def _name(pod: dict[str, Any]) -> str:
    """`debugger-` and five random characters, drawn again while the pod has that name."""
    spec = pod.get("spec") or {}
    taken = {
        c.get("name")
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key) or []
    }
    while True:
        name = "debugger-" + "".join(secrets.choice(_ALPHABET) for _ in range(5))
        if name not in taken:
            return name


def _state(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for status in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []:
        if status.get("name") == name:
            return dict(status.get("state") or {})
    return {}


def _wait(client: agent.ApiClient, path: str, name: str, timeout: float) -> dict[str, Any]:
    """`waitForContainer`: the pod once the container runs or has ended; waiting messages
    are warnings, as kubectl prints them."""
    from minikubelet.clock import poll

    seen: dict[str, Any] = {}
    said = ""

    def ready() -> bool:
        nonlocal said
        pod = client.request("GET", path)
        seen["pod"] = pod
        state = _state(pod, name)
        message = (state.get("waiting") or {}).get("message") or ""
        if message and message != said:
            print(f"Warning: container {name}: {message}", file=sys.stderr)
            said = message
        return bool(state.get("running") or state.get("terminated"))

    if not poll(ready, timeout, 0.2):
        raise ManifestError("timed out waiting for the condition")
    return dict(seen["pod"])


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    pod_name = _validate(args)
    command = list(args.dashdash or [])
    client = agent.connect()
    try:
        pod = client.request("GET", POD.path(namespace, pod_name))
        name = args.container
        if not name:
            name = _name(pod)
            if not args.quiet:
                print(f"Defaulting debug container name to {name}.")
        patch = {"spec": {"ephemeralContainers": [ephemeral_container(args, name, command)]}}
        path = POD.path(namespace, pod_name, "ephemeralcontainers")
        headers = {"Content-Type": "application/strategic-merge-patch+json"}
        client.request("PATCH", path, body=patch, headers=headers)
        if not _attach(args):
            return 0
        pod = _wait(client, POD.path(namespace, pod_name), name, 60.0)
        if _state(pod, name).get("terminated"):  # kubectl falls back to its logs
            log = POD.path(namespace, pod_name, "log")
            for line in client.stream_lines(log, container=name):
                sys.stdout.buffer.write(line)
            sys.stdout.flush()
            return 0
        return attach(
            client, pod, name, stdin=args.stdin, tty=args.tty, quiet=args.quiet,
            command="minikubelet attach",
        )  # fmt: skip
    finally:
        client.close()
