"""kubectl's choice of a pod's container on the client (`-c`, the
`kubectl.kubernetes.io/default-container` annotation, else the first one, with a note on
stderr): `logs`'s (logsforobject.go, which also says when the annotation names no container)
and `exec`, `attach` and `cp`'s (podcmd.go, where that is only klog's V(4), and `-q` silences
the note).

Its own module, importing nothing but `sys` and the errors, because `exec` needs it on every
run and `logs` (where it lived) costs more to import than the rule itself.
"""

from __future__ import annotations

import sys

from minikubelet.errors import ManifestError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    from typing import IO

    from minikubelet.api.raw import JSON

__all__ = ["DEFAULT_CONTAINER", "containers_for", "default_container"]

DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def _all_names(spec: JSON) -> list[str]:
    """`podcmd.AllContainerNames`: app, then ephemeral `(ephem)`, then init `(init)`."""
    names = [c["name"] for c in spec.get("containers") or []]
    names += [f"{c['name']} (ephem)" for c in spec.get("ephemeralContainers") or []]
    names += [f"{c['name']} (init)" for c in spec.get("initContainers") or []]
    return names


def containers_for(pod: JSON, container: str, every: bool) -> list[str]:
    """The containers to read (logsforobject.go), with kubectl's stderr notes."""
    spec, name = pod.get("spec") or {}, pod["metadata"]["name"]
    keys = ("initContainers", "containers", "ephemeralContainers")
    if every:
        return [c["name"] for key in keys for c in spec.get(key) or []]
    known = {c["name"] for key in keys for c in spec.get(key) or []}
    if not container:
        default = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER) or ""
        if default and default not in known:
            print(f'Default container name "{default}" not found in pod {name}', file=sys.stderr)
        elif default:
            container = default
    if not container:
        container = _first(pod, sys.stderr)
    if container not in known:
        raise ManifestError(f"container {container} is not valid for pod {name}")
    return [container]


def default_container(pod: JSON, *, quiet: bool = False, warn: IO[str] | None = None) -> str:
    """`podcmd.FindOrDefaultContainerByName` without a name: the annotation's container when
    the pod has one by that name, else the first, with the note on `warn` (stderr) unless
    `quiet`. A name the pod lacks is only klog's V(4) there: nothing is printed."""
    spec, meta = pod.get("spec") or {}, pod["metadata"]
    if not spec.get("containers"):
        raise ManifestError(
            f"pod {meta.get('namespace', '')}/{meta['name']} does not have any containers"
        )
    default = (meta.get("annotations") or {}).get(DEFAULT_CONTAINER) or ""
    keys = ("containers", "initContainers", "ephemeralContainers")
    if default and any(c["name"] == default for key in keys for c in spec.get(key) or []):
        return str(default)
    return _first(pod, None if quiet else (warn or sys.stderr))


def _first(pod: JSON, warn: IO[str] | None) -> str:
    """The first app container; the "Defaulted" note on `warn` when the pod has others."""
    spec = pod["spec"]
    container = str(spec["containers"][0]["name"])
    names = _all_names(spec)
    if warn is not None and len(names) > 1:
        print(f'Defaulted container "{container}" out of: {", ".join(names)}', file=warn)
    return container
