"""Entry point: `minikubelet <command>`, with kubectl's flags, messages and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from minikubelet import KUBERNETES_VERSION, __version__
from minikubelet.errors import ManifestError, MinikubeletError, StatusError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors read as kubectl's and exit 1."""

    def error(self, message: str) -> None:  # type: ignore[override]
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
    "wait": "Experimental: Wait for a specific condition on one or many resources",
    "label": "Update the labels on a resource",
    "version": "Print the client and server version information",
    "daemon": "Run, start, stop or check the node agent",
    "probes": "List every probe the node ran for a pod, newest last",
    "timeline": "Draw a pod's probes, readiness changes and restarts on one time axis",
    "kubeconfig": "Print a kubeconfig for kubectl and client libraries",
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    from minikubelet.cli import apply

    parser = _Parser(prog="minikubelet")
    parser.add_argument("-n", "--namespace")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    subs: dict[str, argparse.ArgumentParser] = {}
    for verb in ("apply", "create"):
        subs[verb] = commands.add_parser(verb, help=_ONE_LINE[verb])
        subs[verb].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
        apply.add_arguments(subs[verb])
    subs["version"] = commands.add_parser("version", help=_ONE_LINE["version"])
    subs["version"].add_argument("--client", action="store_true")
    from minikubelet.cli import daemon, delete, describe, get, label, logs, wait

    subs["describe"] = commands.add_parser("describe", help=_ONE_LINE["describe"])
    subs["describe"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    describe.add_arguments(subs["describe"])
    subs["logs"] = commands.add_parser("logs", help=_ONE_LINE["logs"])
    subs["logs"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    logs.add_arguments(subs["logs"])

    subs["label"] = commands.add_parser("label", help=_ONE_LINE["label"])
    label.add_arguments(subs["label"])
    subs["wait"] = commands.add_parser("wait", help=_ONE_LINE["wait"])
    subs["wait"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    wait.add_arguments(subs["wait"])

    subs["get"] = commands.add_parser("get", help=_ONE_LINE["get"])
    subs["get"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    get.add_arguments(subs["get"])

    subs["delete"] = commands.add_parser("delete", help=_ONE_LINE["delete"])
    subs["delete"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    delete.add_arguments(subs["delete"])
    subs["daemon"] = commands.add_parser("daemon", help=_ONE_LINE["daemon"])
    daemon.add_arguments(subs["daemon"])
    subs["kubeconfig"] = commands.add_parser("kubeconfig", help=_ONE_LINE["kubeconfig"])
    from minikubelet.cli import probes, timeline

    subs["probes"] = commands.add_parser("probes", help=_ONE_LINE["probes"])
    subs["probes"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    probes.add_arguments(subs["probes"])
    subs["timeline"] = commands.add_parser("timeline", help=_ONE_LINE["timeline"])
    subs["timeline"].add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    timeline.add_arguments(subs["timeline"])
    return parser, subs


def run(argv: Sequence[str]) -> int:
    parser, subs = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the subcommand, as kubectl does (`See 'kubectl get --help'`)
        subs[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command in ("apply", "create"):
        from minikubelet.cli import apply

        return apply.run(args, args.command)
    if args.command == "describe":
        from minikubelet.cli import describe

        return describe.run(args)
    if args.command == "logs":
        from minikubelet.cli import logs

        return logs.run(args)
    if args.command == "label":
        from minikubelet.cli import label

        return label.run(args)
    if args.command == "wait":
        from minikubelet.cli import wait

        return wait.run(args)
    if args.command == "get":
        from minikubelet.cli import get

        return get.run(args)
    if args.command == "delete":
        from minikubelet.cli import delete

        return delete.run(args)
    if args.command == "daemon":
        from minikubelet.cli import daemon

        return daemon.run(args)
    if args.command == "kubeconfig":
        from minikubelet.cli import kubeconfig

        return kubeconfig.run(args)
    if args.command == "probes":
        from minikubelet.cli import probes

        return probes.run(args)
    if args.command == "timeline":
        from minikubelet.cli import timeline

        return timeline.run(args)
    if args.command == "version":
        return _version(args.client)
    raise AssertionError(args.command)


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
        return run(sys.argv[1:] if argv is None else argv)
    except ManifestError as err:
        text = str(err)
        print(text if text.startswith("error: ") else f"error: {text}", file=sys.stderr)
    except StatusError as err:
        from minikubelet.cli.render import format_status_error

        print(format_status_error(err), file=sys.stderr)
    except MinikubeletError as err:
        print(f"error: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last line of defence: a bug must not print a traceback
        if os.environ.get("MINIKUBELET_DEBUG"):
            raise
        print(
            f"error: internal error: {err!r} (set MINIKUBELET_DEBUG=1 for details)", file=sys.stderr
        )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
