"""The codec round-trips every shape the core/v1 Pod schema allows, and the fixture manifests."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikubelet.api import models
from minikubelet.api.codec import format_time, from_dict, parse_time, to_dict
from minikubelet.api.manifests import load_paths
from minikubelet.api.models import Pod
from minikubelet.api.schema import _table, check_pod

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
MAX_DEPTH = 5


def _always_present(type_name: str) -> set[str]:
    """JSON keys the model always writes (non-optional fields), so generated bodies hold them."""
    cls = getattr(models, type_name, None)
    if cls is None or not dataclasses.is_dataclass(cls):
        return set()
    return {
        f.name
        for f in dataclasses.fields(cls)
        if f.name != "extra" and f.default is not None and f.default_factory is dataclasses.MISSING
    } | ({"metadata", "spec"} if type_name == "Pod" else set())


QUANTITIES = st.sampled_from(["100m", "1", "128Mi", "1Gi", "2", "500m", "1k", "0", "1e3"])
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: format_time(t))
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "string": NAMES,
    "integer": st.integers(min_value=0, max_value=2**31 - 1),
    "number": st.integers(min_value=0, max_value=1000),
    "boolean": st.booleans(),
    "time": TIMES,
    "intstr": st.one_of(st.integers(min_value=1, max_value=65535), NAMES),
    "quantity": QUANTITIES,
    "any": st.dictionaries(NAMES, NAMES, max_size=2),
}


def shape(kind: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(kind, dict):
        inner = shape(kind.get("list", kind.get("map")), depth + 1)
        if "list" in kind:
            return st.lists(inner, max_size=2 if depth < MAX_DEPTH else 0)
        return st.dictionaries(NAMES, inner, max_size=2 if depth < MAX_DEPTH else 0)
    if kind in SCALARS:
        return SCALARS[kind]
    return obj(kind, depth + 1)


def obj(type_name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    fields = _table()[type_name]
    required = _always_present(type_name)
    optional = sorted(set(fields) - required) if depth < MAX_DEPTH else []
    return st.fixed_dictionaries(
        {k: shape(fields[k], depth) for k in sorted(required)},
        optional={k: shape(fields[k], depth) for k in optional},
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=obj("Pod", 0))
def test_every_schema_shape_round_trips(body: dict[str, Any]) -> None:
    body["apiVersion"], body["kind"] = "v1", "Pod"
    assert check_pod(body).message() is None
    # Quantities come back canonical; the sampled ones are canonical already. A condition's
    # two times are metav1.Time structs, which Go writes even when zero: `null`.
    for condition in (body.get("status") or {}).get("conditions") or []:
        for name in ("lastProbeTime", "lastTransitionTime"):
            condition.setdefault(name, None)
    assert to_dict(from_dict(Pod, body)) == body


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=obj("Pod", 0))
def test_decoded_model_is_a_fixed_point(body: dict[str, Any]) -> None:
    pod = from_dict(Pod, body)
    assert from_dict(Pod, to_dict(pod)) == pod


def test_fixture_manifests_round_trip() -> None:
    for manifest in load_paths([str(MANIFESTS)]):
        assert to_dict(from_dict(Pod, manifest.body)) == manifest.body, manifest.source


def test_times_are_rfc3339_utc_whole_seconds() -> None:
    assert parse_time("2024-05-01T14:00:00+02:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert format_time(datetime(2024, 5, 1, 12, 0, 0, 999, tzinfo=UTC)) == "2024-05-01T12:00:00Z"


def test_unmodelled_fields_are_kept_verbatim() -> None:
    body = json.loads(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "finalizers": ["x"]},'
        ' "spec": {"containers": [{"name": "c", "image": "i", "securityContext":'
        ' {"privileged": true}}], "tolerations": [{"operator": "Exists"}]}}'
    )
    pod = from_dict(Pod, body)
    assert pod.spec.extra == {"tolerations": [{"operator": "Exists"}]}
    assert pod.spec.containers is not None
    assert pod.spec.containers[0].extra == {"securityContext": {"privileged": True}}
    assert to_dict(pod) == body
