"""`JSON`: an object as the Kubernetes API (or the engine's) speaks it, a plain dict.

Raw API payloads stay plain dicts where they pass between layers (kopf's `RawBody` reasoning):
the typed models are for what the node decides on. One alias, imported everywhere.
"""

from typing import Any

__all__ = ["JSON", "MAX_OBJECT_BYTES", "go_objects"]

JSON = dict[str, Any]
# The API server's request body limit; an object above it is refused as it would be (413).
MAX_OBJECT_BYTES = 3 * 1024 * 1024


def go_objects(items: Any) -> list[JSON]:
    """A JSON list of structs as Go decodes it: a null item is the zero value (an empty
    object); anything but a list, none."""
    if not isinstance(items, list):
        return []
    return [item if isinstance(item, dict) else {} for item in items]
