"""The API server's create and update of a Service: defaults, allocation, and the error a client
reads, one mutation of a valid base manifest per case (reference Part A; ValidateService 1.32)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from minikubelet.api.ipalloc import IPRange, PortRange
from minikubelet.api.raw import JSON
from minikubelet.api.services import (
    Allocation,
    Taken,
    prepare_service_create,
    prepare_service_update,
    taken_by,
)
from minikubelet.errors import BadRequest, InternalError, Invalid, StatusError

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
BASE: JSON = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
}
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def alloc(seed: int = 1) -> Allocation:
    return Allocation(rng=random.Random(seed))


NOTHING = Taken()


def create(body: JSON, taken: Taken = NOTHING, seed: int = 1) -> JSON:
    return prepare_service_create(body, "default", NOW, taken, alloc(seed), lambda: "uid-1")


def mutate(change: Callable[[JSON], Any]) -> JSON:
    body = copy.deepcopy(BASE)
    change(body)
    return body


def spec(**fields: Any) -> Callable[[JSON], Any]:
    return lambda body: body["spec"].update(fields)


def test_a_minimal_service_is_stored_with_the_api_servers_defaults() -> None:
    svc = create(BASE)
    ip = svc["spec"]["clusterIP"]
    assert svc["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
        "internalTrafficPolicy": "Cluster",
        "clusterIPs": [ip],
        "clusterIP": ip,
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }
    assert svc["status"] == {"loadBalancer": {}}
    assert svc["metadata"] == {
        "name": "web",
        "namespace": "default",
        "uid": "uid-1",
        "creationTimestamp": "2025-01-02T03:04:05Z",
    }
    # a dynamic pick comes from the upper band: above 10.96.1.0 (offset 256 of a /12)
    assert IPRange().offset(ip) is not None and IPRange().offset(ip) >= 256  # type: ignore[operator]


@pytest.mark.parametrize(
    ("change", "check"),
    [
        pytest.param(
            spec(type="NodePort"),
            lambda s: (
                30086 <= s["spec"]["ports"][0]["nodePort"] <= 32767
                and s["spec"]["externalTrafficPolicy"] == "Cluster"
            ),
            id="NodePort: a port from the upper band, externalTrafficPolicy Cluster",
        ),
        pytest.param(
            spec(clusterIP="None"),
            lambda s: (
                s["spec"]["clusterIPs"] == ["None"] and s["spec"]["ipFamilyPolicy"] == "SingleStack"
            ),
            id="headless: no IP allocated",
        ),
        pytest.param(
            lambda b: (b["spec"].update(clusterIP="None"), b["spec"].pop("selector")),
            lambda s: (
                s["spec"]["ipFamilyPolicy"] == "RequireDualStack"
                and s["spec"]["ipFamilies"] == ["IPv4", "IPv6"]
            ),
            id="headless without selector: RequireDualStack, both families",
        ),
        pytest.param(
            spec(sessionAffinity="ClientIP"),
            lambda s: s["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}},
            id="ClientIP affinity: three hours",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "targetPort": "http", "name": "web"}]),
            lambda s: s["spec"]["ports"][0]["targetPort"] == "http",
            id="named targetPort kept",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "targetPort": 0}]),
            lambda s: s["spec"]["ports"][0]["targetPort"] == 80,
            id="targetPort 0 defaults to port",
        ),
        pytest.param(
            spec(clusterIP="10.96.0.50"),
            lambda s: s["spec"]["clusterIPs"] == ["10.96.0.50"],
            id="an explicit IP in the static band",
        ),
        pytest.param(
            spec(
                type="NodePort",
                ports=[
                    {"port": 53, "protocol": "UDP", "name": "dns"},
                    {"port": 53, "protocol": "TCP", "name": "dns-tcp", "nodePort": 30053},
                ],
            ),
            lambda s: [p["nodePort"] for p in s["spec"]["ports"]] == [30053, 30053],
            id="ports with the same number share the requested nodePort",
        ),
        pytest.param(
            spec(type="ExternalName", externalName="example.com", ports=[]),
            lambda s: (
                "clusterIP" not in s["spec"]
                and "ipFamilies" not in s["spec"]
                and "internalTrafficPolicy" not in s["spec"]
            ),
            id="ExternalName: no IP, no families",
        ),
    ],
)
def test_defaults_and_allocation(
    change: Callable[[JSON], Any], check: Callable[[JSON], bool]
) -> None:
    assert check(create(mutate(change)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda b: b["metadata"].update(name="Web"),
            f'Service "Web" is invalid: metadata.name: Invalid value: "Web": {DNS1035}',
            id="name is a DNS-1035 label",
        ),
        pytest.param(
            lambda b: b["metadata"].update(name="1web"),
            f'Service "1web" is invalid: metadata.name: Invalid value: "1web": {DNS1035}',
            id="name starts with a letter",
        ),
        pytest.param(
            spec(ports=[]),
            'Service "web" is invalid: spec.ports: Required value',
            id="no ports",
        ),
        pytest.param(
            spec(ports=[{"port": 80}, {"port": 81}]),
            'Service "web" is invalid: [spec.ports[0].name: Required value, '
            "spec.ports[1].name: Required value]",
            id="several ports need names",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]),
            'Service "web" is invalid: spec.ports[1].name: Duplicate value: "a"',
            id="duplicate port name",
        ),
        pytest.param(
            spec(ports=[{"port": 70000}]),
            'Service "web" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between '
            "1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be "
            "between 1 and 65535, inclusive]",
            id="port out of range (targetPort defaulted to it)",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "protocol": "HTTP"}]),
            'Service "web" is invalid: spec.ports[0].protocol: Unsupported value: "HTTP": '
            'supported values: "SCTP", "TCP", "UDP"',
            id="protocol",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "targetPort": "Http--"}]),
            'Service "web" is invalid: [spec.ports[0].targetPort: Invalid value: "Http--": must '
            "contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), "
            'spec.ports[0].targetPort: Invalid value: "Http--": must not contain consecutive '
            'hyphens, spec.ports[0].targetPort: Invalid value: "Http--": must not begin or end '
            "with a hyphen]",
            id="named targetPort: each failed rule",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "protocol": "TCP"}, {"port": 80, "name": "b"}], selector=None),
            'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1]: '
            'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
            "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, "
            'IntVal:0, StrVal:""}, NodePort:0}]',
            id="duplicate (protocol, port)",
        ),
        pytest.param(
            spec(sessionAffinity="Sticky"),
            'Service "web" is invalid: spec.sessionAffinity: Unsupported value: "Sticky": '
            'supported values: "ClientIP", "None"',
            id="session affinity",
        ),
        pytest.param(
            spec(
                sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 90000}},
            ),
            'Service "web" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid '
            "value: 90000: must be greater than 0 and less than 86400",
            id="affinity timeout over a day",
        ),
        pytest.param(
            spec(type="Foo"),
            'Service "web" is invalid: spec.type: Unsupported value: "Foo": supported values: '
            '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
            id="type",
        ),
        pytest.param(
            spec(ports=[{"port": 80, "nodePort": 30080}]),
            'Service "web" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when '
            "`type` is 'ClusterIP'",
            id="nodePort on a ClusterIP Service",
        ),
        pytest.param(
            spec(type="NodePort", clusterIP="None"),
            'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set '
            "to 'None' for NodePort services",
            id="headless NodePort",
        ),
        pytest.param(
            spec(clusterIP="10.1.2.3"),
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.1.2.3"}: '
            "failed to allocate IP 10.1.2.3: the provided IP (10.1.2.3) is not in the valid "
            "range. The range of valid IPs is 10.96.0.0/12",
            id="IP outside the range",
        ),
        pytest.param(
            spec(clusterIP="10.96.0.300"),
            'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be '
            "a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            id="not an IP",
        ),
        pytest.param(
            spec(clusterIP="10.96.0.5", clusterIPs=["10.96.0.6"]),
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.6"}: '
            "first value must match `clusterIP`",
            id="clusterIPs[0] differs",
        ),
        pytest.param(
            spec(ipFamilies=["IPv6"]),
            'Service "web" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": IPv6 is not '
            "configured on this cluster",
            id="IPv6 on a single-stack cluster",
        ),
        pytest.param(
            spec(type="NodePort", ports=[{"port": 80, "nodePort": 29999}], ipFamilyPolicy="x"),
            'Service "web" is invalid: spec.ipFamilyPolicy: Unsupported value: "x": supported '
            'values: "PreferDualStack", "RequireDualStack", "SingleStack"',
            id="family checks come before port allocation",
        ),
        pytest.param(
            lambda b: (
                b["metadata"].update(name="BAD"),
                b["spec"].update(type="NodePort", ports=[{"port": 80, "nodePort": 29999}]),
            ),
            'Service "BAD" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided '
            "port is not in the valid range. The range of valid ports is 30000-32767",
            id="an allocation error is reported alone, before validation",
        ),
    ],
)
def test_invalid_services(change: Callable[[JSON], Any], message: str) -> None:
    with pytest.raises(Invalid) as caught:
        create(mutate(change))
    assert caught.value.message == message


def test_taken_ips_and_ports_are_refused() -> None:
    first = create(mutate(spec(type="NodePort", clusterIP="10.96.0.20")))
    taken = taken_by([first])
    port = first["spec"]["ports"][0]["nodePort"]
    assert taken == Taken(frozenset({"10.96.0.20"}), frozenset({port}))
    with pytest.raises(Invalid) as caught:
        create(mutate(spec(clusterIP="10.96.0.20")), taken)
    assert caught.value.message.endswith(
        "failed to allocate IP 10.96.0.20: provided IP is already allocated"
    )
    with pytest.raises(Invalid) as caught:
        create(mutate(spec(type="NodePort", ports=[{"port": 80, "nodePort": port}])), taken)
    assert caught.value.message == (
        f'Service "web" is invalid: spec.ports[0].nodePort: Invalid value: {port}: provided port '
        "is already allocated"
    )
    second = create(mutate(spec(type="NodePort")), taken, seed=1)  # same seed: a different pick
    assert second["spec"]["clusterIP"] != "10.96.0.20"
    assert second["spec"]["ports"][0]["nodePort"] != port


def test_full_ranges_are_internal_errors() -> None:
    tiny = Allocation(ips=IPRange("10.96.0.0/30"), ports=PortRange(30000, 1), rng=random.Random(1))
    taken = Taken(frozenset({"10.96.0.1", "10.96.0.2"}), frozenset({30000}))
    with pytest.raises(InternalError) as caught:
        prepare_service_create(copy.deepcopy(BASE), "default", NOW, taken, tiny)
    assert caught.value.status()["message"] == (
        "Internal error occurred: failed to allocate a serviceIP: range is full"
    )
    with pytest.raises(InternalError) as caught:
        body = mutate(spec(type="NodePort"))
        prepare_service_create(body, "default", NOW, Taken(node_ports=frozenset({30000})), tiny)
    assert caught.value.code == 500
    assert "failed to allocate a nodePort: range is full" in caught.value.message


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        pytest.param(
            mutate(spec(portz=[])),
            BadRequest,
            'Service in version "v1" cannot be handled as a Service: strict decoding error: '
            'unknown field "spec.portz"',
            id="unknown field",
        ),
        pytest.param(
            mutate(spec(ports=[{"port": "80"}])),
            BadRequest,
            'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal '
            "string into Go struct field ServicePort.spec.ports.port of type int32",
            id="wrong JSON type",
        ),
        pytest.param(
            mutate(lambda b: b["metadata"].update(namespace="other")),
            BadRequest,
            "the namespace of the provided object does not match the namespace sent on the request",
            id="namespace mismatch",
        ),
    ],
)
def test_decoding_and_request_errors(body: JSON, error: type[StatusError], message: str) -> None:
    with pytest.raises(error) as caught:
        create(body)
    assert caught.value.message == message


def test_update_keeps_what_a_client_leaves_out() -> None:
    old = create(mutate(spec(type="NodePort")))
    old["metadata"]["resourceVersion"] = "7"
    body = copy.deepcopy(BASE)
    body["spec"]["type"] = "NodePort"
    body["spec"]["ports"] = [{"port": 80, "targetPort": 8080}]
    new = prepare_service_update(old, body, NOW, Taken(), alloc())
    assert new["spec"]["clusterIP"] == old["spec"]["clusterIP"]
    assert new["spec"]["ports"][0]["nodePort"] == old["spec"]["ports"][0]["nodePort"]
    assert new["spec"]["ports"][0]["targetPort"] == 8080
    assert new["metadata"]["uid"] == "uid-1"


def test_update_may_not_change_the_cluster_ip() -> None:
    old = create(BASE)
    body = mutate(spec(clusterIP="10.96.0.77"))
    with pytest.raises(Invalid) as caught:
        prepare_service_update(old, body, NOW, Taken(), alloc())
    assert caught.value.message == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.77"}: '
        "may not change once set"
    )


def test_update_from_clusterip_to_nodeport_allocates_a_port() -> None:
    old = create(BASE)
    new = prepare_service_update(old, mutate(spec(type="NodePort")), NOW, Taken(), alloc())
    assert 30000 <= new["spec"]["ports"][0]["nodePort"] <= 32767
    assert new["spec"]["externalTrafficPolicy"] == "Cluster"
