"""`get TYPE [NAME...]` for every kind of the registry (`api/kinds.py`): kubectl's tables from
the server's Table rows, and its machine formats (`-o yaml|json|name|jsonpath=|custom-columns=`),
`-w`, `-A`, `-l`, labels. Several kinds (`get svc,ep`, `get all`) print as kubectl prints them:
one table per kind, each name as `kind/name`, a blank line between tables."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from minikubelet.api.kinds import Kind
from minikubelet.cli import client as agent
from minikubelet.cli.render import dump_object, format_status_error
from minikubelet.cli.resolve import resolve, resolve_list
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


Request = tuple[Kind, list[str]]  # a kind and the names asked of it (none: list them)
_COMBINED = (
    "there is no need to specify a resource type as a separate argument when passing arguments"
    " in resource/name form (e.g. 'minikubelet get resource/<resource_name>' instead of"
    " 'minikubelet get resource resource/<resource_name>'"
)


def _tuple(word: str) -> tuple[Kind, str]:
    """`TYPE/NAME` (splitResourceTypeName)."""
    resource, _, name = word.partition("/")
    if "/" in name:
        raise ManifestError("arguments in resource/name form may not have more than one slash")
    if not resource or not name or len(set(resource.split(","))) != 1:
        raise ManifestError("arguments in resource/name form must have a single resource and name")
    return resolve(resource.split(",")[0]), name


def _requests(args: argparse.Namespace) -> tuple[list[Request], bool]:
    """What the arguments ask for, as kubectl's builder reads them (ResourceTypeOrNameArgs):
    `TYPE/NAME...`, or `A,B NAME...` (each type with each name, type by type), or `TYPE[,TYPE]`
    (categories such as `all` expanded), or `TYPE NAME...`; and whether one object alone is
    implied (its -o yaml is the object, not a List)."""
    words = [args.resource, *args.names]
    types = list(dict.fromkeys(args.resource.split(",")))
    slashed = sum("/" in w for w in words)
    if slashed or (len(types) > 1 and args.names):
        if 0 < slashed < len(words):
            raise ManifestError(_COMBINED)
        pairs = words if slashed else [f"{t}/{n}" for t in types for n in args.names]
        tuples = [_tuple(word) for word in pairs]
        if args.watch and len({kind for kind, _ in tuples}) > 1:
            raise ManifestError("you may only specify a single resource type")
        grouped: list[Request] = []
        for kind, name in tuples:
            if grouped and grouped[-1][0] is kind:
                grouped[-1][1].append(name)
            else:
                grouped.append((kind, [name]))
        return grouped, len(tuples) == 1
    kinds = resolve_list(args.resource)
    if len(kinds) > 1 and args.watch:
        raise ManifestError("you may only specify a single resource type")
    if len(kinds) > 1 and args.names:
        raise ManifestError("you must specify only one resource")
    if args.names:
        return [(kinds[0], list(args.names))], len(args.names) == 1
    return [(kind, []) for kind in kinds], False


def run(args: argparse.Namespace) -> int:
    requests, single = _requests(args)
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
    query = {"labelSelector": args.selector, "fieldSelector": args.field_selector}
    with agent.connect() as client:
        human = output in ("", "wide")
        if args.watch:
            kind = requests[0][0]
            return _watch(client, args, kind, kind.path(namespace), query)
        fetched = [
            (kind, *_fetch(client, kind, namespace, names, query, human=human))
            for kind, names in requests
        ]
        failures = [err for _, _, errs in fetched for err in errs]
        explicit = any(names for _, names in requests)
        if human:
            _print_tables(fetched, args, namespace, explicit=explicit)
        elif not (single and failures):
            # printGeneric: a single named object that fails prints nothing but the error.
            found = [(kind, item) for kind, items, _ in fetched for item in items]
            _print_objects(found, output, single=single, args=args)
        for err in failures:
            if not (args.ignore_not_found and err.reason == "NotFound"):
                print(format_status_error(err), file=sys.stderr)
        return (
            1
            if any(not (args.ignore_not_found and e.reason == "NotFound") for e in failures)
            else 0
        )


def _fetch(
    client: agent.ApiClient,
    kind: Kind,
    namespace: str | None,
    names: list[str],
    query: dict[str, Any],
    *,
    human: bool,
) -> tuple[list[dict[str, Any]], list[StatusError]]:
    """Tables (human output) or objects; with names, each fetched alone, errors kept for later."""
    headers = {"Accept": TABLE_ACCEPT} if human else None
    if not names:
        return [client.request("GET", kind.path(namespace), headers=headers, **query)], []
    found, failures = [], []
    scope = (namespace or "") if kind.namespaced else ""
    for name in names:
        try:
            found.append(client.get_named(kind.path(namespace, name), scope, headers=headers))
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
    tables: list[dict[str, Any]],
    args: argparse.Namespace,
    header: bool,
    *,
    namespaced: bool,
    kind: str = "",
) -> list[str]:
    """The tab-separated lines of tables of one kind; `kind` prefixes each name (`pod/web`, as
    decorateTable's WithKind does)."""
    if not tables:
        return []
    wide = args.output == "wide"
    # get.go: printWithNamespace is false for cluster-scoped kinds, even with -A.
    with_namespace = args.all_namespaces and namespaced
    first = tables[0]
    keep = _columns(first, wide)
    name_column = next(
        (
            i
            for i, c in enumerate(first.get("columnDefinitions") or [])
            if c.get("format") == "name"
        ),
        None,
    )
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
            cells = [
                f"{kind}/{_cell(row['cells'][i])}"
                if kind and i == name_column
                else _cell(row["cells"][i])
                for i in keep
            ]
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


def _print_tables(
    fetched: list[tuple[Kind, list[dict[str, Any]], list[StatusError]]],
    args: argparse.Namespace,
    namespace: str | None,
    *,
    explicit: bool,
) -> None:
    """get.go's human printing: a table per kind, aligned on its own; with several kinds each
    name is `kind/name` and a blank line comes before a table when one was written before it;
    nothing written and nothing failed: `No resources found`."""
    # multipleGVKsRequested: over what was found (a list is found even when empty)
    with_kind = len({kind.kind for kind, tables, _ in fetched if tables}) > 1
    written = False
    for kind, tables, _ in fetched:
        lines = _table_lines(
            tables,
            args,
            header=True,
            namespaced=kind.namespaced,
            kind=kind.qualified if with_kind else "",
        )
        if not any(t.get("rows") for t in tables):
            continue
        if written and not args.no_headers:
            sys.stdout.write("\n")
        sys.stdout.write(TabWriter(6, 3).format("\n".join(lines) + "\n"))
        written = True
    failed = any(errs for _, _, errs in fetched)
    if not written and not explicit and not failed and not args.ignore_not_found:
        # `No resources found in %s namespace.` only when every kind is namespaced and -A is
        # off; otherwise `No resources found`, without a period.
        if namespace and all(kind.namespaced for kind, _, _ in fetched):
            print(f"No resources found in {namespace} namespace.", file=sys.stderr)
        else:
            print("No resources found", file=sys.stderr)


def _print_objects(
    found: list[tuple[Kind, dict[str, Any]]],
    output: str,
    *,
    single: bool,
    args: argparse.Namespace,
) -> None:
    """printGeneric: the objects found, a list's items typed with their kind; one named object
    alone, else a `List` of them all."""
    objects: list[dict[str, Any]] = []
    for kind, item in found:
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
