"""`minikubelet exec`'s argument handling and its reading of the error channel (kubectl's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def test_ending_the_process_at_once_flushes_what_was_written_first() -> None:
    """`exec` ends its process with os._exit: text still buffered in stdout and stderr (a
    pipe's, so block-buffered) must reach them, and the exit code must be the command's."""
    code = (
        "import sys; from minikubelet.cli.main import _exit_now;"
        "sys.stdout.write('out'); sys.stderr.write('err'); _exit_now(42)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (42, "out", "err")
