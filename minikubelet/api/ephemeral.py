"""The `pods/ephemeralcontainers` subresource's update, as the API server runs it.

`EphemeralContainersStrategy` (`pkg/registry/core/pod/strategy.go`): of the Pod sent, only
`spec.ephemeralContainers` is kept (`dropNonEphemeralContainerUpdates`: everything else is the
stored Pod's), defaulted as containers are (`SetDefaults_EphemeralContainer`), then
`ValidatePodEphemeralContainersUpdate`: the whole Pod's validation (`validateEphemeralContainers`
among it), no static pods, and existing ephemeral containers neither removed nor changed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikubelet.api.codec import from_dict
from minikubelet.api.create import decode_pod
from minikubelet.api.models import Pod
from minikubelet.api.validation import FieldError, Path, invalid_error, validate_pod
from minikubelet.api.validation.field import forbidden

__all__ = ["MIRROR_ANNOTATION", "prepare_ephemeral_update"]

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def prepare_ephemeral_update(old_body: dict[str, Any], body: dict[str, Any]) -> Pod:
    """The Pod to store when `body` is PUT (or patched) on ephemeralcontainers over
    `old_body`; raises the API server's errors."""
    sent = decode_pod(copy.deepcopy(body))
    old = from_dict(Pod, old_body)
    new = from_dict(Pod, copy.deepcopy(old_body))
    ephemeral = sent.spec.extra.get("ephemeralContainers")  # defaulted by decode_pod
    if ephemeral:
        new.spec.extra["ephemeralContainers"] = ephemeral
    else:
        new.spec.extra.pop("ephemeralContainers", None)
    errors = _validate(new, old)
    if errors:
        raise invalid_error("Pod", new.metadata.name or "", errors)
    return new


def _validate(new: Pod, old: Pod) -> list[FieldError]:
    errors = validate_pod(new, create=False)
    if MIRROR_ANNOTATION in (old.metadata.annotations or {}):
        return [forbidden(Path(""), "static pods do not support ephemeral containers")]
    path = Path("spec").child("ephemeralContainers")
    sent = {c["name"]: c for c in new.spec.extra.get("ephemeralContainers") or []}
    for existing in old.spec.extra.get("ephemeralContainers") or []:
        name = existing.get("name")
        if name not in sent:
            detail = f"existing ephemeral containers {json.dumps(name)} may not be removed\n"
            errors.append(forbidden(path, detail))
        elif sent[name] != existing:
            detail = f"existing ephemeral containers {json.dumps(name)} may not be changed\n"
            errors.append(forbidden(path, detail + _diff(existing, sent[name])))
    return errors


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A short diff of the changed fields (the API server prints a go-cmp diff)."""
    lines = ["  core.EphemeralContainer{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"-  {key}: {json.dumps(old.get(key), sort_keys=True)},")
            lines.append(f"+  {key}: {json.dumps(new.get(key), sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines)
