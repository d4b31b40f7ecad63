"""What a probe handler returns (`pkg/probe/probe.go`): a result, its output, maybe an error.

`error` set means the kubelet's "errored" path: the attempt is retried (up to 3 times back to
back), then reported as `<Type> probe errored and resulted in <result> state: <error>` and not
counted. Otherwise `result` is success, warning, failure or unknown and `output` its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ProbeOutcome", "ProbeResult"]


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

    @classmethod
    def success(cls, output: str = "") -> ProbeOutcome:
        return cls(ProbeResult.SUCCESS, output)

    @classmethod
    def failure(cls, output: str) -> ProbeOutcome:
        return cls(ProbeResult.FAILURE, output)

    @classmethod
    def errored(cls, error: str) -> ProbeOutcome:
        return cls(ProbeResult.UNKNOWN, "", error)
