"""Which instance `logs` reads, and what a reader is told when the engine no longer has it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from minikubelet.api.codec import from_dict
from minikubelet.api.models import Pod
from minikubelet.errors import BadRequest
from minikubelet.node.logs import open_logs
from minikubelet.runtime.fake import FakeRuntime


def _pod(**last: Any) -> Pod:
    status = {"name": "app", "state": {"running": {}}, "containerID": "docker://now"}
    status["lastState"] = {"terminated": {"exitCode": 1, **last}}
    return from_dict(
        Pod,
        {
            "metadata": {"name": "crash", "uid": "u1"},
            "spec": {"containers": [{"name": "app", "image": "i"}]},
            "status": {"containerStatuses": [status]},
        },
    )


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        (True, 'previous terminated container "app" in pod "crash" not found'),
        (False, "No such container: now"),
    ],
)
def test_an_instance_the_container_gc_removed_is_a_bad_request(
    previous: bool, message: str
) -> None:
    """The status may name the dead instance a newer exit's GC has just removed: 400, not 500."""
    pod = _pod(containerID="docker://gone")
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def read() -> None:
        await open_logs(FakeRuntime(), now, pod, "app", {"previous": previous})

    with pytest.raises(BadRequest) as raised:
        anyio.run(read)
    assert str(raised.value) == message
