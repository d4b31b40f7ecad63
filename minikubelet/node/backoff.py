"""Per-key exponential back-off, as client-go `util/flowcontrol/backoff.go` does it for the kubelet.

Two instances exist on a node, with the same numbers (`kubelet.go`: `backOffPeriod` 10 s,
`MaxContainerBackOff` and `MaxImageBackOff` 300 s):

- the crash-loop back-off, keyed by `crash_key` (`kuberuntime/helpers.go` `GetStableKey`; the
  kubelet puts the container hash there, and since 1.31 the hash covers only name and image, so
  the image stands in for it: a new image is a new key, hence a fresh back-off);
- the image-pull back-off, keyed by `image_pull_key` (`images/image_manager.go`).

Times are floats on one monotonic timeline chosen by the caller (the agent's `Clock.monotonic`);
nothing here reads a clock. An entry expires when `event − last_update > 600 s`: the 1.32+
`HasExpiredFunc` of the kubelet, which no longer follows the configured maximum. Jitter is 0 as
in the kubelet. The entries are plain frozen data (STYLE pattern 14), so tests can assert on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from minikubelet.api.models import Pod

__all__ = [
    "BACKOFF_INITIAL",
    "BACKOFF_MAX",
    "BACKOFF_RESET",
    "Backoff",
    "BackoffEntry",
    "CrashLoopView",
    "crash_key",
    "image_pull_key",
    "to_monotonic",
]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # 1.32+ HasExpiredFunc; older client-go used 2 × max, the same number here


@dataclass(frozen=True, slots=True)
class BackoffEntry:
    """flowcontrol's `backoffEntry`: the current delay and when it was last raised."""

    delay: float
    last_update: float


class Backoff:
    """flowcontrol.Backoff without its clock: every method takes the time it should use."""

    def __init__(
        self,
        initial: float = BACKOFF_INITIAL,
        maximum: float = BACKOFF_MAX,
        reset_after: float = BACKOFF_RESET,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.reset_after = reset_after
        self._entries: dict[str, BackoffEntry] = {}

    # -- reading --------------------------------------------------------------------------
    def get(self, key: str) -> BackoffEntry | None:
        return self._entries.get(key)

    def entries(self) -> Mapping[str, BackoffEntry]:
        """A read-only view of every entry (for tests and debugging)."""
        return dict(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def _expired(self, event: float, entry: BackoffEntry) -> bool:
        # flowcontrol hasExpired: stable once the item has gone `reset_after` without an update.
        return event - entry.last_update > self.reset_after

    def in_backoff(self, key: str, finished_at: float, now: float) -> float | None:
        """`IsInBackOffSince(key, finished_at)`: the delay being waited (what the kubelet's
        `back-off 20s restarting failed container=...` message shows), or None when the
        container may start now. `finished_at` is the newest exited instance's finish time."""
        entry = self._entries.get(key)
        if entry is None or self._expired(finished_at, entry):
            return None
        return entry.delay if now - finished_at < entry.delay else None

    def remaining(self, key: str, finished_at: float, now: float) -> float | None:
        """Seconds until `in_backoff` frees the key, or None when it is already free; the
        pod worker requeues at that moment (1.35 behaviour, DESIGN.md "Decisions")."""
        delay = self.in_backoff(key, finished_at, now)
        return None if delay is None else finished_at + delay - now

    def in_backoff_since_update(self, key: str, now: float) -> float | None:
        """`IsInBackOffSinceUpdate(key, now)`, the image-pull check: in back-off while
        `now − last_update < delay`. Returns the delay, or None when a pull may be tried."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry):
            return None
        return entry.delay if now - entry.last_update < entry.delay else None

    # -- writing --------------------------------------------------------------------------
    def next(self, key: str, now: float, event_time: float | None = None) -> BackoffEntry:
        """`Next(key, eventTime)`: a new or expired entry starts at `initial`, otherwise the delay
        doubles up to `maximum`; `last_update` becomes `now`. The kubelet passes the finish time
        of the exited instance as `event_time` for the expiry check; it defaults to `now`."""
        event = now if event_time is None else event_time
        entry = self._entries.get(key)
        if entry is None or self._expired(event, entry):
            delay = self.initial
        else:
            delay = min(entry.delay * 2, self.maximum)
        new = BackoffEntry(delay=delay, last_update=now)
        self._entries[key] = new
        return new

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def gc(self, now: float) -> None:
        """`GC()`: drop entries not raised for more than `reset_after` (housekeeping, every 2 s)."""
        stale = [k for k, e in self._entries.items() if now - e.last_update > self.reset_after]
        for key in stale:
            del self._entries[key]


def crash_key(pod: Pod, container: str, image: str) -> str:
    """`GetStableKey`: `<pod>_<ns>_<uid>_<container>_<image>` (image in place of the hash)."""
    return f"{pod.name}_{pod.namespace}_{pod.metadata.uid or ''}_{container}_{image}"


def image_pull_key(pod: Pod, image: str) -> str:
    """The image manager's key: `<podUID>_<image>`."""
    return f"{pod.metadata.uid or ''}_{image}"


def to_monotonic(at: datetime, *, now: float, wall_now: datetime) -> float:
    """Place a runtime (wall-clock) time such as `finishedAt` on the monotonic timeline."""
    return now - (wall_now - at).total_seconds()


@dataclass(frozen=True, slots=True)
class CrashLoopView:
    """The read-only view `node.sync.decide` takes: `(container name, finishedAt) → delay`.

    It maps the container to its `crash_key` and the runtime's wall-clock `finishedAt` onto the
    monotonic timeline, so `decide` stays a pure function of its arguments.
    """

    backoff: Backoff
    pod: Pod
    now: float
    wall_now: datetime

    def __call__(self, name: str, finished_at: datetime | None) -> float | None:
        if finished_at is None:
            return None  # a zero finishedAt lies far in the past: never in back-off
        image = next((c.image or "" for c in self.pod.spec.all_containers() if c.name == name), "")
        event = to_monotonic(finished_at, now=self.now, wall_now=self.wall_now)
        return self.backoff.in_backoff(crash_key(self.pod, name, image), event, self.now)
