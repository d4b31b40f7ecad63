"""spec.affinity and spec.topologySpreadConstraints: what the 1.32 API server refuses, in its
words and order (`validateAffinity`, `validateTopologySpreadConstraints`), and the create-time
merge of matchLabelKeys/mismatchLabelKeys into the term's selector (`mutatePodAffinity`).

Each case creates a patched copy of the base pod through the whole create pipeline (so the merge
runs before validation, as PrepareForCreate runs before Validate) and compares the Status causes
line by line, and the aggregated `Pod "web" is invalid: ...` message with them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.codec import to_dict
from minikubelet.api.create import prepare_create
from minikubelet.api.update import prepare_update
from minikubelet.errors import Invalid
from tests.api.test_validation import BASE, LABEL, LABEL_VALUE, NAME_PART, QUALIFIED, SUB, _set

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
REQ = "requiredDuringSchedulingIgnoredDuringExecution"
PREF = "preferredDuringSchedulingIgnoredDuringExecution"
NT = f"spec.affinity.nodeAffinity.{REQ}.nodeSelectorTerms"
NP = f"spec.affinity.nodeAffinity.{PREF}"
PA = f"spec.affinity.podAffinity.{REQ}"
PP = f"spec.affinity.podAffinity.{PREF}"
AA = f"spec.affinity.podAntiAffinity.{REQ}"
AP = f"spec.affinity.podAntiAffinity.{PREF}"
TSC = "spec.topologySpreadConstraints"
RANGE = "Invalid value: 0: must be in the range 1-100"
BAD_OP = "not a valid selector operator"
IN_VALUES = "Required value: must be specified when `operator` is 'In' or 'NotIn'"
NO_VALUES = "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
NO_SELECTOR = "Forbidden: must not be specified when labelSelector is not set"
IN_SELECTOR = "exists in both matchLabelKeys and labelSelector"
ACTIONS = 'supported values: "DoNotSchedule", "ScheduleAnyway"'
POLICIES = 'supported values: "Honor", "Ignore"'
EMPTY_TOPOLOGY_KEY = [
    "topologyKey: Required value: can not be empty",
    'topologyKey: Invalid value: "": name part must be non-empty',
    f'topologyKey: Invalid value: "": {NAME_PART}',
]


def _node(*terms: Any) -> dict[str, Any]:
    """Required node affinity with these nodeSelectorTerms."""
    return {"spec.affinity": {"nodeAffinity": {REQ: {"nodeSelectorTerms": list(terms)}}}}


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    found: dict[str, Any] = {"key": key, "operator": operator}
    return found | ({"values": list(values)} if values else {})


def _term(topology_key: str = "kubernetes.io/hostname", **fields: Any) -> dict[str, Any]:
    return {"topologyKey": topology_key, **fields}


def _pod(kind: str = "podAffinity", *terms: Any, preferred: Any = None) -> dict[str, Any]:
    """Pod (anti-)affinity with these required terms and, optionally, weighted ones."""
    affinity: dict[str, Any] = {REQ: list(terms)} if terms else {}
    if preferred is not None:
        affinity[PREF] = preferred
    return {"spec.affinity": {kind: affinity}}


def _spread(*constraints: Any) -> dict[str, Any]:
    return {"spec.topologySpreadConstraints": list(constraints)}


def _tsc(key: str = "zone", action: str = "DoNotSchedule", **fields: Any) -> dict[str, Any]:
    return {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": action, **fields}


def _manifest(patches: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for dotted, value in patches.items():
        _set(doc, dotted, copy.deepcopy(value))
    return doc


def _create_errors(patches: dict[str, Any]) -> list[str]:
    """The causes of the 422 a create gets, as `field: message` lines ([] when created)."""
    try:
        prepare_create(_manifest(patches), "default", NOW)
    except Invalid as err:
        lines = [f"{c['field']}: {c['message']}" for c in err.details["causes"]]
        texts = list(dict.fromkeys(lines))
        body = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        assert err.message == f'Pod "web" is invalid: {body}'
        return lines
    return []


CASES = [
    # --- node affinity ---------------------------------------------------------------------
    pytest.param(_node({"matchExpressions": [_expr("a", "in")]}), [
        f'{NT}[0].matchExpressions[0].operator: Invalid value: "in": {BAD_OP}',
    ], id="node operator in the wrong case"),
    pytest.param(_node(), [
        f"{NT}: Required value: must have at least one node selector term",
    ], id="node selector without terms"),
    pytest.param({"spec.affinity": {"nodeAffinity": {REQ: {}}}}, [
        f"{NT}: Required value: must have at least one node selector term",
    ], id="node selector present but empty"),
    pytest.param(_node({}, None), [], id="empty and null terms are no error"),
    pytest.param(_node({"matchExpressions": [
        _expr("disk", "In"), _expr("gpu", "Exists", "yes"), _expr("cpu", "Gt", "1", "2"),
        _expr("mem", "Lt"),
    ]}), [
        f"{NT}[0].matchExpressions[0].values: {IN_VALUES}",
        f"{NT}[0].matchExpressions[1].values: {NO_VALUES}",
        f"{NT}[0].matchExpressions[2].values: Required value: must be specified single value "
        "when `operator` is 'Lt' or 'Gt'",
        f"{NT}[0].matchExpressions[3].values: Required value: must be specified single value "
        "when `operator` is 'Lt' or 'Gt'",
    ], id="node value counts per operator"),
    pytest.param(_node({"matchExpressions": [{"key": "a b"}]}), [
        f'{NT}[0].matchExpressions[0].operator: Invalid value: "": {BAD_OP}',
        f'{NT}[0].matchExpressions[0].key: Invalid value: "a b": {NAME_PART}',
    ], id="node operator missing then a bad key"),
    pytest.param(_node({"matchExpressions": [
        _expr("", "Exists"), _expr("a/b/c", "DoesNotExist"),
    ]}), [
        f'{NT}[0].matchExpressions[0].key: Invalid value: "": name part must be non-empty',
        f'{NT}[0].matchExpressions[0].key: Invalid value: "": {NAME_PART}',
        f'{NT}[0].matchExpressions[1].key: Invalid value: "a/b/c": a qualified name {QUALIFIED} '
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ], id="node keys empty and with two slashes"),
    pytest.param(_node({"matchExpressions": [
        _expr("disk", "In", "a b", "x" * 70), _expr("cores", "Gt", "many"),
    ]}), [], id="node values are not label-checked in 1.32"),
    pytest.param(_node({"matchFields": [
        _expr("metadata.namespace", "In", "default"),
        _expr("metadata.name", "In", "node1", "Bad_Node"),
        _expr("metadata.name", "Exists"),
    ]}), [
        f'{NT}[0].matchFields[0].key: Invalid value: "metadata.namespace": '
        "not a valid field selector key",
        f"{NT}[0].matchFields[1].values: Required value: must be only one value when "
        "`operator` is 'In' or 'NotIn' for node field selector",
        f'{NT}[0].matchFields[1].values[1]: Invalid value: "Bad_Node": {SUB}',
        f'{NT}[0].matchFields[2].operator: Invalid value: "Exists": {BAD_OP}',
    ], id="node field selectors"),
    pytest.param({"spec.affinity": {"nodeAffinity": {
        REQ: {"nodeSelectorTerms": [{"matchExpressions": [_expr("a", "Exists", "x")]}]},
        PREF: [
            {"weight": 101, "preference": {"matchExpressions": [_expr("b", "NotIn")]}},
            None,
            {"weight": 50},
        ],
    }}}, [
        f"{NT}[0].matchExpressions[0].values: {NO_VALUES}",
        f"{NP}[0].weight: Invalid value: 101: must be in the range 1-100",
        f"{NP}[0].preference.matchExpressions[0].values: {IN_VALUES}",
        f"{NP}[1].weight: {RANGE}",
    ], id="node required then preferred, a null preferred term has weight 0"),
    # --- pod affinity and anti-affinity ----------------------------------------------------
    pytest.param(_pod("podAffinity", _term("")), [
        f"{PA}[0].{line}" for line in EMPTY_TOPOLOGY_KEY
    ], id="pod empty topologyKey: required and two invalid"),
    pytest.param(_pod("podAntiAffinity", None), [
        f"{AA}[0].{line}" for line in EMPTY_TOPOLOGY_KEY
    ], id="pod null term is the zero term"),
    pytest.param(_pod("podAntiAffinity", preferred=[{"weight": 1, "podAffinityTerm": _term(
        labelSelector={"matchExpressions": [_expr("app", "Gt", "1")]},
    )}]), [
        f'{AP}[0].podAffinityTerm.labelSelector.matchExpressions[0].operator: '
        f'Invalid value: "Gt": {BAD_OP}',
    ], id="label selector has no Gt"),
    pytest.param(_pod("podAffinity", _term(labelSelector={"matchExpressions": [
        _expr("app", "In", "a b", "ok", ""), _expr("tier", "Exists", "x"), _expr("x y", "NotIn"),
    ]})), [
        f'{PA}[0].labelSelector.matchExpressions[0].values[0]: Invalid value: "a b": '
        f"{LABEL_VALUE}",
        f"{PA}[0].labelSelector.matchExpressions[1].values: {NO_VALUES}",
        f"{PA}[0].labelSelector.matchExpressions[2].values: {IN_VALUES}",
        f'{PA}[0].labelSelector.matchExpressions[2].key: Invalid value: "x y": {NAME_PART}',
    ], id="label selector expressions"),
    pytest.param(_pod("podAffinity", _term(
        labelSelector={"matchLabels": {"b": "x y", "a b": "v"}},
        namespaceSelector={"matchLabels": {"team": "-x"}},
    )), [
        f'{PA}[0].labelSelector.matchLabels: Invalid value: "a b": {NAME_PART}',
        f'{PA}[0].labelSelector.matchLabels: Invalid value: "x y": {LABEL_VALUE}',
        f'{PA}[0].namespaceSelector.matchLabels: Invalid value: "-x": {LABEL_VALUE}',
    ], id="matchLabels errors on the map's path, by key"),
    pytest.param(_pod("podAffinity", _term(
        namespaces=["Bad_NS", "ok", "a.b"],
        namespaceSelector={"matchExpressions": [_expr("team", "Exists", "x")]},
    )), [
        f"{PA}[0].namespaceSelector.matchExpressions[0].values: {NO_VALUES}",
        f'{PA}[0].namespace: Invalid value: "Bad_NS": {LABEL}',
        f'{PA}[0].namespace: Invalid value: "a.b": must not contain dots',
    ], id="namespaces on a singular unindexed path, after the selectors"),
    pytest.param(_pod("podAffinity", _term(matchLabelKeys=["a b"], mismatchLabelKeys=["c"])), [
        f"{PA}[0].matchLabelKeys: {NO_SELECTOR}",
        f"{PA}[0].mismatchLabelKeys: {NO_SELECTOR}",
    ], id="label keys without a selector: forbidden, keys unchecked"),
    pytest.param(_pod("podAffinity", _term(
        labelSelector={}, matchLabelKeys=["a b", "tier"], mismatchLabelKeys=["/x", "tier"],
    )), [
        f'{PA}[0].matchLabelKeys[0]: Invalid value: "a b": {NAME_PART}',
        f'{PA}[0].mismatchLabelKeys[0]: Invalid value: "/x": prefix part must be non-empty',
        f'{PA}[0].matchLabelKeys[1]: Invalid value: "tier": '
        "exists in both matchLabelKeys and mismatchLabelKeys",
    ], id="label keys checked, and a key in both lists"),
    pytest.param(_pod("podAffinity", _term(
        labelSelector={"matchLabels": {"app": "web"}}, matchLabelKeys=["app"],
    )), [
        f'{PA}[0][0]: Invalid value: "app": {IN_SELECTOR}',
    ], id="merged key already in matchLabels: upstream's path without matchLabelKeys"),
    pytest.param(_pod("podAntiAffinity", preferred=[{"weight": 10, "podAffinityTerm": _term(
        labelSelector={"matchExpressions": [_expr("app", "Exists")]}, matchLabelKeys=["x", "app"],
    )}]), [
        f'{AP}[0].podAffinityTerm[1]: Invalid value: "app": {IN_SELECTOR}',
    ], id="merged key already in an expression of a weighted term"),
    pytest.param(_pod("podAffinity", _term(labelSelector={}, matchLabelKeys=["app", "app"])), [
        f'{PA}[0][1]: Invalid value: "app": {IN_SELECTOR}',
    ], id="a repeated key is merged twice and trips at its last index"),
    pytest.param(_pod("podAffinity", _term(
        labelSelector={"matchLabels": {"tier": "db"}}, matchLabelKeys=["tier"],
    )), [], id="a key the pod has no label for is not merged"),
    pytest.param(_pod("podAffinity", _term(
        labelSelector={"matchLabels": {"app": "web"}}, mismatchLabelKeys=["app"],
    )), [], id="mismatchLabelKeys may repeat the selector"),
    pytest.param(_pod("podAffinity", preferred=[None, {"weight": 100, "podAffinityTerm": None}]), [
        f"{PP}[0].weight: {RANGE}",
        *(f"{PP}[0].podAffinityTerm.{line}" for line in EMPTY_TOPOLOGY_KEY),
        *(f"{PP}[1].podAffinityTerm.{line}" for line in EMPTY_TOPOLOGY_KEY),
    ], id="weighted terms: weight then the term"),
    pytest.param({"spec.affinity": {
        "podAntiAffinity": {REQ: [_term("a b")]},
        "podAffinity": {PREF: [{"weight": -1, "podAffinityTerm": _term()}]},
        "nodeAffinity": {REQ: {"nodeSelectorTerms": []}},
    }}, [
        f"{NT}: Required value: must have at least one node selector term",
        f"{PP}[0].weight: Invalid value: -1: must be in the range 1-100",
        f'{AA}[0].topologyKey: Invalid value: "a b": {NAME_PART}',
    ], id="node, then pod affinity, then anti-affinity"),
    # --- topology spread constraints -------------------------------------------------------
    pytest.param(_spread(None), [
        f"{TSC}[0].maxSkew: Invalid value: 0: must be greater than zero",
        f"{TSC}[0].topologyKey: Required value: can not be empty",
        f'{TSC}[0].whenUnsatisfiable: Unsupported value: "": {ACTIONS}',
    ], id="spread null constraint is the zero constraint"),
    pytest.param(_spread(_tsc("a b", "Foo", maxSkew=-2)), [
        f"{TSC}[0].maxSkew: Invalid value: -2: must be greater than zero",
        f'{TSC}[0].whenUnsatisfiable: Unsupported value: "Foo": {ACTIONS}',
    ], id="spread bad skew and action, a malformed topologyKey is accepted"),
    pytest.param(_spread(_tsc(), _tsc(), _tsc(), _tsc(action="ScheduleAnyway")), [
        f'{TSC}[0].{{topologyKey, whenUnsatisfiable}}: Duplicate value: "{{zone, DoNotSchedule}}"',
        f'{TSC}[1].{{topologyKey, whenUnsatisfiable}}: Duplicate value: "{{zone, DoNotSchedule}}"',
    ], id="spread duplicates against later constraints only"),
    pytest.param(_spread(
        _tsc("a", minDomains=0), _tsc("b", "ScheduleAnyway", minDomains=2),
        _tsc("c", "ScheduleAnyway", minDomains=-1), _tsc("d", "", minDomains=3),
    ), [
        f"{TSC}[0].minDomains: Invalid value: 0: must be greater than zero",
        f"{TSC}[1].minDomains: Invalid value: 2: can only use minDomains if "
        "whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
        f"{TSC}[2].minDomains: Invalid value: -1: must be greater than zero",
        f"{TSC}[2].minDomains: Invalid value: -1: can only use minDomains if "
        "whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
        f'{TSC}[3].whenUnsatisfiable: Unsupported value: "": {ACTIONS}',
        f"{TSC}[3].minDomains: Invalid value: 3: can only use minDomains if "
        "whenUnsatisfiable=DoNotSchedule, not ",
    ], id="spread minDomains"),
    pytest.param(_spread(_tsc(nodeAffinityPolicy="Foo", nodeTaintsPolicy="")), [
        f'{TSC}[0].nodeAffinityPolicy: Unsupported value: "Foo": {POLICIES}',
        f'{TSC}[0].nodeTaintsPolicy: Unsupported value: "": {POLICIES}',
    ], id="spread node policies"),
    pytest.param(_spread(_tsc(matchLabelKeys=["a b", "app"])), [
        f"{TSC}[0].matchLabelKeys: {NO_SELECTOR}",
        f'{TSC}[0].matchLabelKeys[0]: Invalid value: "a b": {NAME_PART}',
    ], id="spread matchLabelKeys without a selector: forbidden, keys still checked"),
    pytest.param(_spread(_tsc(
        labelSelector={"matchLabels": {"app": "web"}, "matchExpressions": [_expr("tier", "In")]},
        matchLabelKeys=["tier", "app", "pod-template-hash"],
    )), [
        f'{TSC}[0].matchLabelKeys[0]: Invalid value: "tier": {IN_SELECTOR}',
        f'{TSC}[0].matchLabelKeys[1]: Invalid value: "app": {IN_SELECTOR}',
        f"{TSC}[0].labelSelector.matchExpressions[0].values: {IN_VALUES}",
    ], id="spread keys already in the selector, then the selector itself"),
    pytest.param(_spread(_tsc(labelSelector={"matchLabels": {"app": "a b"}})), [
        f'{TSC}[0].labelSelector.matchLabels: Invalid value: "a b": {LABEL_VALUE}',
    ], id="spread selector values are checked on create"),
    # --- where they sit in ValidatePodSpec -------------------------------------------------
    pytest.param({
        "spec.tolerations": [{"operator": "Bogus"}],
        "spec.topologySpreadConstraints": [_tsc(maxSkew=0)],
        "spec.dnsPolicy": "None",
        "spec.affinity": {"podAffinity": {REQ: [_term("a b")]}},
        "spec.nodeSelector": {"a b": "c"},
    }, [
        f'spec.nodeSelector: Invalid value: "a b": {NAME_PART}',
        f'{PA}[0].topologyKey: Invalid value: "a b": {NAME_PART}',
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        f"{TSC}[0].maxSkew: Invalid value: 0: must be greater than zero",
        'spec.tolerations[0].operator: Invalid value: "Bogus": operator must be Exists when `key` '
        'is empty, which means "match all values and all keys"',
        'spec.tolerations[0].operator: Unsupported value: "Bogus": supported values: '
        '"Equal", "Exists"',
    ], id="order: nodeSelector, affinity, dnsConfig, spread, tolerations"),
]  # fmt: skip


@pytest.mark.parametrize(("patches", "expected"), CASES)
def test_create_refuses(patches: dict[str, Any], expected: list[str]) -> None:
    assert _create_errors(patches) == expected


def test_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("patches", "message"),
    [
        pytest.param(
            _node({"matchExpressions": [_expr("a", "in")]}),
            'Pod "web" is invalid: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnored'
            "DuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "
            '"in": not a valid selector operator',
            id="one error",
        ),
        pytest.param(
            _spread(_tsc(), _tsc(maxSkew=0)),
            'Pod "web" is invalid: [spec.topologySpreadConstraints[0].{topologyKey, '
            'whenUnsatisfiable}: Duplicate value: "{zone, DoNotSchedule}", '
            "spec.topologySpreadConstraints[1].maxSkew: Invalid value: 0: must be greater than "
            "zero]",
            id="two errors",
        ),
        pytest.param(
            _pod("podAffinity", _term(labelSelector={}, matchLabelKeys=["app", "app"]),
                 _term(labelSelector={}, matchLabelKeys=["app", "app"])),
            'Pod "web" is invalid: [spec.affinity.podAffinity.requiredDuringSchedulingIgnored'
            'DuringExecution[0][1]: Invalid value: "app": exists in both matchLabelKeys and '
            "labelSelector, spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuring"
            'Execution[1][1]: Invalid value: "app": exists in both matchLabelKeys and '
            "labelSelector]",
            id="per-term paths",
        ),
    ],
)  # fmt: skip
def test_status_message(patches: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid) as caught:
        prepare_create(_manifest(patches), "default", NOW)
    assert caught.value.message == message
    assert caught.value.code == 422


def test_causes_carry_reasons() -> None:
    with pytest.raises(Invalid) as caught:
        spread = _spread(_tsc(), _tsc(), _tsc("b", action="x", minDomains=1))
        prepare_create(_manifest(spread), "default", NOW)
    assert caught.value.details["causes"] == [
        {
            "reason": "FieldValueDuplicate",
            "message": 'Duplicate value: "{zone, DoNotSchedule}"',
            "field": f"{TSC}[0].{{topologyKey, whenUnsatisfiable}}",
        },
        {
            "reason": "FieldValueNotSupported",
            "message": f'Unsupported value: "x": {ACTIONS}',
            "field": f"{TSC}[2].whenUnsatisfiable",
        },
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 1: can only use minDomains if "
            "whenUnsatisfiable=DoNotSchedule, not x",
            "field": f"{TSC}[2].minDomains",
        },
    ]


# --- the create-time merge ----------------------------------------------------------------


def _created(patches: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    doc = _manifest(patches)
    doc["metadata"]["labels"] = labels
    return to_dict(prepare_create(doc, "default", NOW))


def test_match_label_keys_are_merged_into_the_selector_on_create() -> None:
    selector = {"matchExpressions": [_expr("app", "Exists")]}
    term = _term(
        labelSelector=selector,
        matchLabelKeys=["pod-template-hash", "absent"],
        mismatchLabelKeys=["tenant"],
    )
    # one term object in both places: each place gets its own merge, as Go's decoded copies do
    patches = _pod("podAntiAffinity", term, preferred=[{"weight": 5, "podAffinityTerm": term}])
    body = _manifest(patches)
    sent = copy.deepcopy(body)
    labels = {"app": "web", "pod-template-hash": "5d8f", "tenant": "t1"}
    stored = _created(patches, labels)
    merged = [
        _expr("app", "Exists"),
        _expr("pod-template-hash", "In", "5d8f"),
        _expr("tenant", "NotIn", "t1"),
    ]
    anti = stored["spec"]["affinity"]["podAntiAffinity"]
    for stored_term in (anti[REQ][0], anti[PREF][0]["podAffinityTerm"]):
        assert stored_term["labelSelector"] == {"matchExpressions": merged}
        assert stored_term["matchLabelKeys"] == ["pod-template-hash", "absent"]  # kept
        assert stored_term["mismatchLabelKeys"] == ["tenant"]
    assert body == sent  # the request body is not changed


def test_merge_appends_to_a_selector_without_expressions() -> None:
    term = _term(labelSelector={"matchLabels": {"role": "db"}}, matchLabelKeys=["app"])
    stored = _created(_pod("podAffinity", term), {"app": "web"})
    assert stored["spec"]["affinity"]["podAffinity"][REQ][0]["labelSelector"] == {
        "matchLabels": {"role": "db"},
        "matchExpressions": [_expr("app", "In", "web")],
    }


def test_null_selector_is_not_merged_into() -> None:
    # a null selector matches no pod and gets no expressions; the keys are then forbidden
    term = _term(labelSelector=None, matchLabelKeys=["app"])
    assert _create_errors(_pod("podAffinity", term)) == [f"{PA}[0].matchLabelKeys: {NO_SELECTOR}"]


def test_topology_spread_keys_are_not_merged_in_1_32() -> None:
    constraint = _tsc(labelSelector={"matchLabels": {"tier": "fe"}}, matchLabelKeys=["app"])
    stored = _created(_spread(constraint), {"app": "web"})
    assert stored["spec"]["topologySpreadConstraints"] == [constraint]


def test_a_merged_pod_stays_valid_on_update() -> None:
    term = _term(labelSelector={}, matchLabelKeys=["app"])
    stored = _created(_pod("podAffinity", term), {"app": "web"})
    stored["metadata"]["resourceVersion"] = "1"
    relabelled = copy.deepcopy(stored)
    relabelled["metadata"]["labels"]["tier"] = "fe"
    updated = to_dict(prepare_update(stored, relabelled))
    assert updated["spec"]["affinity"] == stored["spec"]["affinity"]


# --- manifests that must pass --------------------------------------------------------------

DEPLOYMENT_ANTI_AFFINITY: dict[str, Any] = {
    "podAntiAffinity": {
        PREF: [
            {
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {
                        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]
                    },
                    "topologyKey": "kubernetes.io/hostname",
                    "matchLabelKeys": ["pod-template-hash"],
                },
            },
            {
                "weight": 50,
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": {"app": "web"}},
                    "namespaces": ["default", "staging"],
                    "topologyKey": "topology.kubernetes.io/zone",
                },
            },
        ]
    },
    "podAffinity": {
        REQ: [
            {
                "labelSelector": {"matchLabels": {"app": "cache"}},
                "namespaceSelector": {},
                "topologyKey": "kubernetes.io/hostname",
            }
        ]
    },
}
NODE_AFFINITY_GT: dict[str, Any] = {
    "nodeAffinity": {
        REQ: {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "example.com/cpu-count", "operator": "Gt", "values": ["4"]},
                        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    ]
                },
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node1"]}]},
            ]
        },
        PREF: [
            {
                "weight": 1,
                "preference": {
                    "matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["hdd"]}]
                },
            }
        ],
    }
}
SPREAD: list[dict[str, Any]] = [
    {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "minDomains": 3,
        "labelSelector": {"matchLabels": {"app": "web"}},
        "matchLabelKeys": ["pod-template-hash"],
        "nodeAffinityPolicy": "Honor",
        "nodeTaintsPolicy": "Ignore",
    },
    {
        "maxSkew": 2,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
    },
]

ALL_TOGETHER: dict[str, Any] = {
    "spec.affinity": DEPLOYMENT_ANTI_AFFINITY | NODE_AFFINITY_GT,
    "spec.topologySpreadConstraints": SPREAD,
}


@pytest.mark.parametrize(
    "patches",
    [
        pytest.param({"spec.affinity": DEPLOYMENT_ANTI_AFFINITY}, id="deployment anti-affinity"),
        pytest.param({"spec.affinity": NODE_AFFINITY_GT}, id="node affinity with Gt"),
        pytest.param({"spec.topologySpreadConstraints": SPREAD}, id="spread with minDomains"),
        pytest.param(ALL_TOGETHER, id="all together"),
        pytest.param({"spec.affinity": {}, "spec.topologySpreadConstraints": []}, id="empty"),
    ],
)
def test_valid_manifests_are_created(patches: dict[str, Any]) -> None:
    labels = {"app": "web", "pod-template-hash": "7c9d6b8f5"}
    stored = _created(patches, labels)
    anti = (stored["spec"].get("affinity") or {}).get("podAntiAffinity")
    if anti:  # the Deployment's hash is merged into the first weighted term
        first = anti[PREF][0]["podAffinityTerm"]["labelSelector"]["matchExpressions"]
        assert first[-1] == _expr("pod-template-hash", "In", "7c9d6b8f5")
