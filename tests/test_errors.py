"""`errors.report_error`, the last boundary of the CLI and the agent: kubectl's words, exit 1, a
traceback only when MINIKUBELET_DEBUG asks for one."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

from minikubelet import agent
from minikubelet.cli import main as cli_main
from minikubelet.errors import ContainerNotFound, ManifestError, NotFound, report_error


@pytest.mark.parametrize(
    ("error", "printed"),
    [
        pytest.param(ManifestError("no objects passed"), "error: no objects passed", id="ours"),
        pytest.param(ContainerNotFound("gone"), "error: gone", id="ours, a subclass"),
        pytest.param(NotFound('pods "x" not found'), 'error: pods "x" not found', id="a Status"),
        pytest.param(
            KeyError("k"),
            "error: internal error: KeyError('k') (set MINIKUBELET_DEBUG=1 for details)",
            id="a bug",
        ),
    ],
)
def test_report(
    error: Exception,
    printed: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINIKUBELET_DEBUG", raising=False)
    assert report_error(error) == 1
    assert capsys.readouterr() == ("", printed + "\n")


def test_report_reraises_a_bug_under_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBELET_DEBUG", "1")
    bug = KeyError("k")
    with pytest.raises(KeyError) as raised:
        report_error(bug)
    assert raised.value is bug
    assert report_error(ManifestError("still ours")) == 1  # not a bug: never a traceback


def _boom(*_: object, **__: object) -> int:
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize(
    ("module", "inner"),
    [pytest.param(cli_main, "run", id="cli"), pytest.param(agent, "run_agent", id="agent")],
)
def test_both_mains_end_a_bug_the_same_way(
    module: ModuleType,
    inner: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINIKUBELET_DEBUG", raising=False)
    monkeypatch.setattr(module, inner, _boom)
    assert module.main([]) == 1
    assert capsys.readouterr().err == (
        "error: internal error: ZeroDivisionError('division by zero')"
        " (set MINIKUBELET_DEBUG=1 for details)\n"
    )


def test_a_reader_that_leaves_ends_the_cli_quietly() -> None:
    """`minikubelet logs POD | head`: kubectl dies of SIGPIPE without a word (the shell
    reports 141); ours ends the same way, with no `internal error`."""
    script = (
        "import sys\n"
        "from minikubelet.cli import main as m\n"
        "def run(argv, process):\n"
        "    for _ in range(1000):\n"
        "        print('x' * 1000)\n"
        "    return 0\n"
        "m.run = run\n"
        "sys.exit(m.main(['logs']))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.read(1) == b"x"
    child.stdout.close()  # the reader leaves with most of the output unread
    err = child.stderr.read()
    child.stderr.close()
    assert (child.wait(timeout=30), err) == (141, b"")
