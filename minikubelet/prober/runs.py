"""The runs of probe attempts that crossed a threshold: what a kill or a Ready change is blamed on.

    HistoryWriter.attempt ─note(uid, entry)─▶ ProbeRuns ─crossed(uid, container, probe)─▶ causes
                                              per (pod uid, container, probe):
                                              the current run (same result, oldest first) and
                                              the run as it was when it last crossed

A run is what the worker's `resultRun` counts: consecutive attempts of one result; an errored
attempt is kept in it (it is part of the story) without breaking it, as it does not count.
Only the newest `keep` attempts of a run are kept. `note` is O(1) and holds references to the
entries the writer made anyway: recording the run costs the prober nothing it would notice.
"""

from __future__ import annotations

from collections import deque

from minikubelet.api.raw import JSON

__all__ = ["ProbeRuns"]

_Key = tuple[str, str, str]  # (pod uid, container, probe kind)


class ProbeRuns:
    def __init__(self, keep: int = 10) -> None:
        self.keep = keep
        self._runs: dict[_Key, deque[JSON]] = {}
        self._last: dict[_Key, str] = {}  # the last counted result of each run
        self._crossed: dict[_Key, list[JSON]] = {}

    def note(self, uid: str, entry: JSON) -> None:
        """One attempt (a probe entry's JSON, as written)."""
        key = (uid, str(entry.get("container", "")), str(entry.get("probe", "")))
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = deque(maxlen=self.keep)
        result = entry.get("result")
        if result in ("success", "failure"):
            if self._last.get(key) != result:
                run.clear()
            self._last[key] = str(result)
        run.append(entry)
        if entry.get("changed"):
            self._crossed[key] = list(run)

    def crossed(self, uid: str, container: str, probe: str) -> list[JSON]:
        """The run that last crossed the threshold (the attempt that crossed it last), or []."""
        return list(self._crossed.get((uid, container, probe), ()))

    def forget(self, uid: str) -> None:
        for table in (self._runs, self._last, self._crossed):
            for key in [k for k in table if k[0] == uid]:
                del table[key]
