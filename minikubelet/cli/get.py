"""`get TYPE [NAME...]` for every kind of the registry (`api/kinds.py`): kubectl's tables from
the server's Table rows, and its machine formats (`-o yaml|json|name|jsonpath=|custom-columns=`),
`-w`, `-A`, `-l`, labels."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from minikubelet.api.kinds import Kind
from minikubelet.cli import client as agent
from minikubelet.cli.render import dump_object, format_status_error
from minikubelet.cli.resolve import resolve
from minikubelet.errors import ManifestError, StatusError
from minikubelet.printers.jsonpath import (
    JsonPathError,
    custom_columns,
    go_sprint,
    jsonpath,
    select,
)
from minikubelet.printers.tabwriter import TabWriter

__all__ = ["add_arguments", "run"]

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resource", metavar="TYPE[/NAME]")
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("-o", "--output", default="")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument("-l", "--selector", default=None)
    parser.add_argument("--field-selector", default=None)
    parser.add_argument("--show-labels", action="store_true")
    parser.add_argument("-L", "--label-columns", action="append", default=[])
    parser.add_argument("-w", "--watch", action="store_true")
    parser.add_argument("--no-headers", action="store_true")
    parser.add_argument("--ignore-not-found", action="store_true")


def _resolve(args: argparse.Namespace) -> tuple[Kind, list[str]]:
    resource, _, first = args.resource.partition("/")
    kind = resolve(resource)
    names = ([first] if first else []) + list(args.names)
    return kind, names


def run(args: argparse.Namespace) -> int:
    entry, names = _resolve(args)
    kind, namespaced = entry.kind, entry.namespaced
    # `-L a,b` is a string slice in kubectl: repeated and comma-separated forms both work.
    args.label_columns = [k for value in args.label_columns for k in value.split(",") if k]
    output = args.output
    if (
        output
        and output not in ("wide", "yaml", "json", "name")
        and not output.startswith(("jsonpath=", "custom-columns="))
    ):
        raise ManifestError(
            f'unable to match a printer suitable for the output format "{output}", '
            f"allowed formats are: {FORMATS}"
        )
    namespace = None if args.all_namespaces else (args.namespace or "default")
    base = entry.path(namespace)
    query = {"labelSelector": args.selector, "fieldSelector": args.field_selector}
    with agent.connect() as client:
        human = output in ("", "wide")
        if args.watch:
            return _watch(client, args, entry, base, query)
        found, failures = _fetch(client, base, names, query, human=human)
        if human:
            _print_table(found, args, kind, namespace, namespaced, explicit=bool(names))
        elif not (len(names) == 1 and failures):
            # printGeneric: a single named object that fails prints nothing but the error.
            _print_objects(found, output, single=len(names) == 1, kind=entry, args=args)
        for err in failures:
            if not (args.ignore_not_found and err.reason == "NotFound"):
                print(format_status_error(err), file=sys.stderr)
        return (
            1
            if any(not (args.ignore_not_found and e.reason == "NotFound") for e in failures)
            else 0
        )


def _fetch(
    client: agent.ApiClient, base: str, names: list[str], query: dict[str, Any], *, human: bool
) -> tuple[list[dict[str, Any]], list[StatusError]]:
    """Tables (human output) or objects; with names, each fetched alone, errors kept for later."""
    headers = {"Accept": TABLE_ACCEPT} if human else None
    if not names:
        return [client.request("GET", base, headers=headers, **query)], []
    found, failures = [], []
    for name in names:
        try:
            found.append(client.request("GET", f"{base}/{name}", headers=headers))
        except StatusError as err:
            failures.append(err)
    return found, failures


def _columns(table: dict[str, Any], wide: bool) -> list[int]:
    return [
        i
        for i, c in enumerate(table.get("columnDefinitions") or [])
        if wide or not c.get("priority")
    ]


def _table_lines(
    tables: list[dict[str, Any]], args: argparse.Namespace, header: bool, *, namespaced: bool
) -> list[str]:
    if not tables:
        return []
    wide = args.output == "wide"
    # get.go: printWithNamespace is false for cluster-scoped kinds, even with -A.
    with_namespace = args.all_namespaces and namespaced
    first = tables[0]
    keep = _columns(first, wide)
    lines = []
    if header and not args.no_headers:
        names = [first["columnDefinitions"][i]["name"].upper() for i in keep]
        if with_namespace:
            names.insert(0, "NAMESPACE")
        names += [key.rsplit("/", 1)[-1].upper() for key in args.label_columns]
        if args.show_labels:
            names.append("LABELS")
        lines.append("\t".join(names))
    for table in tables:
        for row in table.get("rows") or []:
            meta = (row.get("object") or {}).get("metadata") or {}
            cells = [_cell(row["cells"][i]) for i in keep]
            if with_namespace:
                cells.insert(0, meta.get("namespace", ""))
            labels = meta.get("labels") or {}
            cells += [labels.get(key, "") for key in args.label_columns]
            if args.show_labels:
                cells.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
            lines.append("\t".join(cells))
    return lines


def _cell(value: Any) -> str:
    """A Table cell as printTable writes it: nil is empty, others `fmt.Sprint`, cut at a break."""
    text = "" if value is None else go_sprint(value)
    for stop in "\f\n\r":
        if stop in text:
            text = text.split(stop, 1)[0] + "..."
    return text


def _print_table(
    tables: list[dict[str, Any]],
    args: argparse.Namespace,
    kind: str,
    namespace: str | None,
    namespaced: bool,
    *,
    explicit: bool,
) -> None:
    rows = sum(len(t.get("rows") or []) for t in tables)
    if rows == 0:
        if not explicit and not args.ignore_not_found:
            # get.go: `No resources found in %s namespace.` only when every resource is
            # namespaced and -A is off; otherwise `No resources found`, without a period.
            if namespaced and namespace:
                print(f"No resources found in {namespace} namespace.", file=sys.stderr)
            else:
                print("No resources found", file=sys.stderr)
        return
    lines = _table_lines(tables, args, header=True, namespaced=namespaced)
    sys.stdout.write(TabWriter(6, 3).format("\n".join(lines) + "\n"))


def _print_objects(
    found: list[dict[str, Any]],
    output: str,
    *,
    single: bool,
    kind: Kind,
    args: argparse.Namespace,
) -> None:
    objects: list[dict[str, Any]] = []
    for item in found:
        if item.get("kind", "").endswith("List"):
            typed = {"kind": kind.kind, "apiVersion": kind.api_version}
            objects += [{**typed, **i} for i in item.get("items") or []]
        else:
            objects.append(item)
    shown: dict[str, Any] = (
        objects[0]
        if single and objects
        else {
            "apiVersion": "v1",
            "items": objects,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
    )
    if output == "name":
        sys.stdout.write("".join(dump_object(o, "name") for o in objects))
    elif output in ("yaml", "json"):
        sys.stdout.write(dump_object(shown, output))
    elif output.startswith("jsonpath="):
        try:
            sys.stdout.write(jsonpath(shown, output.removeprefix("jsonpath=")))
        except JsonPathError as exc:
            raise ManifestError(f"error executing jsonpath {output!r}: {exc}") from exc
    else:
        _print_custom(objects, output.removeprefix("custom-columns="), no_headers=args.no_headers)


def _print_custom(objects: list[dict[str, Any]], spec: str, *, no_headers: bool) -> None:
    """customcolumn.go printOneObject: no result is `<none>`; several (a `[*]`) are joined
    with `,`; each value is `fmt.Sprint`ed, so an empty string stays an empty cell."""
    try:
        columns = custom_columns(spec)
    except JsonPathError as exc:
        raise ManifestError(str(exc)) from exc
    lines = [] if no_headers else ["\t".join(header for header, _ in columns)]
    for obj in objects:
        cells = []
        for _, path in columns:
            values = select(obj, path) if path else []
            cells.append(",".join(go_sprint(v) for v in values) if values else "<none>")
        lines.append("\t".join(cells))
    if lines:
        sys.stdout.write(TabWriter(6, 3).format("\n".join(lines) + "\n"))


def _watch(
    client: agent.ApiClient, args: argparse.Namespace, kind: Kind, base: str, query: dict[str, Any]
) -> int:
    """`-w`: the current table, then one row per change, widths remembered across rows."""
    writer = TabWriter(6, 3, remember_widths=True)
    listed = client.request("GET", base, headers={"Accept": TABLE_ACCEPT}, **query)
    namespaced = kind.namespaced
    lines = _table_lines([listed], args, header=True, namespaced=namespaced)
    if lines:
        sys.stdout.write(writer.format("\n".join(lines) + "\n"))
        sys.stdout.flush()
    rv = (listed.get("metadata") or {}).get("resourceVersion")
    stream = client.stream_lines(
        base, headers={"Accept": TABLE_ACCEPT}, watch="true", resourceVersion=rv, **query
    )
    header = not lines
    for line in stream:
        if not line.strip():
            continue
        frame = json.loads(line)
        if frame.get("type") == "ERROR":
            raise StatusError(str((frame.get("object") or {}).get("message", "watch ended")))
        rows = _table_lines([frame["object"]], args, header=header, namespaced=namespaced)
        header = False
        sys.stdout.write(writer.format("\n".join(rows) + "\n"))
        sys.stdout.flush()
    return 0
