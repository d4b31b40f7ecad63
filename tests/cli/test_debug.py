"""`minikubelet debug`'s checks in kubectl 1.32's order and words, its flags as kubectl's."""

from __future__ import annotations

import argparse

import pytest

from minikubelet.cli.debug import PROFILE_DEPRECATED, _attach
from minikubelet.cli.flags import go_flags
from minikubelet.cli.main import _split_command, build_parser, main

TARGETING = (
    'Targeting container "app". If you don\'t see processes from this container it may be because '
    "the container runtime doesn't support this feature.\n"
)


@pytest.mark.parametrize(
    "argv, out, err",
    [
        (["dbg1"], "", "error: you must specify --image when not using --copy-to.\n"),
        ([], "", "error: you must specify --image when not using --copy-to.\n"),
        (["--image=i"], "", "error: NAME or filename is required for debug\n"),
        (["dbg1", "--profile=x"], "", "error: unknown profile: x\n"),  # Complete's, first
        (["dbg1", "--profile="], "", "error: unknown profile: \n"),
        (
            ["dbg1", "--attach"],
            "",
            "error: you must specify --container or create a new container using --image in "
            "order to attach.\n",
        ),
        (
            ["dbg1", "--attach", "-c", "x"],
            "",
            "error: you must specify --image when not using --copy-to.\n",
        ),  # fmt: skip
        (
            ["dbg1", "--image=i", "--image-pull-policy=Sometimes"],
            "",
            "error: invalid image pull policy: Sometimes\n",
        ),
        (
            ["dbg1", "--image=i", "-t", "--target=app"],
            TARGETING,
            "error: -i/--stdin is required for containers with -t/--tty=true\n",
        ),
        (
            ["dbg1", "--image=i", "-t", "--target=app", "-q"],
            "",
            "error: -i/--stdin is required for containers with -t/--tty=true\n",
        ),
        (
            ["nope", "--image=i", "--target=app"],
            TARGETING,
            f'{PROFILE_DEPRECATED}\nError from server (NotFound): pods "nope" not found\n',
        ),
        (
            ["nope", "--image=i", "--profile=general"],
            "",
            'Error from server (NotFound): pods "nope" not found\n',
        ),
    ],
)
def test_refusals_in_kubectls_order(
    capsys: pytest.CaptureFixture[str], argv: list[str], out: str, err: str
) -> None:
    assert main(["debug", *argv]) == 1
    assert capsys.readouterr() == (out, err)


def _args(*argv: str) -> argparse.Namespace:
    before, after = _split_command(["debug", *argv])
    parser, subs = build_parser("debug")
    args = parser.parse_args(go_flags(before, parser, subs["debug"]))
    args.dashdash = after
    return args


@pytest.mark.parametrize(
    "argv, attach",
    [
        ([], False),
        (["-i"], True),  # -i attaches unless --attach says otherwise
        (["-i", "--attach=false"], False),
        (["--attach"], True),
        (["--attach=true"], True),
        (["--attach=T"], True),
        (["--attach=0"], False),
        (["-it", "--attach=False", "--", "sh"], False),
    ],
)
def test_attach_is_a_go_bool_defaulted_from_stdin(argv: list[str], attach: bool) -> None:
    assert _attach(_args("web", "--image=i", *argv)) is attach


def test_the_help_shows_kubectls_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["debug", "--help"])
    out = capsys.readouterr().out
    assert "\n    --attach=false:\n" in out
    assert "\n    --profile='legacy':\n" in out
    assert "\n    --env=[]:\n" in out
    assert "\n    -i, --stdin=false:\n" in out
