"""`JSON`: an object as the Kubernetes API (or the engine's) speaks it, a plain dict.

Raw API payloads stay plain dicts where they pass between layers (kopf's `RawBody` reasoning):
the typed models are for what the node decides on. One alias, imported everywhere.
"""

from typing import Any

__all__ = ["JSON", "MAX_OBJECT_BYTES"]

JSON = dict[str, Any]
# The API server's request body limit; an object above it is refused as it would be (413).
MAX_OBJECT_BYTES = 3 * 1024 * 1024
