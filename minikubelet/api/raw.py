"""`JSON`: an object as the Kubernetes API (or the engine's) speaks it, a plain dict.

Raw API payloads stay plain dicts where they pass between layers (kopf's `RawBody` reasoning):
the typed models are for what the node decides on. One alias, imported everywhere.
"""

from typing import Any

__all__ = ["JSON"]

JSON = dict[str, Any]
