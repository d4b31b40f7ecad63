"""`--help` in kubectl's layout and words, and `version` in kubectl's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minikubelet.cli import client
from minikubelet.cli.main import build_parser, main
from minikubelet.cli.transport import HttpxTransport

# kubectl 1.32's one-line descriptions (`kubectl --help`), for the commands both have.
KUBECTL_ONE_LINERS = {
    "create": "Create a resource from a file or from stdin",
    "get": "Display one or many resources",
    "delete": "Delete resources by file names, stdin, resources and names, or by resources and "
    "label selector",
    "describe": "Show details of a specific resource or group of resources",
    "logs": "Print the logs for a container in a pod",
    "apply": "Apply a configuration to a resource by file name or stdin",
    "wait": "Experimental: Wait for a specific condition on one or many resources",
    "label": "Update the labels on a resource",
}
SEED_COMMANDS = ("apply", "get", "logs", "describe", "delete")
CLIENT_LINE = "Client Version: v1.32.0+minikubelet.0.1.0\n"


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--help"])
    assert caught.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_root_help_lists_commands_in_kubectl_groups(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(capsys)
    assert out.startswith("minikubelet makes one machine a Kubernetes node")
    assert "\nBasic Commands (Beginner):\n  create          Create a resource" in out
    for command, line in KUBECTL_ONE_LINERS.items():
        assert f"\n  {command:<16}{line}\n" in out
    assert "\n  version         Print the client and server version information\n" in out
    assert "\nOptions:\n    -n, --namespace='':\n\tIf present, the namespace scope" in out
    assert out.endswith(
        "\nUsage:\n  minikubelet [flags] [options]\n\n"
        'Use "minikubelet <command> --help" for more information about a command.\n'
    )


def test_every_command_is_listed_and_has_kubectl_shaped_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Including commands added later: they get the same layout from their argparse data."""
    _, subs = build_parser()
    root = help_of(capsys)
    for command in subs:
        assert f"\n  {command:<16}" in root
        out = help_of(capsys, command)
        assert "usage:" not in out  # argparse's own layout is gone
        assert "\nUsage:\n  " in out
        assert out.endswith(
            'Use "minikubelet --help" for a list of global command-line options '
            "(applies to all commands).\n"
        )


@pytest.mark.parametrize("command", SEED_COMMANDS)
def test_seed_commands_have_examples_options_usage(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    out = help_of(capsys, command)
    first = KUBECTL_ONE_LINERS[command]
    assert out.startswith(first.split(" or specified")[0])
    examples, options, usage = (
        out.index("\nExamples:\n"),
        out.index("\nOptions:\n"),
        out.index("\nUsage:\n"),
    )
    assert examples < options < usage
    assert f"\n  minikubelet {command} " in out[examples:options]
    assert f"\nUsage:\n  minikubelet {command} " in out
    assert "-n, --namespace" not in out[options:usage]  # a global option, as in kubectl


def test_flags_read_as_kubectl_prints_them(capsys: pytest.CaptureFixture[str]) -> None:
    get = help_of(capsys, "get")
    assert (
        "    -A, --all-namespaces=false:\n\tIf present, list the requested object(s) across all "
        "namespaces." in get
    )
    assert "    -L, --label-columns=[]:\n\tAccepts a comma separated list of labels" in get
    assert "    -o, --output='':\n\tOutput format. One of: (json, yaml, name," in get
    logs = help_of(capsys, "logs")
    assert "    --tail=-1:\n\tLines of recent log file to display." in logs
    assert "    -p, --previous=false:\n\tIf true, print the logs for the previous instance" in logs
    apply = help_of(capsys, "apply")
    assert '    --dry-run=\'none\':\n\tMust be "none", "server", or "client".' in apply
    assert "    -f, --filename=[]:\n\tThe files that contain the configurations to apply." in apply
    describe = help_of(capsys, "describe")
    assert "    --show-events=true:\n\tIf true, display events related to the described" in describe
    # options in kubectl's order: by long name
    names = [line.split("=")[0].split()[-1] for line in get.splitlines() if line[:5] == "    -"]
    assert names == sorted(names, key=lambda n: n.lstrip("-"))


def test_usage_error_still_points_at_the_command_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["get", "pods", "--nope"])
    assert caught.value.code == 1
    assert (
        capsys.readouterr().err
        == "error: unknown flag: --nope\nSee 'minikubelet get --help' for usage.\n"
    )


def test_version_without_an_agent_prints_the_client_line_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINIKUBELET_HOME", str(tmp_path / "nothing-runs-here"))
    assert main(["version"]) == 0
    assert capsys.readouterr() == (CLIENT_LINE, "")
    assert not (tmp_path / "nothing-runs-here").exists()  # no agent was started


def test_version_with_an_agent_adds_the_server_line(
    capsys: pytest.CaptureFixture[str],
    api: TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transport = HttpxTransport(api)
    real = client.ApiClient
    monkeypatch.setattr(client, "ApiClient", lambda paths: real(paths, transport=transport))
    assert main(["version"]) == 0
    assert capsys.readouterr() == (
        CLIENT_LINE + "Server Version: v1.32.0+minikubelet.0.1.0\n",
        "",
    )
    assert main(["version", "--client"]) == 0
    assert capsys.readouterr() == (CLIENT_LINE, "")
