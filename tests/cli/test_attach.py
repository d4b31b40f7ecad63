"""`minikubelet attach`'s words: the arguments kubectl accepts and its resume hint."""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest

from minikubelet.cli.attach import _name, reattach_message
from minikubelet.errors import ManifestError

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
