"""The Node's strategy: the node agent writes the object; clients may change its labels.

`kubectl label node` patches `metadata.labels`; that is the one change a client makes to this
node, so an update keeps the stored Node and takes the labels of the patched body, validated as
the API server validates ObjectMeta labels.
"""

from __future__ import annotations

import copy
from datetime import datetime

from minikubelet.api.raw import JSON
from minikubelet.api.strategy import ObjectStrategy
from minikubelet.api.validation.field import Path, invalid_error
from minikubelet.api.validation.pod import validate_labels

__all__ = ["NODE_STRATEGY", "NodeStrategy"]


class NodeStrategy(ObjectStrategy):
    kind = "Node"
    namespaced = False

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        labels = {
            str(k): str(v)
            for k, v in ((body.get("metadata") or {}).get("labels") or {}).items()
            if v is not None
        }
        errors = validate_labels(labels, Path("metadata").child("labels"))
        if errors:
            raise invalid_error("Node", str(old["metadata"]["name"]), errors)
        new = copy.deepcopy(old)
        new["metadata"]["labels"] = labels
        return new, []


NODE_STRATEGY = NodeStrategy()
