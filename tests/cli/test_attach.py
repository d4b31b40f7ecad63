"""`minikubelet attach`'s words: the arguments kubectl accepts, its notes, the prompt hint and
the resume hint."""

from __future__ import annotations

import argparse
import io
import re
import sys
from typing import Any

import pytest

from minikubelet.cli import attach as attach_cmd
from minikubelet.cli.attach import PROMPT, _name, reattach_message
from minikubelet.cli.exec import NO_TTY
from minikubelet.cli.main import main
from minikubelet.errors import ManifestError
from minikubelet.store import Store

POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "restartPolicy": "Always",
        "containers": [{"name": "app"}],
        "ephemeralContainers": [{"name": "debugger-abcde"}],
    },
}


@pytest.mark.parametrize(
    "words, name",
    [(["web"], "web"), (["pod/web"], "web"), (["pods", "web"], "web"), (["po/web"], "web")],
)
def test_the_pod_named_as_kubectl_accepts_it(words: list[str], name: str) -> None:
    assert _name(argparse.Namespace(target=words)) == name


@pytest.mark.parametrize(
    "words, message",
    [
        ([], "at least 1 argument is required for attach"),
        (
            ["a", "b", "c"],
            "expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw 3: [a b c]",
        ),
    ],
)
def test_argument_errors(words: list[str], message: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)):
        _name(argparse.Namespace(target=words))


def test_the_resume_hint_only_after_an_interactive_terminal_of_a_restarting_pod() -> None:
    hint = reattach_message("kubectl attach", POD, "app", stdin=True, raw=True)
    assert hint == (
        "Session ended, resume using 'kubectl attach web -c app -i -t' command when the pod is "
        "running"
    )
    assert reattach_message("kubectl attach", POD, "debugger-abcde", stdin=True, raw=True) == (
        "Session ended, the ephemeral container will not be restarted but may be reattached "
        "using 'kubectl attach web -c debugger-abcde -i -t' if it is still running"
    )
    assert reattach_message("kubectl attach", POD, "app", stdin=True, raw=False) == ""
    assert reattach_message("kubectl attach", POD, "app", stdin=False, raw=True) == ""
    never = {**POD, "spec": {**POD["spec"], "restartPolicy": "Never"}}
    assert reattach_message("kubectl attach", never, "app", stdin=True, raw=True) == ""


def add_pod(store: Store, name: str, containers: list[dict[str, Any]], **meta: Any) -> None:
    store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", **meta},
            "spec": {"containers": containers, "nodeName": "node1", "restartPolicy": "Always"},
            "status": {"phase": "Running"},
        },
    )


@pytest.fixture
def pods(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, str]]]:
    """multi (a, b), multibad (its default container missing), tty (a container with one);
    stdin a pipe; each session's query, every session succeeding."""
    app, side = {"name": "a", "image": "i"}, {"name": "b", "image": "i"}
    add_pod(store, "multi", [app, side])
    add_pod(store, "multibad", [app, side],
            annotations={"kubectl.kubernetes.io/default-container": "zzz"})  # fmt: skip
    add_pod(store, "tty", [{**app, "stdin": True, "tty": True}])
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    seen: list[list[tuple[str, str]]] = []

    def session(client: object, pod: object, sub: str, query: list[tuple[str, str]],
                **kw: object) -> dict[str, Any]:  # fmt: skip
        seen.append(query)
        return {"status": "Success"}

    monkeypatch.setattr(attach_cmd, "attach_session", session)
    return seen


DEFAULTED = 'Defaulted container "a" out of: a, b\n'


@pytest.mark.parametrize(
    "argv, err",
    [
        pytest.param(["multi"], DEFAULTED + PROMPT + "\n", id="the prompt hint without -i"),
        pytest.param(["-i", "multi"], DEFAULTED + PROMPT + "\n", id="and with it"),
        pytest.param(["-q", "multi"], "", id="quiet: neither note nor hint"),
        pytest.param(["-q", "-it", "multi"], "", id="quiet: no TTY errors either"),
        pytest.param(["multibad"], DEFAULTED + PROMPT + "\n", id="a missing default: no word"),
        pytest.param(
            ["-t", "multi", "-c", "a"],
            "error: Unable to use a TTY - container a did not allocate one\n" + PROMPT + "\n",
            id="-t on a container without one",
        ),
        pytest.param(["tty"], PROMPT + "\n", id="a container's TTY without stdin: not raw"),
        pytest.param(["-i", "tty"], f"{NO_TTY}\n{PROMPT}\n", id="its TTY, stdin from a pipe"),
    ],
)
def test_notes_and_hints_in_kubectls_order(
    capsys: pytest.CaptureFixture[str],
    pods: list[list[tuple[str, str]]],
    argv: list[str],
    err: str,
) -> None:
    assert main(["attach", *argv]) == 0
    assert capsys.readouterr() == ("", err)
    assert ("tty", "true") not in pods[0]  # stdin is no terminal: never raw
    assert ("stderr", "true") in pods[0]


def test_the_prompt_hint_comes_before_the_sessions_error(
    capsys: pytest.CaptureFixture[str],
    pods: list[list[tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object, **kw: object) -> dict[str, Any]:
        raise ManifestError('unable to upgrade connection: container not found ("a")')

    monkeypatch.setattr(attach_cmd, "attach_session", refused)
    assert main(["attach", "multi", "-c", "a"]) == 1
    assert capsys.readouterr().err == (
        f'{PROMPT}\nerror: unable to upgrade connection: container not found ("a")\n'
    )
