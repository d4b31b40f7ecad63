"""The registry of kinds: every kind the node serves, named once.

An entry says what the API server's REST mapping says of a kind (group, version, kind, plural,
singular, short names, scope, verbs, subresources, categories, its etcd prefix, the fields its
field selectors accept) and where its behaviour lives: the printer that makes its Table rows,
the strategy that defaults and validates it, and the describer `describe` prints it with.
Discovery (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`), `/openapi/v3`, the store's
messages, the server's routes and the CLI's verbs all read this table; paths are built by
`Kind.path` and nowhere else.

Behaviour is named as `"module:attribute"` and imported on first use (`Kind.load`), so the CLI,
which only needs names and paths, imports nothing but this module to resolve `get cm` or build a
URL, and `api/` stays below `printers/` in the layers. Adding a kind is one `register(Kind(...))`
plus its own printer/strategy/describer modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from functools import cache
from types import MappingProxyType

# Every CLI command imports this module: typing (~3 ms) only for mypy
TYPE_CHECKING = False  # as typing.TYPE_CHECKING (errors.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ALL_VERBS",
    "Kind",
    "Subresource",
    "UnknownResource",
    "all_kinds",
    "by_kind",
    "category",
    "groups",
    "lookup",
    "register",
    "unregister",
]

ALL_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
# Every kind's field selectors accept these (apiserver's generic.AddObjectMetaFieldsSet).
_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


class UnknownResource(LookupError):
    """No kind answers to this name (kubectl: `the server doesn't have a resource type "x"`)."""

    def __init__(self, name: str) -> None:
        super().__init__(f'the server doesn\'t have a resource type "{name}"')
        self.name = name


class Subresource(tuple[tuple[str, ...], str]):
    """A subresource's verbs and the kind its requests carry (`pods/exec`: PodExecOptions);
    an empty kind is the parent's. A `(verbs, kind)` tuple, as a NamedTuple would be, without
    importing typing for it."""

    __slots__ = ()

    def __new__(cls, verbs: tuple[str, ...], kind: str = "") -> Subresource:
        return tuple.__new__(cls, (verbs, kind))

    @property
    def verbs(self) -> tuple[str, ...]:
        return self[0]

    @property
    def kind(self) -> str:
        return self[1]

    def __repr__(self) -> str:
        return f"Subresource(verbs={self[0]!r}, kind={self[1]!r})"


_EMPTY: Mapping[str, Subresource] = MappingProxyType({})


class Kind:
    """One kind as the API server maps it, and where its printer, strategy and describer live.

    Immutable, and compared and hashed by identity: one entry each. A plain class rather than a
    dataclass because the CLI imports this module on every command, and `dataclasses` (with the
    `inspect` it imports) would cost it more than the rest of the registry."""

    __slots__ = (
        "kind",
        "plural",
        "singular",
        "group",
        "version",
        "short_names",
        "namespaced",
        "verbs",
        "subresources",
        "storage",
        "categories",
        "fields",
        "stored",
        "table",
        "strategy",
        "describer",
    )
    kind: str
    plural: str
    singular: str
    group: str
    version: str
    short_names: tuple[str, ...]
    namespaced: bool
    verbs: tuple[str, ...]
    # subresource name -> its verbs and kind (`log`: get; `status`: get, update)
    subresources: Mapping[str, Subresource]
    storage: str  # the etcd prefix under /registry; the plural unless it differs
    categories: tuple[str, ...]
    fields: frozenset[str]  # what `fieldSelector` may name
    stored: bool  # False: the server computes it (Namespaces on this node)
    table: str  # "module:NAME" of a printers.tables.TablePrinter
    strategy: str  # "module:NAME" of an api.strategy.Strategy
    describer: str  # "module:NAME" of a printers.describe.Describer

    def __init__(
        self,
        *,
        kind: str,
        plural: str,
        singular: str,
        group: str = "",
        version: str = "v1",
        short_names: tuple[str, ...] = (),
        namespaced: bool = True,
        verbs: tuple[str, ...] = ALL_VERBS,
        subresources: Mapping[str, Subresource] = _EMPTY,
        storage: str = "",
        categories: tuple[str, ...] = (),
        fields: frozenset[str] = _META_FIELDS,
        stored: bool = True,
        table: str = "",
        strategy: str = "",
        describer: str = "",
    ) -> None:
        values = locals()
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Kind is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a Kind is immutable")

    def __repr__(self) -> str:
        return f"Kind(kind={self.kind!r}, group={self.group!r}, version={self.version!r})"

    @property
    def api_version(self) -> str:
        """`v1` for core, `GROUP/VERSION` otherwise (an object's `apiVersion`)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        """Where the group version is served: `/api/v1` or `/apis/GROUP/VERSION`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def etcd_prefix(self) -> str:
        return self.storage or self.plural

    @property
    def qualified(self) -> str:
        """How kubectl names the kind in `pod/web created` or `endpointslice.discovery.k8s.io/x`:
        the lower-case kind, with its group outside core."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name `get` accepts for it, lower-case."""
        return (self.plural, self.singular, *self.short_names, self.kind.lower())

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The REST path: the collection (in a namespace, or across all of them when `namespace`
        is None), an object, or an object's subresource. Cluster-scoped kinds ignore `namespace`."""
        path = self.prefix
        if self.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        if name is not None:
            path += f"/{name}"
            if subresource:
                path += f"/{subresource}"
        return path

    def load(self, which: str) -> Any:
        """The printer, strategy or describer this entry names, imported on first use."""
        ref = getattr(self, which)
        if not ref:
            raise LookupError(f"{self.kind} has no {which}")
        return _resolve(ref)


@cache
def _resolve(ref: str) -> Any:
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


# kind -> entry. The store keys objects by kind, so a kind name is served by one group only.
_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (or replace its entry); returns it."""
    known = _REGISTRY.get(kind.kind)
    if known is not None and known.group != kind.group:
        raise ValueError(f"{kind.kind} is already served by group {known.group!r}")
    _REGISTRY[kind.kind] = kind
    return kind


def unregister(kind: Kind) -> None:
    _REGISTRY.pop(kind.kind, None)


def all_kinds() -> Iterator[Kind]:
    """Every registered kind, core first, then by group, each group in registration order."""
    return iter(sorted(_REGISTRY.values(), key=lambda k: (k.group != "", k.group)))


def by_kind(kind: str) -> Kind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise UnknownResource(kind) from None


def lookup(name: str) -> Kind:
    """The kind a user's word names, as kubectl's RESTMapper resolves it: plural, singular,
    short name or kind, case-insensitively, optionally qualified (`pods.v1`,
    `endpointslices.discovery.k8s.io`, `deployments.v1.apps`)."""
    word, _, qualifier = name.lower().partition(".")
    for kind in all_kinds():
        if word not in kind.names:
            continue
        if not qualifier or qualifier in (
            kind.group,
            kind.version,
            f"{kind.version}.{kind.group}",
        ):
            return kind
    raise UnknownResource(name)


def category(name: str) -> list[Kind]:
    """The kinds a category names (`all`: pods, services), in discovery's order (groups as
    `/apis` lists them, core first; each group's resources by plural), which is the order
    kubectl's category expander reads them in. Empty when no kind is in it."""
    members = [k for k in all_kinds() if name in k.categories]
    return sorted(members, key=lambda k: (k.group != "", list(groups()).index(k.group), k.plural))


def groups() -> dict[str, list[str]]:
    """Group -> its versions, in registration order; core is `""`."""
    found: dict[str, list[str]] = {}
    for kind in all_kinds():
        versions = found.setdefault(kind.group, [])
        if kind.version not in versions:
            versions.append(kind.version)
    return found


# The kinds of core/v1 this node serves. The verbs are what kubectl checks before it acts
# (`get` needs list, `delete` needs delete, `-w` needs watch).
POD = register(
    Kind(
        kind="Pod",
        plural="pods",
        singular="pod",
        short_names=("po",),
        subresources={
            "attach": Subresource(("create", "get"), "PodAttachOptions"),
            "ephemeralcontainers": Subresource(("get", "patch", "update")),
            "exec": Subresource(("create", "get"), "PodExecOptions"),
            "log": Subresource(("get",)),
            "portforward": Subresource(("create", "get"), "PodPortForwardOptions"),
            "status": Subresource(("get", "patch", "update")),
        },
        categories=("all",),
        fields=_META_FIELDS.union(
            {
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            }
        ),
        table="minikubelet.printers.pods:POD_TABLE",
        strategy="minikubelet.api.create:POD_STRATEGY",
        describer="minikubelet.printers.describe:describe_pod",
    )
)
EVENT = register(
    Kind(
        kind="Event",
        plural="events",
        singular="event",
        short_names=("ev",),
        verbs=("list", "watch"),
        fields=_META_FIELDS.union(
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            }
        ),
        table="minikubelet.printers.tables:EVENT_TABLE",
    )
)
NAMESPACE = register(
    Kind(
        kind="Namespace",
        plural="namespaces",
        singular="namespace",
        short_names=("ns",),
        namespaced=False,
        verbs=("get", "list"),
        stored=False,
        table="minikubelet.printers.tables:NAMESPACE_TABLE",
    )
)
NODE = register(
    Kind(
        kind="Node",
        plural="nodes",
        singular="node",
        short_names=("no",),
        namespaced=False,
        verbs=("get", "list", "patch", "watch"),
        storage="minions",  # nodes live under /registry/minions in etcd
        table="minikubelet.printers.tables:NODE_TABLE",
        strategy="minikubelet.api.nodes:NODE_STRATEGY",
        describer="minikubelet.printers.describe_node:DESCRIBE_NODE",
    )
)
CONFIG_MAP = register(
    Kind(
        kind="ConfigMap",
        plural="configmaps",
        singular="configmap",
        short_names=("cm",),
        table="minikubelet.printers.configdata:CONFIG_MAP_TABLE",
        strategy="minikubelet.api.configdata:CONFIG_MAP_STRATEGY",
        describer="minikubelet.printers.configdata:describe_config_map",
    )
)
SECRET = register(
    Kind(
        kind="Secret",
        plural="secrets",
        singular="secret",
        fields=_META_FIELDS | {"type"},
        table="minikubelet.printers.configdata:SECRET_TABLE",
        strategy="minikubelet.api.configdata:SECRET_STRATEGY",
        describer="minikubelet.printers.configdata:describe_secret",
    )
)
SERVICE = register(
    Kind(
        kind="Service",
        plural="services",
        singular="service",
        short_names=("svc",),
        subresources={"status": Subresource(("get", "patch", "update"))},
        categories=("all",),
        fields=_META_FIELDS | {"spec.clusterIP", "spec.type"},
        table="minikubelet.printers.services:SERVICE_TABLE",
        strategy="minikubelet.api.service_strategy:SERVICE_STRATEGY",
        describer="minikubelet.printers.describe_services:DESCRIBE_SERVICE",
    )
)
ENDPOINTS = register(
    Kind(
        kind="Endpoints",
        plural="endpoints",
        singular="endpoints",
        short_names=("ep",),
        table="minikubelet.printers.services:ENDPOINTS_TABLE",
        strategy="minikubelet.api.service_strategy:ENDPOINTS_STRATEGY",
        describer="minikubelet.printers.describe_services:describe_endpoints",
    )
)
ENDPOINT_SLICE = register(
    Kind(
        kind="EndpointSlice",
        plural="endpointslices",
        singular="endpointslice",
        group="discovery.k8s.io",
        table="minikubelet.printers.services:ENDPOINT_SLICE_TABLE",
        strategy="minikubelet.api.service_strategy:ENDPOINT_SLICE_STRATEGY",
        describer="minikubelet.printers.describe_services:describe_endpoint_slice",
    )
)
LEASE = register(
    Kind(
        kind="Lease",
        plural="leases",
        singular="lease",
        group="coordination.k8s.io",
        verbs=("get", "list", "watch"),
        table="minikubelet.printers.tables:LEASE_TABLE",
    )
)
