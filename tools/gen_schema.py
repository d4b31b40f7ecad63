"""Generate minikubelet/api/pod_schema.json: the field table of the whole core/v1 Pod (1.32).

The table drives strict decoding ("unknown field" means unknown to Kubernetes, DESIGN.md) and
JSON type checks. Its source is the official `kubernetes` Python client of the matching release
(Apache-2.0), whose generated models carry every field's JSON name and type:

    pip download kubernetes==32.0.1 --no-deps -d /tmp/k8s
    python tools/gen_schema.py /tmp/k8s/kubernetes-32.0.1-py2.py3-none-any.whl

Types in the table: "string", "integer", "number", "boolean", "intstr", "time", "quantity",
"any" (free JSON), {"list": T}, {"map": T}, or the name of another object type.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "minikubelet" / "api" / "pod_schema.json"
ROOT = "V1Pod"
# The openapi generator maps IntOrString to "object" and Quantity to "str"; name them back.
INTSTR_FIELDS = {("V1HTTPGetAction", "port"), ("V1TCPSocketAction", "port")}
QUANTITY_MAPS = {
    ("V1ResourceRequirements", "limits"),
    ("V1ResourceRequirements", "requests"),
    ("V1PodSpec", "overhead"),
    ("V1PodStatus", "resize"),
    ("V1ContainerStatus", "allocatedResources"),
    ("V1VolumeResourceRequirements", "limits"),
    ("V1VolumeResourceRequirements", "requests"),
}
QUANTITY_FIELDS = {
    ("V1EmptyDirVolumeSource", "sizeLimit"),
    ("V1ResourceFieldSelector", "divisor"),
}


def read_models(wheel: Path) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Return {class name: (openapi_types, attribute_map)} for every generated model."""
    models: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not re.fullmatch(r"kubernetes/client/models/v1_\w+\.py", name):
                continue
            tree = ast.parse(zf.read(name))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    found: dict[str, Any] = {}
                    for stmt in node.body:
                        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                            if stmt.targets[0].id in ("openapi_types", "attribute_map"):
                                found[stmt.targets[0].id] = ast.literal_eval(stmt.value)
                    if len(found) == 2:
                        models[node.name] = (found["openapi_types"], found["attribute_map"])
    return models


def convert(owner: str, field: str, t: str, todo: list[str]) -> Any:
    if (owner, field) in INTSTR_FIELDS:
        return "intstr"
    if (owner, field) in QUANTITY_FIELDS:
        return "quantity"
    if (owner, field) in QUANTITY_MAPS:
        return {"map": "quantity"}
    if t.startswith("list["):
        return {"list": convert(owner, field, t[5:-1], todo)}
    if t.startswith("dict("):
        return {"map": convert(owner, field, t[5:-1].split(", ", 1)[1], todo)}
    simple = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
    if t in simple:
        return simple[t]
    if t == "datetime":
        return "time"
    if t == "object":
        return "any"
    todo.append(t)
    return t[2:] if t.startswith("V1") else t


def main(wheel: str) -> None:
    models = read_models(Path(wheel))
    table: dict[str, dict[str, Any]] = {}
    todo = [ROOT]
    while todo:
        cls = todo.pop()
        key = cls[2:] if cls.startswith("V1") else cls
        if key in table:
            continue
        types, attrs = models[cls]
        table[key] = {attrs[f]: convert(cls, attrs[f], t, todo) for f, t in types.items()}
    OUT.write_text(json.dumps(dict(sorted(table.items())), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} with {len(table)} types")


if __name__ == "__main__":
    main(sys.argv[1])
