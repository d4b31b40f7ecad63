"""kubectl's ways of writing things: errors (`checkErr`), objects as YAML/JSON/name."""

from __future__ import annotations

import json
from typing import Any

from minikubelet.errors import StatusError

__all__ = ["dump_object", "format_status_error"]


def format_status_error(
    err: StatusError, *, action: str = "", source: str = "", many: bool = False
) -> str:
    """The line(s) kubectl prints for a Status error, without the trailing newline.

    An Invalid error of a single object is re-formatted from its causes (`The Pod "x" is
    invalid: ...`); with several objects, or for any other reason, kubectl prints
    `Error from server (<Reason>): [error when <action> "<file>": ]<message>`.
    """
    causes = err.details.get("causes") or []
    if (
        err.reason == "Invalid"
        and not many
        and (err.details.get("kind") or err.details.get("name"))
    ):
        head = f'The {err.details.get("kind", "")} "{err.details.get("name", "")}" is invalid: '
        lines = list(dict.fromkeys(f"{c.get('field', '')}: {c.get('message', '')}" for c in causes))
        if len(lines) == 1:
            return head + lines[0]
        return head + "\n" + "\n".join(f"* {line}" for line in lines)
    prefix = f'error when {action} "{source}": ' if action and source else ""
    reason = f" ({err.reason})" if err.reason else ""
    return f"Error from server{reason}: {prefix}{err.message}"


_STR = "tag:yaml.org,2002:str"


def _str_representer(dumper: Any, value: str) -> Any:
    """Multi-line text as a `|` block; text that would read as another type in double quotes,
    as go-yaml writes it (`creationTimestamp: "2024-05-01T12:00:00Z"`, `value: "true"`)."""
    import yaml

    if "\n" in value:
        return dumper.represent_scalar(_STR, value, style="|")
    implicit = dumper.resolve(yaml.ScalarNode, value, (True, False))
    if not value or implicit != _STR:
        return dumper.represent_scalar(_STR, value, style='"')
    return dumper.represent_scalar(_STR, value)


def _yaml(obj: dict[str, Any]) -> str:
    """kubectl's YAML: block style, sorted keys, list items at the parent's indent."""
    import yaml  # imported here: most commands print no YAML

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, _str_representer)
    return yaml.dump(obj, Dumper=Dumper, sort_keys=True, allow_unicode=True, width=10**9)


def dump_object(obj: dict[str, Any], output: str) -> str:
    """An object as `-o yaml`, `-o json` or `-o name` prints it (keys sorted at every level)."""
    if output == "json":
        return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    if output == "yaml":
        return _yaml(obj)
    if output == "name":
        return f"{str(obj.get('kind', '')).lower()}/{obj.get('metadata', {}).get('name', '')}\n"
    raise ValueError(output)
