"""Generate minikubelet/api/pod_schema.json: the field table of the whole core/v1 Pod (1.32), and
services_schema.json: the same for Service, Endpoints and discovery.k8s.io/v1 EndpointSlice.

The table drives strict decoding ("unknown field" means unknown to Kubernetes, DESIGN.md) and
JSON type checks. Its source is the official `kubernetes` Python client of the matching release
(Apache-2.0), whose generated models carry every field's JSON name and type:

    pip download kubernetes==32.0.1 --no-deps -d /tmp/k8s
    python tools/gen_schema.py /tmp/k8s/kubernetes-32.0.1-py2.py3-none-any.whl
    python tools/gen_schema.py --services .venv/lib/python3.11/site-packages  # the installed copy

The services table names the two EndpointPort types apart: `EndpointPort` (core/v1) and
`discovery/EndpointPort`; the part before `/` is dropped where Go's messages name a type.

Types in the table: "string", "integer", "number", "boolean", "intstr", "time", "quantity",
"any" (free JSON), {"list": T}, {"map": T}, or the name of another object type.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

API = Path(__file__).resolve().parent.parent / "minikubelet" / "api"
TABLES = {
    "pod": (API / "pod_schema.json", ("V1Pod",)),
    "services": (API / "services_schema.json", ("V1Service", "V1Endpoints", "V1EndpointSlice")),
}
RENAMED = {
    "CoreV1EndpointPort": "EndpointPort",
    "DiscoveryV1EndpointPort": "discovery/EndpointPort",
}
# The openapi generator maps IntOrString to "object" and Quantity to "str"; name them back.
INTSTR_FIELDS = {
    ("V1HTTPGetAction", "port"),
    ("V1TCPSocketAction", "port"),
    ("V1ServicePort", "targetPort"),
}
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


def _sources(where: Path) -> Iterator[tuple[str, bytes]]:
    """(name, text) of every file of the client: from a wheel, or an installed site-packages."""
    if where.is_dir():
        for path in sorted((where / "kubernetes" / "client" / "models").glob("*.py")):
            yield f"kubernetes/client/models/{path.name}", path.read_bytes()
        return
    with zipfile.ZipFile(where) as zf:
        for name in zf.namelist():
            yield name, zf.read(name)


def read_models(where: Path) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Return {class name: (openapi_types, attribute_map)} for every generated model."""
    models: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    pattern = r"kubernetes/client/models/(v1|core_v1|discovery_v1)_\w+\.py"
    for name, text in _sources(where):
        if re.fullmatch(pattern, name):
            tree = ast.parse(text)
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
    return _key(t)


def _key(cls: str) -> str:
    return RENAMED.get(cls) or (cls[2:] if cls.startswith("V1") else cls)


def main(args: list[str]) -> None:
    which = "services" if args[0] == "--services" else "pod"
    out, roots = TABLES[which]
    models = read_models(Path(args[-1]))
    table: dict[str, dict[str, Any]] = {}
    todo = list(roots)
    while todo:
        cls = todo.pop()
        key = _key(cls)
        if key in table:
            continue
        types, attrs = models[cls]
        table[key] = {attrs[f]: convert(cls, attrs[f], t, todo) for f, t in types.items()}
    out.write_text(json.dumps(dict(sorted(table.items())), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} with {len(table)} types")


if __name__ == "__main__":
    main(sys.argv[1:])
