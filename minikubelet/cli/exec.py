"""`exec (POD | TYPE/NAME) [-c CONTAINER] [-i] [-t] -- COMMAND [args...]`, as kubectl runs it.

kubectl's checks and words first (the command after `--`, a completed pod, the default
container and its note, the TTY), then one `v5.channel.k8s.io` session with the agent. The exit
code of the command is the exit code of `exec`; `-it` on a terminal puts it in raw mode and
sends its size, again on every SIGWINCH (`-t` alone asks for no TTY and says nothing, as
kubectl's `SetupTTY`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from minikubelet.api.kinds import POD
from minikubelet.cli import client as agent
from minikubelet.cli.channels import exit_code
from minikubelet.cli.containers import default_container
from minikubelet.errors import ManifestError

# Every `exec` imports this module: typing (~3 ms) and signal (~1 ms, its enums) only when used
TYPE_CHECKING = False  # as typing.TYPE_CHECKING (errors.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["add_arguments", "attach_session", "run", "use_tty"]

NO_TTY = "Unable to use a TTY - input is not a terminal or the right kind of file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="(POD | TYPE/NAME)")
    parser.add_argument("words", nargs="*", help=argparse.SUPPRESS)  # before `--`: refused
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("-i", "--stdin", action="store_true")
    parser.add_argument("-t", "--tty", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")


def _target(args: argparse.Namespace) -> tuple[str, list[str]]:
    """kubectl's order: Complete's usage error, Validate's two, then the resource."""
    if args.words:
        raise ManifestError(
            "exec [POD] [COMMAND] is not supported anymore. "
            "Use exec [POD] -- [COMMAND] instead\nSee 'minikubelet exec -h' for help and examples"
        )
    if not args.target:  # `exec -- CMD` too: kubectl takes no name from before the `--`
        raise ManifestError("pod, type/name or --filename must be specified")
    command = list(args.dashdash or [])
    if not command:
        raise ManifestError("you must specify at least one command for the container")
    kind, sep, name = args.target.rpartition("/")
    if sep and kind not in ("pod", "pods", "po"):
        raise ManifestError(f"cannot exec into {kind}: only pods are supported by minikubelet")
    return name, command


@contextmanager
def _raw_terminal(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(sys.stdin.fileno())
    # TCSANOW, as kubectl's term.MakeRaw: the default TCSAFLUSH would drop what was typed
    # between the prompt hint and the session (attach, debug)
    tty.setraw(sys.stdin.fileno(), termios.TCSANOW)
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def attach_session(
    client: agent.ApiClient, pod: dict[str, Any], sub: str, query: list[tuple[str, str]],
    *, stdin: bool, tty: bool, redraw: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Run one session (exec or attach) to its end; the error channel's Status. `redraw`
    (attach): the terminal's size plus one goes first, so the program repaints its screen."""
    from minikubelet.cli.channels import UpgradeFailed, open_session

    meta = pod["metadata"]
    try:
        session = open_session(
            client.paths.socket_path, POD.path(meta["namespace"], meta["name"], sub), query
        )
    except UpgradeFailed as failed:
        if failed.body.startswith(b"{"):
            import json

            raise agent.error_from_status(json.loads(failed.body), failed.code) from None
        raise ManifestError(f"unable to upgrade connection: {failed}") from None
    out, err = sys.stdout.buffer, sys.stderr.buffer

    def write(channel: int, data: bytes) -> None:
        target = err if channel == 2 else out
        target.write(data)
        target.flush()

    if tty:
        import signal

        size = os.get_terminal_size(sys.stdout.fileno())
        if redraw:
            session.resize(size.columns + 1, size.lines + 1)
        session.resize(size.columns, size.lines)
        signal.signal(
            signal.SIGWINCH,
            lambda *_: session.resize(*os.get_terminal_size(sys.stdout.fileno())),
        )
    with _raw_terminal(tty and stdin):
        # Raw before stdin is read, as kubectl's `t.Safe`: an EOF key typed (or sent by a
        # program driving the terminal) before the session is then a byte, not the end of stdin
        if stdin:
            session.copy_stdin(sys.stdin.fileno())
        return session.run(write)


def use_tty(*, stdin: bool, tty: bool, quiet: bool) -> bool:
    """kubectl's `StreamOptions.SetupTTY`: a (raw) TTY only with stdin, asked for, from a
    terminal. Without stdin the TTY is dropped without a word; from a file or pipe, with
    kubectl's line unless `quiet`."""
    if not (stdin and tty):
        return False
    if not sys.stdin.isatty():
        if not quiet:
            print(NO_TTY, file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    namespace = args.namespace or "default"
    name, command = _target(args)
    client = agent.connect()
    try:
        pod = client.get_named(POD.path(namespace, name), namespace)
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise ManifestError(
                f"cannot exec into a container in a completed pod; current phase is {phase}"
            )
        # A named container is the server's to check (kubectl's "Error from server" words).
        container = args.container or default_container(pod, quiet=args.quiet)
        tty = use_tty(stdin=args.stdin, tty=args.tty, quiet=args.quiet)  # after the note
        query = [("command", word) for word in command] + [("container", container)]
        if not tty:
            query.append(("stderr", "true"))
        if args.stdin:
            query.append(("stdin", "true"))
        query.append(("stdout", "true"))
        if tty:
            query.append(("tty", "true"))
        status = attach_session(client, pod, "exec", query, stdin=args.stdin, tty=tty)
    finally:
        client.close()
    return exit_code(status)
