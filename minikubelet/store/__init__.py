"""The agent's state: Kubernetes objects in SQLite, one revision counter, events, watch.

`Store` is the only entry point the agent needs; the modules behind it are:
`schema` (the file, tables drawn there), `txn` (one write), `events` (client-go dedup),
`selectors` (label and field selectors) and `watch` (ring + fan-out).
"""

from minikubelet.store.db import Store
from minikubelet.store.schema import SCHEMA_VERSION, StoreError
from minikubelet.store.selectors import LabelSelector, parse_label_selector
from minikubelet.store.watch import Expired, Watcher, WatchEvent

__all__ = [
    "SCHEMA_VERSION",
    "Expired",
    "LabelSelector",
    "Store",
    "StoreError",
    "WatchEvent",
    "Watcher",
    "parse_label_selector",
]
