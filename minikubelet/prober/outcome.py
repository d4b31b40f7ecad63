"""What a probe handler returns (`pkg/probe/probe.go`): a result, its output, maybe an error.

`error` set means the kubelet's "errored" path: the attempt is retried (up to 3 times back to
back), then reported as `<Type> probe errored and resulted in <result> state: <error>` and not
counted. Otherwise `result` is success, warning, failure or unknown and `output` its message.

`detail` is what a person needs to see why, beyond the kubelet's message (not compared, not
in any event): the handler and its target, and for exec the exit code and the first bytes of
stdout and stderr, for httpGet the status code, the headers' size and the first bytes of the
body, for tcpSocket and grpc the error or the serving status. Texts are cut at `DETAIL_BYTES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

__all__ = ["DETAIL_BYTES", "Detail", "ProbeOutcome", "ProbeResult", "first_bytes"]

DETAIL_BYTES = 256
Detail = dict[str, str | int]


def first_bytes(data: bytes | str, limit: int = DETAIL_BYTES) -> str:
    """The first `limit` bytes as text (undecodable bytes replaced)."""
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    return raw[:limit].decode("utf-8", errors="replace")


class ProbeResult(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    result: ProbeResult
    output: str = ""
    error: str | None = None
    detail: Detail | None = field(default=None, compare=False)

    def with_detail(self, **detail: str | int | None) -> ProbeOutcome:
        """This outcome with `detail` added to (None values left out)."""
        merged = dict(self.detail or {})
        merged.update({k: v for k, v in detail.items() if v is not None})
        return replace(self, detail=merged)

    @classmethod
    def success(cls, output: str = "") -> ProbeOutcome:
        return cls(ProbeResult.SUCCESS, output)

    @classmethod
    def failure(cls, output: str) -> ProbeOutcome:
        return cls(ProbeResult.FAILURE, output)

    @classmethod
    def errored(cls, error: str, result: ProbeResult = ProbeResult.UNKNOWN) -> ProbeOutcome:
        """The errored path; `result` is what the handler returned with its error (unknown for
        most, failure for an HTTP body that could not be read), named in the event."""
        return cls(result, "", error)
