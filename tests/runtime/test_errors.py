"""The engine's errors as the node reads them (runtime/docker.py `_translate`)."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from minikubelet.errors import ContainerNotFound, RuntimeFailure
from minikubelet.runtime.docker import _translate


def _api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("engine", response=response, explanation=explanation)


@pytest.mark.parametrize(
    "explanation",
    [
        "No such container: 1e8f",
        "can not get logs from container which is dead or marked for removal",
    ],
)
def test_a_container_gone_or_going_is_not_found(explanation: str) -> None:
    """Logs read while the container GC removes the instance: gone, not an engine failure."""
    status = 404 if explanation.startswith("No such") else 409
    error = docker.errors.NotFound if status == 404 else docker.errors.APIError
    exc = error(
        "engine", response=_api_error(status, explanation).response, explanation=explanation
    )
    translated = _translate(exc, RuntimeFailure)
    assert isinstance(translated, ContainerNotFound)
    assert str(translated) == explanation


def test_another_conflict_is_the_calls_own_failure() -> None:
    translated = _translate(_api_error(409, "container is paused"), RuntimeFailure)
    assert type(translated) is RuntimeFailure
