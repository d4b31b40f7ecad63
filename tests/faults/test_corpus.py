# ruff: noqa: E501 - EXPECTED is a table of kubectl's full lines
"""A corpus of hostile manifests: each refused with kubectl's words, exit 1, nothing created,
the API unaffected (a valid pod applies right after), in well under a second.

`corpus/` holds the files; EXPECTED is the first line of stderr for each (`{path}` stands for
the path given to `apply -f`). Where the cause list has several lines, MULTI names a field the
rest of stderr must show. Huge documents (> 3 MiB, > 64 MiB) are made at run time in tmp_path.
Files that expose an unfixed bug are in BUGS: strict xfails that a fix flips.

The table is kubectl's: test_corpus_kubectl.py runs the real kubectl 1.32 against the node's
API on every file here and requires the same stdout, stderr, exit code and pods as
`minikubelet apply`, except for the files it lists with a reason (where kubectl, for instance,
creates the first pod of a file whose second document is broken, which this test forbids).
Lines from the API server (`The Pod "x" is invalid`, `Error from server`) are the node's server
speaking in the API server's words, checked against its sources in tests/api.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from minikubelet.cli.main import main
from minikubelet.store import Store

CORPUS = Path(__file__).resolve().parent / "corpus"
# Seconds of this process's CPU (not of the wall clock, which other work on the machine
# stretches): loose bounds that an exponential expansion (an alias bomb) would blow through,
# not a measure of speed (bench/ measures that).
BOUND = 2.0
HUGE_BOUND = 5.0  # reading, encoding and refusing 3-64 MiB

VALID = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: after\n"
    "spec:\n  containers:\n  - {name: app, image: 'busybox:1'}\n"
)
GENERATED_NAME = re.compile(r'The Pod "Bad_[bcdfghjklmnpqrstvwxz2456789]{5}" is invalid: ')

EXPECTED: dict[str, str | re.Pattern[str]] = {
    "alias-bomb.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: document contains excessive aliasing",
    "alias-recursive.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: anchor 'm' value contains itself",
    "alias-undefined.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: unknown anchor 'nothing' referenced",
    "bytes-control-chars.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: control characters are not allowed",
    "bytes-invalid-utf8.yaml": 'The Pod "���" is invalid: ',
    "bytes-junk.bin": "error: error parsing {path}: error converting YAML to JSON: yaml: control characters are not allowed",
    "bytes-latin1.yaml": 'The Pod "latin" is invalid: ',
    "bytes-nul.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: control characters are not allowed",
    "kind-deployment.yaml": 'error: resource mapping not found for name: "d" namespace: "" from "{path}": no matches for kind "Deployment" in version "apps/v1"',
    "kind-lowercase.yaml": 'error: resource mapping not found for name: "p" namespace: "" from "{path}": no matches for kind "pod" in version "v1"',
    "kind-pod-v2.yaml": 'error: resource mapping not found for name: "p" namespace: "" from "{path}": no matches for kind "Pod" in version "v2"',
    "kind-service.yaml": 'The Service "s" is invalid: spec.ports: Required value',  # a kind now
    "list-item-no-kind.yaml": 'error: error validating "{path}": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false',
    "list-item-scalar.yaml": 'error: error validating "{path}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false',
    "list-one-bad-kind.json": 'error: resource mapping not found for name: "d" namespace: "" from "{path}": no matches for kind "Deployment" in version "apps/v1"',
    "missing-apiversion.yaml": 'error: error validating "{path}": error validating data: apiVersion not set; if you choose to ignore these errors, turn validation off with --validate=false',
    "missing-container-name.yaml": 'The Pod "nocname" is invalid: spec.containers[0].name: Required value',
    "missing-containers.yaml": 'The Pod "nocont" is invalid: spec.containers: Required value',
    "missing-empty-file.yaml": "error: no objects passed to apply",
    "missing-env-name.yaml": 'The Pod "noenvname" is invalid: ',
    "missing-everything.yaml": 'error: error validating "{path}": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false',
    "missing-image.yaml": 'The Pod "noimage" is invalid: spec.containers[0].image: Required value',
    "missing-kind.yaml": 'error: error validating "{path}": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false',
    "missing-name.yaml": 'The Pod "" is invalid: metadata.name: Required value: name or generateName is required',
    "missing-spec.yaml": 'The Pod "nospec" is invalid: spec.containers: Required value',
    "multidoc-second-broken.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 3: did not find expected node content",
    "multidoc-second-other-kind.yaml": 'error: resource mapping not found for name: "cm" namespace: "" from "{path}": no matches for kind "LimitRange" in version "v1"',
    "name-container-semicolon.yaml": "The Pod \"ncs\" is invalid: spec.containers[0].name: Invalid value: \"app;rm -rf /\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    "name-container-subst.yaml": "The Pod \"ncsub\" is invalid: spec.containers[0].name: Invalid value: \"$(reboot)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    "name-dots-slash.yaml": "The Pod \"../../etc\" is invalid: metadata.name: Invalid value: \"../../etc\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    "name-label-key-bad.yaml": "The Pod \"nlk\" is invalid: metadata.labels: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    "name-label-value-long.yaml": 'The Pod "nlv" is invalid: metadata.labels: Invalid value: "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv": must be no more than 63 characters',
    "name-namespace-bad.yaml": "The Pod \"nnb\" is invalid: metadata.namespace: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    "name-shell-subst.yaml": "The Pod \"$(touch /tmp/pwned)\" is invalid: metadata.name: Invalid value: \"$(touch /tmp/pwned)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    "name-too-long.yaml": 'The Pod "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is invalid: metadata.name: Invalid value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": must be no more than 253 characters',
    "name-uppercase.yaml": "The Pod \"Web_App\" is invalid: metadata.name: Invalid value: \"Web_App\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    "nesting-deep-json.json": "error: error parsing {path}: nesting deeper than 100 levels is refused by this node (kubectl would send the document to the API server)",
    "nesting-deep-yaml.yaml": "error: error parsing {path}: nesting deeper than 100 levels is refused by this node (kubectl would send the document to the API server)",
    "probe-exec-empty.yaml": 'The Pod "pee" is invalid: spec.containers[0].livenessProbe.exec.command: Required value',
    "probe-grpc-port.yaml": 'The Pod "pgp" is invalid: spec.containers[0].livenessProbe.grpc.port: Invalid value: -1: must be between 1 and 65535, inclusive',
    "probe-http-port-name.yaml": 'The Pod "phn" is invalid: spec.containers[0].livenessProbe.httpGet.port: Invalid value: "bad_port_name!": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    "probe-http-port-zero.yaml": 'The Pod "php" is invalid: spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive',
    "probe-negative-period.yaml": 'The Pod "pnp" is invalid: spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0',
    "probe-no-handler.yaml": 'The Pod "pnh" is invalid: spec.containers[0].livenessProbe: Required value: must specify a handler type',
    "probe-readiness-termgrace.yaml": 'The Pod "prt" is invalid: spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes',
    "probe-success-threshold.yaml": 'The Pod "pst" is invalid: spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
    "probe-tcp-port-range.yaml": 'The Pod "ptp" is invalid: spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    "probe-two-handlers.yaml": 'The Pod "pth" is invalid: spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
    "quantity-emptydir-size.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    "quantity-garbage.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    "quantity-negative.yaml": 'The Pod "qn" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    "quantity-request-over-limit.yaml": 'The Pod "qrl" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    "quantity-unknown-resource.yaml": 'The Pod "qur" is invalid: ',
    "syntax-bad-indent.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context",
    "syntax-binary-tag.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec',
    "syntax-directive-only.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 1: found duplicate %YAML directive",
    "syntax-json-trailing-comma.json": "error: error parsing {path}: json: offset 36: invalid character '}' looking for beginning of object key string",
    "syntax-json-truncated.json": "error: error parsing {path}: unexpected EOF",
    "syntax-python-tag.yaml": 'error: error validating "{path}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false',
    "syntax-set-tag.yaml": 'The Pod "set" is invalid: spec.containers: Required value',
    "syntax-tab-indent.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 4: found character that cannot start any token",
    "syntax-top-level-list.yaml": 'error: error validating "{path}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false',
    "syntax-top-level-number.json": 'error: error validating "{path}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false',
    "syntax-top-level-scalar.yaml": 'error: error validating "{path}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false',
    "syntax-unclosed-flow.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 5: did not find expected ',' or ']'",
    "syntax-unclosed-quote.yaml": "error: error parsing {path}: error converting YAML to JSON: yaml: line 6: found unexpected end of stream",
    "type-command-string.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string',
    "type-container-string.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container',
    "type-containers-map.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container',
    "type-env-value-number.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string',
    "type-grace-string.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64',
    "type-int-overflow.json": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64',
    "type-label-list.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type string',
    "type-label-number.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    "type-name-number.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string',
    "type-nan.yaml": "error: error parsing {path}: error converting YAML to JSON: json: unsupported value: NaN",
    "type-port-float.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
    "type-port-string.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
    "type-probe-command-bool.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field ExecAction.spec.containers.livenessProbe.exec.command of type string',
    "type-metadata-null.yaml": 'The Pod "" is invalid: metadata.name: Required value: name or generateName is required',
    "type-metadata-string.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Pod.metadata of type v1.ObjectMeta',
    "type-kind-list.yaml": 'error: error validating "{path}": error validating data: kind isn\'t string type; if you choose to ignore these errors, turn validation off with --validate=false',
    "type-spec-list.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec',
    "unknown-container-field.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePulPolicy"',
    "unknown-probe-field.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].livenessProbe.periodSecond"',
    "unknown-spec-typo.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.contianers"',
    "unknown-top-field.yaml": 'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "sepc"',
    "value-deadline-zero.yaml": 'The Pod "vdz" is invalid: spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
    "value-dns-policy.yaml": 'The Pod "vdp" is invalid: spec.dnsPolicy: Unsupported value: "Sometimes": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    "value-duplicate-containers.yaml": 'The Pod "vdc" is invalid: spec.containers[1].name: Duplicate value: "app"',
    "value-duplicate-volumes.yaml": 'The Pod "vdv" is invalid: spec.volumes[1].name: Duplicate value: "v"',
    "value-env-name.yaml": 'The Pod "ven" is invalid: spec.containers[0].env[0].name: Invalid value: "1=BAD": a valid environment variable name must consist only of printable ASCII characters other than \'=\'',
    "value-fieldref-path.yaml": 'The Pod "vfp" is invalid: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.secret": error converting fieldPath: field label not supported: spec.secret',
    "value-hostpath-backsteps.yaml": 'The Pod "vhb" is invalid: spec.volumes[0].hostPath.path: Invalid value: "/a/../b": must not contain \'..\'',
    "value-hostport-range.yaml": 'The Pod "vhp" is invalid: spec.containers[0].ports[0].hostPort: Invalid value: 99999: must be between 1 and 65535, inclusive',
    "value-image-whitespace.yaml": 'The Pod "viw" is invalid: spec.containers[0].image: Invalid value: " busybox:1 ": must not have leading or trailing whitespace',
    "value-init-app-same-name.yaml": 'The Pod "vias" is invalid: spec.initContainers[0].name: Duplicate value: "app"',
    "value-nodeselector.yaml": "The Pod \"vns\" is invalid: spec.nodeSelector: Invalid value: \"not valid!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    "value-port-protocol.yaml": 'The Pod "vpt" is invalid: spec.containers[0].ports[0].protocol: Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP"',
    "value-port-range.yaml": 'The Pod "vpr" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    "value-pull-policy.yaml": 'The Pod "vpp" is invalid: spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    "value-restart-policy.yaml": 'The Pod "vrp" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    "value-subpath-absolute.yaml": 'The Pod "vsa" is invalid: spec.containers[0].volumeMounts.subPath: Invalid value: "/etc": must be a relative path',
    "value-undefined-volume.yaml": 'The Pod "vuv" is invalid: spec.containers[0].volumeMounts[0].name: Not found: "data"',
    "name-generate-bad.yaml": GENERATED_NAME,
}

MULTI = {
    "bytes-invalid-utf8.yaml": '* metadata.name: Invalid value: "\ufffd\ufffd\ufffd"',
    "bytes-latin1.yaml": '* metadata.labels: Invalid value: "caf\ufffd"',
    "missing-env-name.yaml": "* spec.containers[0].env[0].name: Required value",
    "name-generate-bad.yaml": '* metadata.generateName: Invalid value: "Bad_"',
    "quantity-unknown-resource.yaml": "* spec.containers[0].resources.limits[gpus]: Invalid value",
}


def _no_internal_error(err: str) -> bool:
    return "internal error" not in err and "Traceback" not in err


# file: (reason, what a fix must make true of stderr's first line, beyond exit 1 + nothing made)
BUGS: dict[str, tuple[str, Callable[[str], bool]]] = {}


def _apply(capsys: pytest.CaptureFixture[str], path: str) -> tuple[int, str, str, float]:
    started = time.process_time()  # every thread's CPU: the CLI's and the in-process API's
    code = main(["apply", "-f", path])
    elapsed = time.process_time() - started
    out, err = capsys.readouterr()
    return code, out, err, elapsed


def _pods(store: Store) -> list[str]:
    return [p["metadata"]["name"] for p in store.list("Pod", None)[0]]


def _unaffected(capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Store) -> None:
    valid = tmp_path / "valid.yaml"
    valid.write_text(VALID)
    code, out, err, _ = _apply(capsys, str(valid))
    assert (code, out, err) == (0, "pod/after created\n", "")
    assert _pods(store) == ["after"]


def _cases() -> list[object]:
    cases: list[object] = []
    for name in sorted(p.name for p in CORPUS.iterdir()):
        if name in BUGS:
            marks = pytest.mark.xfail(strict=True, reason=BUGS[name][0])
            cases.append(pytest.param(name, marks=marks, id=name))
        else:
            cases.append(pytest.param(name, id=name))
    return cases


def test_the_corpus_is_large_and_fully_described() -> None:
    files = {p.name for p in CORPUS.iterdir()}
    assert len(files) >= 50
    assert files == set(EXPECTED) | set(BUGS)
    assert not set(EXPECTED) & set(BUGS)
    assert set(MULTI) <= set(EXPECTED)


@pytest.mark.usefixtures("api")
@pytest.mark.parametrize("name", _cases())
def test_refused_with_kubectls_words(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Store
) -> None:
    path = str(CORPUS / name)
    code, out, err, elapsed = _apply(capsys, path)
    first = err.splitlines()[0] if err else ""
    assert (code, out) == (1, ""), err
    assert _pods(store) == [], "nothing may be created"
    assert elapsed < BOUND, f"took {elapsed:.2f}s of CPU"
    if name in BUGS:
        assert BUGS[name][1](first), first
    else:
        expected = EXPECTED[name]
        if isinstance(expected, re.Pattern):
            assert expected.fullmatch(first), first
        else:
            assert first == expected.replace("{path}", path)
        if name in MULTI:
            assert MULTI[name] in err
    assert "Traceback" not in err
    _unaffected(capsys, tmp_path, store)


def _huge_annotation(path: Path) -> None:
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: huge\n  annotations:\n    a: "
        + "x" * (3 * 1024 * 1024 + 100)
        + "\nspec:\n  containers:\n  - {name: app, image: 'busybox:1'}\n"
    )


def _huge_labels(path: Path) -> None:
    labels = "".join(f"    k{i}: {'v' * 60}\n" for i in range(50_000))
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: labels\n  labels:\n"
        + labels
        + "spec:\n  containers:\n  - {name: app, image: 'busybox:1'}\n"
    )


def _huge_file(path: Path) -> None:
    with path.open("wb") as out:
        out.write(b"# " + b"x" * (64 * 1024 * 1024 + 10) + b"\n")


def _huge_list(path: Path) -> None:
    item = (
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d"},'
        '"spec":{"containers":[{"name":"a","image":"b:1"}]},"x":"%s"}'
    )
    items = [item % (i, "y" * 1000) for i in range(3_500)]
    items.append('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"last"}}')
    path.write_text('{"apiVersion":"v1","kind":"List","items":[' + ",".join(items) + "]}")


HUGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "huge-annotation.yaml": (
        _huge_annotation,
        'Error from server (RequestEntityTooLarge): error when creating "{path}": '
        "Request entity too large: limit is 3145728",
    ),
    "huge-labels.yaml": (
        _huge_labels,
        'Error from server (RequestEntityTooLarge): error when creating "{path}": '
        "Request entity too large: limit is 3145728",
    ),
    "huge-file.yaml": (_huge_file, "error: input is larger than 67108864 bytes"),
    "huge-list-bad-last.json": (
        _huge_list,
        'error: resource mapping not found for name: "last" namespace: "" from "{path}": '
        'no matches for kind "Deployment" in version "apps/v1"',
    ),
}


@pytest.mark.usefixtures("api")
@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_documents_refused(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Store
) -> None:
    make, expected = HUGE[name]
    path = tmp_path / name
    make(path)
    assert path.stat().st_size > 3 * 1024 * 1024
    code, out, err, elapsed = _apply(capsys, str(path))
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == expected.replace("{path}", str(path))
    assert _pods(store) == []
    assert elapsed < HUGE_BOUND, f"took {elapsed:.2f}s of CPU"
    _unaffected(capsys, tmp_path, store)


@pytest.mark.usefixtures("api")
def test_a_list_with_one_invalid_item_creates_the_others_as_kubectl_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Store
) -> None:
    """An item the API server refuses does not stop the others (kubectl sends each one): the
    corpus's "List with one bad item" files hold items refused before anything is sent."""
    path = tmp_path / "list.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Pod, metadata: {name: good},"
        " spec: {containers: [{name: a, image: 'b:1'}]}}\n"
        "- {apiVersion: v1, kind: Pod, metadata: {name: bad}, spec: {containers: [{name: a}]}}\n"
    )
    code, out, err, _ = _apply(capsys, str(path))
    assert (code, out) == (1, "pod/good created\n")
    assert err == (
        f'Error from server (Invalid): error when creating "{path}": Pod "bad" is invalid: '
        "spec.containers[0].image: Required value\n"
    )
    assert _pods(store) == ["good"]
