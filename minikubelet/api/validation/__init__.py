"""Pod validation as the Kubernetes API server runs it on create (`ValidatePodCreate`).

`validate_pod` returns the field errors of a defaulted Pod in the server's order;
`invalid_error` turns them into the 422 `Invalid` Status the server answers with.
"""

from minikubelet.api.validation.field import FieldError, Path, invalid_error
from minikubelet.api.validation.pod import validate_pod

__all__ = ["FieldError", "Path", "invalid_error", "validate_pod"]
