"""`attach (POD | TYPE/NAME) -c CONTAINER [-i] [-t]`, as kubectl 1.32 runs it.

kubectl's order and words: the pod (a completed one refused), the container (named, from the
default-container annotation, or the first, with the "Defaulted container" note), the TTY
decided by the container's spec (`-t` on a container without one is dropped with an error
line; a container with one forces it), then by `exec`'s rule (raw only with stdin from a
terminal), the prompt hint (always, unless `-q`: before the session, so before its errors too),
one session with the agent (a raw terminal sends its size plus one, then its size, so the screen
redraws), then the resume hint.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.cli.channels import exit_code
from minikubelet.cli.containers import default_container
from minikubelet.cli.exec import attach_session, use_tty
from minikubelet.errors import ManifestError

__all__ = ["add_arguments", "container_spec", "reattach_message", "run"]

PROMPT = "If you don't see a command prompt, try pressing enter."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="*", metavar="(POD | TYPE/NAME)")
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("-i", "--stdin", action="store_true")
    parser.add_argument("-t", "--tty", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--pod-running-timeout", default="1m0s")


def _name(args: argparse.Namespace) -> str:
    words = list(args.target)
    if not words:
        raise ManifestError("at least 1 argument is required for attach")
    if len(words) > 2:
        raise ManifestError(
            "expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw "
            f"{len(words)}: [{' '.join(words)}]"
        )
    kind, name = (words[0], words[1]) if len(words) == 2 else (*words[0].rpartition("/")[::2],)
    if kind and kind not in ("pod", "pods", "po"):
        raise ManifestError(f"cannot attach to {kind}: only pods are supported by minikubelet")
    return str(name)


def container_spec(pod: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    """The container's spec and the list it is in (`podcmd.FindContainerByName`)."""
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if container.get("name") == name:
                return container, key
    return {}, ""


def reattach_message(
    command: str, pod: dict[str, Any], container: str, *, stdin: bool, raw: bool
) -> str:
    """Printed on stdout after a session with stdin on a raw terminal, for a pod that restarts
    its containers (kubectl 1.32's words)."""
    if not (stdin and raw) or (pod.get("spec") or {}).get("restartPolicy") != "Always":
        return ""
    name = pod["metadata"]["name"]
    if container_spec(pod, container)[1] == "ephemeralContainers":
        return (
            "Session ended, the ephemeral container will not be restarted but may be reattached "
            f"using '{command} {name} -c {container} -i -t' if it is still running"
        )
    return f"Session ended, resume using '{command} {name} -c {container} -i -t' command when the pod is running"  # noqa: E501


def _container(pod: dict[str, Any], wanted: str, quiet: bool) -> str:
    if wanted:
        if not container_spec(pod, wanted)[1]:
            raise ManifestError(
                f"cannot attach to the container: container {wanted} not found in pod "
                f"{pod['metadata']['name']}"
            )
        return wanted
    return default_container(pod, quiet=quiet)


def attach(
    client: agent.ApiClient, pod: dict[str, Any], container: str, *, stdin: bool, tty: bool,
    quiet: bool, command: str = "minikubelet attach",
) -> int:  # fmt: skip
    """One attach session after kubectl's TTY decisions; the exit code. Shared with `debug`."""
    spec, _ = container_spec(pod, container)
    if tty and not spec.get("tty"):
        tty = False
        if not quiet:
            print(f"error: Unable to use a TTY - container {container} did not allocate one",
                  file=sys.stderr)  # fmt: skip
    elif not tty and spec.get("tty"):
        tty = True  # the container has one: its output is a terminal's
    raw = use_tty(stdin=stdin, tty=tty, quiet=quiet)
    query = [("container", container)]
    if not raw:
        query.append(("stderr", "true"))
    if stdin:
        query.append(("stdin", "true"))
    query.append(("stdout", "true"))
    if raw:
        query.append(("tty", "true"))
    if not quiet:
        print(PROMPT, file=sys.stderr)
    status = attach_session(client, pod, "attach", query, stdin=stdin, tty=raw, redraw=True)
    code = exit_code(status)
    if code == 0 and not quiet:
        message = reattach_message(command, pod, container, stdin=stdin, raw=raw)
        if message:
            print(message)
    return code


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    name = _name(args)
    client = agent.connect()
    try:
        pod = client.get_named(POD.path(namespace, name), namespace)
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise ManifestError(
                f"cannot attach a container in a completed pod; current phase is {phase}"
            )
        container = _container(pod, args.container, args.quiet)
        return attach(client, pod, container, stdin=args.stdin, tty=args.tty, quiet=args.quiet)
    finally:
        client.close()
