"""kubectl's choice of a pod's container on the client (`-c`, the
`kubectl.kubernetes.io/default-container` annotation, else the first one, with a note on
stderr), for `logs`, `exec`, `attach` and `cp`.

Its own module, importing nothing but `sys` and the errors, because `exec` needs it on every
run and `logs` (where it lived) costs more to import than the rule itself.
"""

from __future__ import annotations

import sys

from minikubelet.errors import ManifestError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (errors.py)
if TYPE_CHECKING:
    from minikubelet.api.raw import JSON

__all__ = ["DEFAULT_CONTAINER", "containers_for"]

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
        container = spec["containers"][0]["name"]
        if len(spec["containers"]) > 1 or spec.get("initContainers") or spec.get(keys[2]):
            print(
                f'Defaulted container "{container}" out of: {", ".join(_all_names(spec))}',
                file=sys.stderr,
            )
    if container not in known:
        raise ManifestError(f"container {container} is not valid for pod {name}")
    return [container]
