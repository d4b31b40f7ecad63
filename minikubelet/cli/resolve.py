"""A user's word for a kind (`po`, `pods`, `configmap`, `endpointslices.discovery.k8s.io`) to its
registry entry, with kubectl's error when nothing answers to it."""

from __future__ import annotations

from minikubelet.api.kinds import Kind, UnknownResource, lookup
from minikubelet.errors import ManifestError

__all__ = ["resolve"]


def resolve(word: str, *, only: tuple[str, ...] = ()) -> Kind:
    """The kind `word` names; `only` limits it to these kinds (a command about pods)."""
    try:
        kind = lookup(word)
    except UnknownResource as err:
        raise ManifestError(str(err)) from None
    if only and kind.kind not in only:
        raise ManifestError(f'the server doesn\'t have a resource type "{word}"')
    return kind
