"""Entry point: `minikubelet <command>`, with kubectl's flags, messages and exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from minikubelet import KUBERNETES_VERSION, __version__
from minikubelet.errors import ManifestError, StatusError, report_error

# Every command imports this module: typing (~3 ms) only for mypy
TYPE_CHECKING = False  # as typing.TYPE_CHECKING (errors.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["main", "report"]


def _columns() -> int:
    """`shutil.get_terminal_size().columns`, without importing shutil (and the compression
    modules it imports) for the help formatter argparse builds at every `add_argument`."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors read as kubectl's and exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        """kubectl's flag error func (templater.go): pflag's error, then where to look."""
        if message.startswith("unrecognized arguments: "):
            message = "unknown flag: " + message.removeprefix("unrecognized arguments: ").split()[0]
        sys.stderr.write(f"error: {message}\nSee '{self.prog} --help' for usage.\n")
        raise SystemExit(1)

    def format_help(self) -> str:
        from minikubelet.cli.help import kubectl_help  # only --help pays for the tables

        return kubectl_help(self)


_ONE_LINE = {  # kubectl's one-line descriptions
    "apply": "Apply a configuration to a resource by file name or stdin",
    "create": "Create a resource from a file or from stdin",
    "get": "Display one or many resources",
    "delete": "Delete resources by file names, stdin, resources and names, or by resources and "
    "label selector",
    "describe": "Show details of a specific resource or group of resources",
    "logs": "Print the logs for a container in a pod",
    "exec": "Execute a command in a container",
    "attach": "Attach to a running container",
    "cp": "Copy files and directories to and from containers",
    "debug": "Create debugging sessions for troubleshooting workloads and nodes",
    "port-forward": "Forward one or more local ports to a pod",
    "wait": "Experimental: Wait for a specific condition on one or many resources",
    "label": "Update the labels on a resource",
    "expose": "Take a replication controller, service, deployment or pod and expose it as a new "
    "Kubernetes service",
    "version": "Print the client and server version information",
    "daemon": "Run, start, stop or check the node agent",
    "reset": "Take the node down and remove everything it made",
    "probes": "List every probe the node ran for a pod, newest last",
    "probe": "Run one of a container's probes once, now, without counting it",
    "dashboard": "Print (and open) the URL of the node's live view in a browser",
    "timeline": "Draw a pod's probes, readiness changes and restarts on one time axis",
    "kubeconfig": "Print a kubeconfig for kubectl and client libraries",
}


# command -> (its module under minikubelet.cli, takes -n/--namespace). The order is the help's.
COMMANDS: dict[str, tuple[str, bool]] = {
    "apply": ("apply", True),
    "create": ("apply", True),
    "get": ("get", True),
    "describe": ("describe", True),
    "logs": ("logs", True),
    "exec": ("exec", True),
    "attach": ("attach", True),
    "cp": ("cp", True),
    "debug": ("debug", True),
    "port-forward": ("portforward", True),
    "delete": ("delete", True),
    "wait": ("wait", True),
    "label": ("label", False),
    "expose": ("expose", True),
    "probes": ("probes", True),
    "probe": ("probe", True),
    "dashboard": ("dashboard", False),
    "timeline": ("timeline", True),
    "daemon": ("daemon", False),
    "reset": ("reset", False),
    "kubeconfig": ("kubeconfig", False),
}


def _module(name: str) -> Any:
    return importlib.import_module(f"minikubelet.cli.{name}")


def build_parser(
    only: str | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, with every command's arguments, or only those of `only` (the command being
    run): a command's module is imported to add its arguments, so `get` pays for `get` alone.
    A known `only` gets its own subparser and no other (22 of them took ~9 ms of every
    command, argparse asking gettext for its words three times each); an unknown one or none
    gets them all, for argparse's list of choices."""
    lean = only in COMMANDS or only == "version"
    parser = _Parser(prog="minikubelet")
    parser.add_argument("-n", "--namespace")
    # `prog` given: argparse would otherwise build a help formatter (and import shutil) for it
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, prog="minikubelet"
    )
    subs: dict[str, argparse.ArgumentParser] = {}
    for command, (module, namespaced) in COMMANDS.items():
        if lean and command != only:
            continue
        subs[command] = commands.add_parser(command, help=_ONE_LINE[command])
        if namespaced:
            subs[command].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
        if only is not None and command != only:
            continue
        adder = getattr(_module(module), "add_arguments", None)
        if adder is not None:
            adder(subs[command])
    if not lean or only == "version":
        subs["version"] = commands.add_parser("version", help=_ONE_LINE["version"])
        subs["version"].add_argument("--client", action="store_true")
    return parser, subs


