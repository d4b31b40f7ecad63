"""The walkthrough's Service part: webapl behind a NodePort Service, and what readiness does to
the traffic (the notes: while the readiness probe fails, the Service sends the pod no requests).

    Traffic(port).start()   one request a second to 127.0.0.1:NODEPORT, each outcome kept
    EndpointsWatch.start()  `minikubelet get endpoints webapl -w` in the background, its lines
                            shown as they come (`show`), stamped with seconds since the start
    spans(samples)          the outcomes as runs: refused 0.0-21.4 s, answered 21.4-55.0 s, ...
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ANSWERED",
    "REFUSED",
    "EndpointsWatch",
    "Sample",
    "Traffic",
    "request",
    "spans",
    "spans_text",
]

REFUSED = "refused"
ANSWERED = "answered"


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the walkthrough's origin
    outcome: str  # answered | refused | failed
    detail: str  # the body, or what went wrong


def request(port: int, path: str = "/") -> tuple[str, str]:
    """One GET through the NodePort on loopback: (outcome, what came back or went wrong)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        return ANSWERED, f"HTTP {reply.status}: {reply.read().decode(errors='replace').strip()}"
    except ConnectionRefusedError:
        return REFUSED, "connection refused"
    except (OSError, http.client.HTTPException) as exc:
        return "failed", f"{type(exc).__name__}: {exc}".rstrip(": ")
    finally:
        conn.close()


class Traffic:
    """A client of the Service in a thread: one new connection and GET / each second."""

    def __init__(self, port: int, origin: float, interval: float = 1.0) -> None:
        self.port, self.origin, self.interval = port, origin, interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            at = time.monotonic() - self.origin
            outcome, detail = request(self.port)
            self.samples.append(Sample(at, outcome, detail))
            self._stop.wait(self.interval)

    def wait_for(self, outcome: str, timeout: float) -> bool:
        """Until a request made from now on has `outcome`."""
        since = time.monotonic() - self.origin
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(s.at >= since and s.outcome == outcome for s in list(self.samples)):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(timeout=10)
        return list(self.samples)


def spans(samples: Sequence[Sample]) -> list[tuple[float, float, str, int, str]]:
    """Runs of one outcome: (first, last, outcome, how many requests, the first's detail)."""
    runs: list[tuple[float, float, str, int, str]] = []
    for sample in samples:
        if runs and runs[-1][2] == sample.outcome:
            first, _, outcome, count, detail = runs[-1]
            runs[-1] = (first, sample.at, outcome, count + 1, detail)
        else:
            runs.append((sample.at, sample.at, sample.outcome, 1, sample.detail))
    return runs


def spans_text(samples: Sequence[Sample]) -> str:
    """`   0.4s -   20.6s  refused   21 requests  (connection refused)` lines."""
    lines = []
    for first, last, outcome, count, detail in spans(samples):
        noun = "request" if count == 1 else "requests"
        lines.append(
            f"  {first:6.1f}s - {last:6.1f}s  {outcome:<8}  {count:3d} {noun:<8}  ({detail})"
        )
    return "\n".join(lines) + "\n"


class EndpointsWatch:
    """`get endpoints NAME -w` as a user would leave it running in a second terminal."""

    def __init__(self, cli: list[str], cwd: Path, name: str, origin: float) -> None:
        self._args = [*cli, "get", "endpoints", name, "-w"]
        self._cwd, self.origin = cwd, origin
        self.lines: list[tuple[float, str]] = []
        self._shown = 0
        self._proc: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EndpointsWatch:
        self._proc = subprocess.Popen(
            self._args, cwd=self._cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append((time.monotonic() - self.origin, line.rstrip("\n")))

    def wait_for(self, check: Callable[[str], bool], timeout: float) -> bool:
        """Until a line the watch printed since the last `show` passes `check`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(check(line) for _, line in self.lines[self._shown :]):
                return True
            time.sleep(0.1)
        return False

    def show(self, dim: str = "", reset: str = "") -> None:
        """The lines printed since the last call, each with the second it came at."""
        fresh, self._shown = self.lines[self._shown :], len(self.lines)
        for at, line in fresh:
            print(f"{dim}  [get endpoints -w, {at:5.1f}s]{reset} {line}", flush=True)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=10)


if __name__ == "__main__":
    sys.exit("run tools/walkthrough.py")
