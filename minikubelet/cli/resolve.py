"""A user's word for a kind (`po`, `pods`, `configmap`, `endpointslices.discovery.k8s.io`) to its
registry entry, with kubectl's error when nothing answers to it."""

from __future__ import annotations

from minikubelet.api.kinds import Kind, UnknownResource, category, lookup
from minikubelet.errors import ManifestError

__all__ = ["resolve", "resolve_list"]


def resolve(word: str, *, only: tuple[str, ...] = ()) -> Kind:
    """The kind `word` names; `only` limits it to these kinds (a command about pods)."""
    try:
        kind = lookup(word)
    except UnknownResource as err:
        raise ManifestError(str(err)) from None
    if only and kind.kind not in only:
        raise ManifestError(f'the server doesn\'t have a resource type "{word}"')
    return kind


def resolve_list(words: str) -> list[Kind]:
    """`svc,ep` or `all`: each comma-separated word a kind, a category (`all`) its kinds, in
    order, each kind once (kubectl's ReplaceAliases, SplitResourceArgument and the builder's
    mappings, which drop a kind seen before)."""
    kinds: list[Kind] = []
    for word in words.split(","):
        for kind in category(word) or [resolve(word)]:
            if kind not in kinds:
                kinds.append(kind)
    return kinds