def run(argv: Sequence[str], *, process: bool = False) -> int:
    """Run a command; its exit code. `process`: this is the process's command (the script's
    `main()`), which may end the process itself once its work is done (`_exit_now`)."""
    argv, after = _split_command(list(argv))
    command = _command_of(argv)
    parser, subs = build_parser(command)
    if command in subs:
        from minikubelet.cli.flags import FlagError, go_flags

        try:
            argv = go_flags(argv, parser, subs[command])
        except FlagError as err:
            subs[command].error(str(err))
    args, unknown = parser.parse_known_args(argv)
    args.dashdash = after
    if unknown:  # reported by the subcommand, as kubectl does (`See 'kubectl get --help'`)
        subs[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "version":
        return _version(args.client)
    code = int(_module(COMMANDS[args.command][0]).run(args))
    if process and args.command in _EXIT_AT_ONCE:
        _exit_now(code)
    return code


# Commands that end the process as soon as they return. `exec`: the session is over, its
# output written and flushed, its connections closed; it starts no non-daemon thread (stdin's
# copier is a daemon), registers no atexit handler and leaves no file to remove, so the
# interpreter's teardown (freeing every module and object, ~10 ms of a 100 ms exec) would
# change nothing but the time the caller waits.
_EXIT_AT_ONCE = {"exec"}


def _exit_now(code: int) -> None:
    """`os._exit(code)` once stdout and stderr are flushed; when a flush fails (a closed pipe),
    the interpreter's own exit reports it, as it would have."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _command_of(argv: Sequence[str]) -> str:
    """The command word, found as argparse will find it: the first word that is not a global
    flag (`-n NS`, `--namespace NS`, `--namespace=NS`) or its value; "" when there is none."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("-n", "--namespace"):
            skip = True
        elif not word.startswith("-"):
            return word
    return ""


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`exec POD -- CMD...`: what follows the first `--` is the command, never flags (kubectl's
    ArgsLenAtDash), for the commands that take one."""
    if "--" not in argv or not any(a in _TAKES_COMMAND for a in argv[: argv.index("--")]):
        return argv, None
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


_TAKES_COMMAND = {"exec", "debug"}


def _version(client_only: bool) -> int:
    """kubectl's `version`: the client's line, then the running agent's (none started)."""
    print(f"Client Version: {KUBERNETES_VERSION}+minikubelet.{__version__}")
    if client_only:
        return 0
    from minikubelet.cli import client
    from minikubelet.paths import StatePaths

    api = client.ApiClient(StatePaths.from_env())
    try:
        if api.healthy():
            print(f"Server Version: {api.request('GET', '/version')['gitVersion']}")
    finally:
        api.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; errors are printed as kubectl prints them, never as a traceback."""
    try:
        return run(sys.argv[1:] if argv is None else argv, process=argv is None)
    except (Exception, KeyboardInterrupt) as err:
        return report(err)


def report(err: BaseException) -> int:
    """Print what a command raised as kubectl prints its errors; the exit code."""
    if isinstance(err, ManifestError):
        text = str(err)
        print(text if text.startswith("error: ") else f"error: {text}", file=sys.stderr)
    elif isinstance(err, StatusError):
        from minikubelet.cli.render import format_status_error

        print(format_status_error(err), file=sys.stderr)
    elif isinstance(err, KeyboardInterrupt):
        return 130
    elif isinstance(err, BrokenPipeError):
        return _stdout_gone()
    else:  # ours in kubectl's words; a bug must not print a traceback (the agent's too)
        return report_error(err)
    return 1


def _stdout_gone() -> int:
    """Our reader left (`minikubelet logs POD | head`): kubectl, a Go program, is ended by
    SIGPIPE there without a word, and the shell reports 141. The transport turns the agent's
    own broken connections into its errors, so a BrokenPipeError here is stdout's. Pointing
    stdout at /dev/null keeps the interpreter's last flush from failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
