"""`minikubelet exec`'s argument handling and its reading of the error channel (kubectl's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from minikubelet.cli import quick_exec
from minikubelet.cli.channels import exit_code
from minikubelet.cli.main import _split_command, build_parser


@pytest.mark.parametrize(
    "argv, target, words, command, flags",
    [
        (["exec", "web", "-c", "app", "--", "sh", "-c", "x"], "web", [], ["sh", "-c", "x"], "app"),
        (["exec", "web", "-it", "--", "sh", "-i"], "web", [], ["sh", "-i"], ""),
        (["exec", "web", "ls"], "web", ["ls"], None, ""),
        (["-n", "x", "exec", "web", "--", "ls", "-l"], "web", [], ["ls", "-l"], ""),
    ],
)
def test_what_follows_dashdash_is_the_command(
    argv: list[str], target: str, words: list[str], command: list[str] | None, flags: str
) -> None:
    parser, _ = build_parser()
    before, after = _split_command(argv)
    args = parser.parse_args(before)
    assert (args.target, args.words, after, args.container) == (target, words, command, flags)


def test_dashdash_of_other_commands_is_left_alone() -> None:
    assert _split_command(["get", "pods", "--", "x"]) == (["get", "pods", "--", "x"], None)


def test_exit_codes_from_the_error_channel(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code({"metadata": {}, "status": "Success"}) == 0
    failed = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "42"}]},
    }
    assert exit_code(failed) == 42
    assert exit_code({"status": "Failure", "message": "Internal error occurred: x"}) == 1
    assert capsys.readouterr().err == (
        "command terminated with exit code 42\nerror: Internal error occurred: x\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["exec", "web", "--", "true"],
        ["exec", "pod/web", "-c", "app", "--", "sh", "-c", "x"],
        ["-n", "ns1", "exec", "web", "--", "ls", "-l"],
        ["exec", "--namespace=ns1", "-q", "po/web", "--container=app", "--", "ls"],
        ["exec", "-n", "a", "web", "-n", "b", "--", "ls"],  # the last one wins, as in argparse
    ],
)
def test_the_quick_path_reads_a_plain_exec_as_the_parser_does(argv: list[str]) -> None:
    found = quick_exec.plan(argv)
    assert found is not None
    parser, _ = build_parser()
    before, after = _split_command(argv)
    args = parser.parse_args(before)
    kind, _, name = args.target.rpartition("/")
    assert found == (args.namespace or "default", name, args.container, after)


@pytest.mark.parametrize(
    "argv",
    [
        ["exec", "web", "true"],  # kubectl's "not supported anymore"
        ["exec", "web", "--"],  # no command
        ["exec", "-it", "web", "--", "sh"],
        ["exec", "-i", "web", "--", "cat"],
        ["exec", "web", "-h", "--", "ls"],
        ["exec", "deploy/web", "--", "ls"],
        ["exec", "web", "-c", "--", "ls"],
        ["-c", "app", "exec", "web", "--", "ls"],  # -c before the command word
        ["-q", "exec", "web", "--", "ls"],
        ["get", "pods", "--", "exec"],
        ["exec", "Web", "--", "ls"],  # not a name the path takes as it is
        ["exec", "web", "other", "--", "ls"],
    ],
)
def test_the_quick_path_leaves_the_rest_to_the_cli(argv: list[str]) -> None:
    assert quick_exec.plan(argv) is None


@pytest.mark.parametrize(
    "spec, annotations, container",
    [
        ({"containers": [{"name": "app"}]}, {}, "app"),
        ({"containers": [{"name": "app"}, {"name": "side"}]}, {}, None),  # the note
        ({"containers": [{"name": "app"}], "initContainers": [{"name": "i"}]}, {}, None),
        ({"containers": [{"name": "app"}], "ephemeralContainers": [{"name": "d"}]}, {}, None),
        (
            {"containers": [{"name": "app"}]},
            {"kubectl.kubernetes.io/default-container": "app"},
            None,
        ),
    ],
)
def test_the_quick_path_takes_the_default_container_only_without_a_note(
    spec: dict[str, object], annotations: dict[str, str], container: str | None
) -> None:
    pod = {"metadata": {"name": "web", "annotations": annotations}, "spec": spec}
    assert quick_exec._only_container(pod) == container


def test_the_quick_path_imports_no_parser_nor_typing() -> None:
    code = (
        "import sys, minikubelet.cli.entry, minikubelet.cli.quick_exec;"
        "print(','.join(x for x in ('argparse', 'typing', 'socket', 'minikubelet.cli.main',"
        " 'minikubelet.api.kinds') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
