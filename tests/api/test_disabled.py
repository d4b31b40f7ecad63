"""The fields of the feature gates 1.32 keeps off, dropped at create and kept on an update of a
pod that already had them (`pkg/api/pod/util.go`, `dropDisabledFields`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from minikubelet.api.codec import from_dict, to_dict
from minikubelet.api.create import prepare_create
from minikubelet.api.disabled import drop_disabled_fields
from minikubelet.api.models import Pod

NOW = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def manifest() -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "i",
        "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
        "resources": {"claims": [{"name": "gpu"}], "limits": {"memory": "64Mi"}},
        "securityContext": {"procMount": "Unmasked", "runAsUser": 1000},
        "volumeMounts": [
            {"name": "tools", "mountPath": "/tools"},
            {"name": "scratch", "mountPath": "/s"},
        ],
    }  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "hostUsers": False,
            "securityContext": {
                "supplementalGroupsPolicy": "Strict",
                "seLinuxChangePolicy": "Recursive",
            },
            "resources": {"limits": {"cpu": "1"}},
            "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
            "volumes": [
                {"name": "tools", "image": {"reference": "tools:1"}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "trust", "projected": {"sources": [
                    {"clusterTrustBundle": {"name": "b", "path": "ca.pem"}},
                    {"configMap": {"name": "c"}},
                ]}},
            ],
            "containers": [container],
        },
    }  # fmt: skip


def test_a_create_drops_every_disabled_field_silently() -> None:
    spec = to_dict(prepare_create(manifest(), "default", NOW))["spec"]
    for name in ("hostUsers", "resources", "resourceClaims"):
        assert name not in spec
    assert spec["securityContext"] == {}
    (container,) = spec["containers"]
    assert "resizePolicy" not in container
    assert container["resources"] == {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}
    assert container["securityContext"] == {"procMount": "Default", "runAsUser": 1000}
    assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/s"}]
    assert [v["name"] for v in spec["volumes"]] == ["scratch", "trust"]
    assert spec["volumes"][1]["projected"]["sources"] == [{"configMap": {"name": "c"}}]


def test_an_update_keeps_what_the_stored_pod_already_used() -> None:
    old = from_dict(Pod, manifest())
    new = from_dict(Pod, copy.deepcopy(manifest()))
    drop_disabled_fields(new, old)
    assert to_dict(new) == to_dict(old)
