"""A kind's strategy: what the API server does to an object before it stores it.

The API server's generic registry (`k8s.io/apiserver/pkg/registry/rest`) runs the same pipeline
for every kind and asks the kind's strategy at each step: strict decoding, defaulting,
`PrepareForCreate`/`PrepareForUpdate`, validation, and `CheckGracefulDelete`. `Strategy` is that
seam here; the server's handlers (`server/objects.py`) run the pipeline and the registry entry
(`api/kinds.py`) names each kind's strategy.

`ObjectStrategy` is the pipeline's common part for a kind with no spec rules of its own (system
metadata, `generateName`, namespace checks, ObjectMeta validation): subclass it and override
`validate`/`validate_update` (and `defaults`) for a kind's own rules.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from minikubelet.api.codec import format_time, from_dict
from minikubelet.api.models import ObjectMeta
from minikubelet.api.raw import JSON
from minikubelet.api.validation.field import FieldError, Path, invalid, invalid_error
from minikubelet.errors import BadRequest, StatusError

__all__ = ["ObjectStrategy", "Strategy", "check_create_meta", "check_update_name"]

_IMMUTABLE = "field is immutable"


class Strategy(Protocol):
    """The per-kind steps of the API server's create, update and delete."""

    def unknown_fields(self, body: JSON) -> list[str]:
        """Paths of the fields the kind's schema does not know (for `fieldValidation`)."""
        ...

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        """The object to store and the warnings to send; raises the API server's StatusError."""
        ...

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        """The object to store for a PUT (or a patched body) over `old`."""
        ...

    def delete_grace(self, obj: JSON, requested: int | None) -> int:
        """`CheckGracefulDelete`: seconds of grace, 0 to delete at once."""
        ...


def check_create_meta(meta: dict[str, Any], namespace: str) -> None:
    """The request-level checks of every create (`rest.BeforeCreate`), in its order."""
    sent = meta.get("namespace")
    if sent and namespace and sent != namespace:
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("resourceVersion"):
        raise StatusError("resourceVersion should not be set on objects to be created")


def check_update_name(body: JSON, url_name: str) -> None:
    name = (body.get("metadata") or {}).get("name")
    if name and name != url_name:
        raise BadRequest(
            f"the name of the object ({name}) does not match the name on the URL ({url_name})"
        )


class ObjectStrategy:
    """The pipeline of a kind without rules of its own; subclasses add the kind's rules."""

    kind = ""
    namespaced = True
    new_uid: Callable[[], str] = staticmethod(lambda: str(uuid.uuid4()))

    def unknown_fields(self, body: JSON) -> list[str]:
        return []

    def defaults(self, obj: JSON) -> None:
        """Fill the kind's defaults in place (`SetDefaults_*`)."""

    def validate(self, obj: JSON) -> list[FieldError]:
        """The kind's own validation after ObjectMeta's (`Validate<Kind>`)."""
        return []

    def validate_update(self, new: JSON, old: JSON) -> list[FieldError]:
        """The kind's update rules (`Validate<Kind>Update`), after `validate`."""
        return []

    def create(self, body: JSON, namespace: str, now: datetime) -> tuple[JSON, list[str]]:
        from minikubelet.api.create import generate_name

        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        check_create_meta(meta, namespace)
        if self.namespaced:
            meta["namespace"] = meta.get("namespace") or namespace
        else:
            meta.pop("namespace", None)
        meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = format_time(now.replace(microsecond=0))
        for system in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(system, None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generate_name(str(meta["generateName"]))
        self.defaults(obj)
        self._check(obj, self.validate(obj))
        return obj, []

    def update(self, old: JSON, body: JSON, now: datetime) -> tuple[JSON, list[str]]:
        new = copy.deepcopy(body)
        meta = new.setdefault("metadata", {})
        for system in ("uid", "creationTimestamp", "deletionTimestamp", "namespace"):
            if not meta.get(system) and old["metadata"].get(system):
                meta[system] = old["metadata"][system]
        meta["resourceVersion"] = old["metadata"].get("resourceVersion")
        self.defaults(new)
        errors = self.validate(new)
        errors += self._immutable_meta(meta, old["metadata"])
        self._check(new, errors + self.validate_update(new, old))
        return new, []

    def delete_grace(self, obj: JSON, requested: int | None) -> int:
        return 0

    def _immutable_meta(self, meta: JSON, old: JSON) -> list[FieldError]:
        errors = []
        for name in ("uid", "creationTimestamp"):
            if meta.get(name) != old.get(name):
                errors.append(invalid(Path("metadata").child(name), meta.get(name), _IMMUTABLE))
        return errors

    def _check(self, obj: JSON, errors: list[FieldError]) -> None:
        from minikubelet.api.validation.pod import validate_object_meta

        meta = from_dict(ObjectMeta, obj.get("metadata") or {})
        found = validate_object_meta(meta, Path("metadata")) + errors
        if not self.namespaced:
            found = [e for e in found if e.field != "metadata.namespace"]
        if found:
            raise invalid_error(self.kind, str(meta.name or ""), found)
