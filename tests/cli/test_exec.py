"""`minikubelet exec`'s argument handling, its notes and TTY, and its reading of the error
channel (kubectl's)."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest

from minikubelet.cli import exec as exec_cmd
from minikubelet.cli.channels import exit_code
from minikubelet.cli.main import _split_command, build_parser, main
from minikubelet.store import Store


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


# -- through main(), with the session faked: kubectl's words and the query it sends -----------

CONTAINERS = [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}]
DEFAULT = "kubectl.kubernetes.io/default-container"


def add_pod(store: Store, name: str, containers: list[dict[str, Any]], **meta: Any) -> None:
    store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", **meta},
            "spec": {"containers": containers, "nodeName": "node1"},
            "status": {"phase": "Running"},
        },
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, list[str]]]:
    """Each session's query, by key; every session succeeds at once."""
    seen: list[dict[str, list[str]]] = []

    def session(
        client: object, pod: object, sub: str, query: list[tuple[str, str]], **kw: object
    ) -> dict[str, Any]:
        asked: dict[str, list[str]] = {}
        for key, value in query:
            asked.setdefault(key, []).append(value)
        seen.append(asked)
        return {"status": "Success"}

    monkeypatch.setattr(exec_cmd, "attach_session", session)
    return seen


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [["exec", "--", "true"], ["exec"], ["exec", "-i", "--", "sh"]])
def test_no_pod_named(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert run(capsys, *argv) == (1, "", "error: pod, type/name or --filename must be specified\n")


@pytest.mark.parametrize(
    "stdin, flags, tty, note",
    [
        pytest.param(io.StringIO(), ["-t"], False, "", id="-t without -i: no TTY, no word"),
        pytest.param(Terminal(), ["-t"], False, "", id="-t without -i on a terminal: the same"),
        pytest.param(io.StringIO(), ["-it"], False, exec_cmd.NO_TTY + "\n", id="-it from a pipe"),
        pytest.param(io.StringIO(), ["-itq"], False, "", id="-it from a pipe, quiet"),
        pytest.param(Terminal(), ["-it"], True, "", id="-it on a terminal"),
    ],
)
def test_the_tty_as_kubectls_setup_tty(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    queries: list[dict[str, list[str]]],
    stdin: io.StringIO,
    flags: list[str],
    tty: bool,
    note: str,
) -> None:
    add_pod(store, "sh", CONTAINERS[:1])
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(capsys, "exec", *flags, "sh", "--", "tty") == (0, "", note)
    assert ("tty" in queries[0], "stderr" in queries[0]) == (tty, not tty)


def test_the_tty_note_comes_after_the_container_note(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    queries: list[dict[str, list[str]]],
) -> None:
    add_pod(store, "multi", CONTAINERS)
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    assert run(capsys, "exec", "-it", "multi", "--", "sh") == (
        0,
        "",
        f'Defaulted container "a" out of: a, b\n{exec_cmd.NO_TTY}\n',
    )
    code, _, err = run(capsys, "exec", "-it", "nope", "--", "sh")  # no pod: no TTY word
    assert (code, err) == (1, 'Error from server (NotFound): pods "nope" not found\n')


@pytest.mark.parametrize(
    "argv, container, err",
    [
        (["multi"], "a", 'Defaulted container "a" out of: a, b\n'),
        (["-q", "multi"], "a", ""),
        (["multi", "-c", "b"], "b", ""),
        (["good"], "b", ""),
        # a missing default is podcmd's klog V(4), not `logs`'s line
        (["multibad"], "a", 'Defaulted container "a" out of: a, b\n'),
        (["multibad", "-q"], "a", ""),
    ],
)
def test_the_default_container(
    capsys: pytest.CaptureFixture[str],
    store: Store,
    queries: list[dict[str, list[str]]],
    argv: list[str],
    container: str,
    err: str,
) -> None:
    add_pod(store, "multi", CONTAINERS)
    add_pod(store, "good", CONTAINERS, annotations={DEFAULT: "b"})
    add_pod(store, "multibad", CONTAINERS, annotations={DEFAULT: "zzz"})
    assert run(capsys, "exec", *argv, "--", "true") == (0, "", err)
    assert queries[0]["container"] == [container]
    assert queries[0]["command"] == ["true"]
