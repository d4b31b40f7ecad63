"""The agent's API: Kubernetes REST paths and shapes over ASGI (Starlette)."""

from minikubelet.server.app import ApiDeps, create_app

__all__ = ["ApiDeps", "create_app"]
