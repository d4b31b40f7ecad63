"""Watch options as an API server whose WatchList feature gate is off refuses them: a streaming
list (client-go 1.35's first try) gets the 422 that makes the client fall back to list+watch."""

from __future__ import annotations

from starlette.testclient import TestClient

PODS = "/api/v1/namespaces/default/pods"


def test_a_streaming_list_is_refused_with_the_api_servers_422(api: TestClient) -> None:
    query = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
    answer = api.get(f"{PODS}?{query}&allowWatchBookmarks=true")
    assert answer.status_code == 422
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        "reason": "Invalid",
        "details": {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: sendInitialEvents is forbidden for watch unless the "
                    "WatchList feature gate is enabled",
                    "field": "sendInitialEvents",
                }
            ],
        },
        "code": 422,
    }


def test_resource_version_match_needs_send_initial_events(api: TestClient) -> None:
    answer = api.get(f"{PODS}?watch=true&resourceVersionMatch=NotOlderThan")
    assert answer.status_code == 422
    assert answer.json()["message"].endswith(
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless "
        "sendInitialEvents is provided"
    )
