"""Flags read as kubectl's pflag reads them, refused in its words (kubectl's flag error func:
pflag's error, then `See '<command> --help' for usage.`, exit 1)."""

from __future__ import annotations

import pytest

from minikubelet.cli.flags import go_flags
from minikubelet.cli.main import _command_of, build_parser, main


@pytest.mark.parametrize(
    "argv, error",
    [
        (["exec", "--bogus=1", "web", "--", "true"], "unknown flag: --bogus"),
        (["exec", "web", "--bogus", "x", "--", "true"], "unknown flag: --bogus"),
        (["exec", "sh", "-c"], "flag needs an argument: 'c' in -c"),
        (["exec", "sh", "-ic"], "flag needs an argument: 'c' in -c"),
        (["exec", "sh", "--container"], "flag needs an argument: --container"),
        (["exec", "-xi", "web", "--", "true"], "unknown shorthand flag: 'x' in -xi"),
        (["exec", "-ix", "web", "--", "true"], "unknown shorthand flag: 'x' in -x"),
        (["exec", "---x", "web"], "bad flag syntax: ---x"),
        (["port-forward", "web", "-1"], "unknown shorthand flag: '1' in -1"),
        (["attach", "web", "--cont=a"], "unknown flag: --cont"),  # no abbreviations
        (["cp", "a", "b", "-x"], "unknown shorthand flag: 'x' in -x"),
        (["debug", "web", "--image"], "flag needs an argument: --image"),
        (["get", "pods", "--nope"], "unknown flag: --nope"),
        (["logs", "web", "-n"], "flag needs an argument: 'n' in -n"),
        (
            ["logs", "web", "--tail=ten"],
            'invalid argument "ten" for "--tail" flag: strconv.ParseInt: parsing "ten": invalid '
            "syntax",
        ),
        (
            ["logs", "web", "--tail", " 1"],
            'invalid argument " 1" for "--tail" flag: strconv.ParseInt: parsing " 1": invalid '
            "syntax",
        ),
        (
            ["logs", "web", "--tail=9223372036854775808"],
            'invalid argument "9223372036854775808" for "--tail" flag: strconv.ParseInt: parsing '
            '"9223372036854775808": value out of range',
        ),
        (
            ["exec", "-i=maybe", "web", "--", "true"],
            'invalid argument "maybe" for "-i, --stdin" flag: strconv.ParseBool: parsing "maybe": '
            "invalid syntax",
        ),
        (
            ["delete", "pod", "web", "--wait=no"],
            'invalid argument "no" for "--wait" flag: strconv.ParseBool: parsing "no": invalid '
            "syntax",
        ),
        (["-n", "x", "exec", "--bogus"], "unknown flag: --bogus"),
    ],
)
def test_refused_in_pflags_words(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 1
    command = _command_of(argv)
    assert capsys.readouterr() == (
        "",
        f"error: {error}\nSee 'minikubelet {command} --help' for usage.\n",
    )


def _read(*argv: str) -> list[str]:
    parser, subs = build_parser(_command_of(argv))
    return go_flags(argv, parser, subs[_command_of(argv)])


@pytest.mark.parametrize(
    "argv, read",
    [
        pytest.param(
            ["exec", "web", "-c", "-x"], ["exec", "--container=-x", "web"], id="a value like a flag"
        ),
        pytest.param(
            ["exec", "-itc", "app", "web"],
            ["exec", "--stdin", "--tty", "--container=app", "web"],
            id="shorthands together",
        ),
        pytest.param(["exec", "-capp", "web"], ["exec", "--container=app", "web"], id="-cVALUE"),
        pytest.param(["exec", "-c=app", "web"], ["exec", "--container=app", "web"], id="-c=VALUE"),
        pytest.param(
            ["exec", "-i=false", "-t=1", "web"], ["exec", "--tty", "web"], id="bools given a value"
        ),
        pytest.param(
            ["attach", "a", "-i", "b"], ["attach", "--stdin", "a", "b"], id="flags among arguments"
        ),
        pytest.param(
            ["-n", "x", "label", "node", "n", "k=v"],
            ["--namespace=x", "label", "node", "n", "k=v"],
            id="the root's flag on a command without its own",
        ),
        pytest.param(
            ["-n", "x", "get", "pods"], ["get", "--namespace=x", "pods"], id="the command's -n"
        ),
        pytest.param(
            ["logs", "web", "--tail", "-1"], ["logs", "--tail=-1", "web"], id="a negative value"
        ),
        pytest.param(["logs", "web", "--tail=0x10"], ["logs", "--tail=16", "web"], id="Go's 0x"),
        pytest.param(["logs", "web", "--tail=010"], ["logs", "--tail=8", "web"], id="Go's octal"),
        pytest.param(
            ["delete", "pod", "web", "--wait", "--now"],
            ["delete", "--wait=true", "--now", "pod", "web"],
            id="a Go bool kept as a value",
        ),
        pytest.param(
            ["delete", "pod", "web", "--wait=F"],
            ["delete", "--wait=false", "pod", "web"],
            id="and its spellings",
        ),
        pytest.param(
            ["get", "pods", "--", "-x"], ["get", "pods", "--", "-x"], id="arguments after --"
        ),
    ],
)
def test_flags_rewritten_for_argparse(argv: list[str], read: list[str]) -> None:
    assert _read(*argv) == read


def test_a_value_that_looks_like_a_flag_reaches_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`-c -x` is container `-x` for pflag (argparse would say "expected one argument"): the
    server's word on it, here a pod that is not there."""
    assert main(["exec", "nope", "-c", "-x", "--", "true"]) == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): pods "nope" not found\n'
