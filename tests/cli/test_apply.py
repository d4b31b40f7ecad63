"""`apply`/`create --dry-run -f`: kubectl's lines, errors and exit codes, end to end in-process."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from minikubelet.cli.main import main

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
GOOD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
    "spec:\n  containers:\n  - {{name: a, image: 'a:1'}}\n"
)
BAD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - {{name: a}}\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("verb", "mode", "line"),
    [
        ("apply", "client", "pod/webapl created (dry run)\n"),
        ("apply", "server", "pod/webapl created (server dry run)\n"),
        ("create", "client", "pod/webapl created (dry run)\n"),
    ],
)
def test_success_lines(capsys: pytest.CaptureFixture[str], verb: str, mode: str, line: str) -> None:
    code, out, err = run(
        capsys, verb, f"--dry-run={mode}", "-f", str(MANIFESTS / "webapl-pod.yaml")
    )
    assert (code, out, err) == (0, line, "")


def test_server_dry_run_yaml_is_the_stored_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "create", "--dry-run=server", "-o", "yaml", "-f", str(MANIFESTS / "nginx-pod.yml")
    )
    pod = yaml.safe_load(out)
    assert code == 0
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert pod["metadata"]["namespace"] == "default"
    assert 'creationTimestamp: "' in out  # go-yaml quotes a time string with double quotes


def test_client_dry_run_json_shows_last_applied(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "apply", "--dry-run=client", "-o", "json", "-f", str(MANIFESTS / "nginx-pod.yml")
    )
    pod = json.loads(out)
    applied = pod["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert code == 0 and out.startswith('{\n    "apiVersion": "v1",')
    assert applied == (
        '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"nginx",'
        '"namespace":"default"},"spec":{"containers":[{"image":"nginx:latest","name":"nginx"}]}}\n'
    )
    assert "status" not in pod


def test_name_output_and_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(
        io.BytesIO((GOOD.format(name="x") + "---\n" + GOOD.format(name="w")).encode())
    )  # not `y`: YAML 1.1 (go-yaml v2, as kubectl reads) makes that `true`
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(capsys, "create", "--dry-run=client", "-o", "name", "-f", "-") == (
        0,
        "pod/x\npod/w\n",
        "",
    )


def test_one_invalid_object_reads_as_kubectl(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "apply", "--dry-run=server", "-f", str(MANIFESTS / "invalid" / "invalid-pod.yaml")
    )
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == 'The Pod "Web_App" is invalid: '
    assert lines[2:] == [
        "* spec.containers[0].image: Required value",
        "* spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        "* spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        '* spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
    ]


def test_single_cause_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "inv1.yaml", BAD.format(name="inv1"))
    assert run(capsys, "create", "--dry-run=server", "-f", path) == (
        1,
        "",
        'The Pod "inv1" is invalid: spec.containers[0].image: Required value\n',
    )


def test_several_objects_each_answered(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "multi.yaml", BAD.format(name="inv1") + "---\n" + GOOD.format(name="ok"))
    assert run(capsys, "create", "--dry-run=server", "-f", path) == (
        1,
        "pod/ok created (server dry run)\n",
        f'Error from server (Invalid): error when creating "{path}": Pod "inv1" is invalid: '
        "spec.containers[0].image: Required value\n",
    )


def test_unknown_field_is_a_strict_decoding_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = GOOD.format(name="s").replace("name: a,", "name: a, imagePulPolicy: Always,")
    path = write(tmp_path, "strict1.yaml", text)
    assert run(capsys, "create", "--dry-run=server", "-f", path) == (
        1,
        "",
        f'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" '
        "cannot be handled as a Pod: strict decoding error: "
        'unknown field "spec.containers[0].imagePulPolicy"\n',
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
            'error: resource mapping not found for name: "d" namespace: "" from "{path}": '
            'no matches for kind "Deployment" in version "apps/v1"\n'
            "ensure CRDs are installed first\n",
            id="other kind",
        ),
        pytest.param(
            "apiVersion: v1\nmetadata: {name: d}\n",
            'error: error validating "{path}": error validating data: kind not set; '
            "if you choose to ignore these errors, turn validation off with --validate=false\n",
            id="kind not set",
        ),
        pytest.param(
            "a: [1, 2\n",
            "error: error parsing {path}: error converting YAML to JSON: yaml: line 1: "
            "did not find expected ',' or ']'\n",
            id="bad yaml",
        ),
    ],
)
def test_reading_errors_stop_before_anything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    good = write(tmp_path, "a-good.yaml", GOOD.format(name="g"))
    path = write(tmp_path, "b-bad.yaml", text)
    assert run(capsys, "apply", "--dry-run=client", "-f", good, "-f", path) == (
        1,
        "",
        message.format(path=path),
    )


def test_no_objects(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "---\n# nothing\n")
    assert run(capsys, "apply", "--dry-run=client", "-f", path) == (
        1,
        "",
        "error: no objects passed to apply\n",
    )


def test_namespace_must_match_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(
        tmp_path, "ns.yaml", GOOD.format(name="x").replace("name: x", "name: x\n  namespace: other")
    )
    code, _, err = run(capsys, "apply", "-n", "default", "--dry-run=client", "-f", path)
    assert (code, err) == (
        1,
        'error: the namespace from the provided object "other" does not match the namespace '
        "\"default\". You must pass '--namespace=other' to perform this operation.\n",
    )


def test_namespace_flag_fills_the_object(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "ns.yaml", GOOD.format(name="x"))
    code, out, _ = run(
        capsys, "create", "--dry-run=server", "-n", "team-a", "-o", "json", "-f", path
    )
    assert code == 0 and json.loads(out)["metadata"]["namespace"] == "team-a"


def test_usage_errors_read_as_kubectl(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["apply", "-f", "x.yaml", "--foo"])
    assert caught.value.code == 1
    assert (
        capsys.readouterr().err
        == "error: unknown flag: --foo\nSee 'minikubelet apply --help' for usage.\n"
    )


def test_object_over_the_request_limit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    huge = GOOD.format(name="big").replace("name: big", "name: big\n  annotations: {a: '%s'}")
    path = write(tmp_path, "big.yaml", huge % ("x" * (3 * 1024 * 1024)))
    assert run(capsys, "create", "--dry-run=server", "-f", path) == (
        1,
        "",
        f'Error from server (RequestEntityTooLarge): error when creating "{path}": '
        "Request entity too large: limit is 3145728\n",
    )


def test_apply_creates_then_leaves_then_configures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "web.yaml", GOOD.format(name="web"))
    assert run(capsys, "apply", "-f", path) == (0, "pod/web created\n", "")
    assert run(capsys, "apply", "-f", path) == (0, "pod/web unchanged\n", "")
    write(tmp_path, "web.yaml", GOOD.format(name="web").replace("a:1", "a:2"))
    assert run(capsys, "apply", "-f", path) == (0, "pod/web configured\n", "")
    code, out, _ = run(
        capsys, "create", "--dry-run=server", "-o", "name", "-f", str(MANIFESTS / "nginx-pod.yml")
    )
    assert (code, out) == (0, "pod/nginx\n")


def test_apply_refuses_a_forbidden_change(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "web.yaml", GOOD.format(name="web"))
    run(capsys, "apply", "-f", path)
    write(
        tmp_path,
        "web.yaml",
        GOOD.format(name="web").replace("name: a,", "name: a, workingDir: /x,"),
    )
    code, out, err = run(capsys, "apply", "-f", path)
    assert (code, out) == (1, "")
    assert err.startswith(
        'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than '
    )


def test_create_refuses_an_existing_pod(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "p2.yaml", GOOD.format(name="p2"))
    assert run(capsys, "create", "-f", path) == (0, "pod/p2 created\n", "")
    assert run(capsys, "create", "-f", path) == (
        1,
        "",
        f'Error from server (AlreadyExists): error when creating "{path}": '
        'pods "p2" already exists\n',
    )


def test_fields_not_acted_on_are_warned_about(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (
        GOOD.format(name="w")
        + "  securityContext: {runAsUser: 1000, seLinuxOptions: {level: s0}}\n"
    )
    path = write(tmp_path, "w.yaml", text)
    assert run(capsys, "apply", "-f", path) == (
        0,
        "pod/w created\n",
        "Warning: spec.securityContext.seLinuxOptions: not acted on by minikubelet: "
        "the pod runs as if it were not set\n",
    )
