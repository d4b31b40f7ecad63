"""The answer to a write leaves only once the write is on disk, as the API server answers only
after etcd's fsync; the fsync itself is the store's group commit (`store/barrier.py`), off the
event loop, so probes and pod workers never wait for the disk."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minikubelet.store.barrier import CommitBarrier

__all__ = ["DurableAnswers"]

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class DurableAnswers:
    """ASGI middleware: a request that may write (any method but GET, HEAD, OPTIONS) has its
    response started only after the store's commits so far are durable. An upgraded request
    (exec, attach, port-forward) switches protocols before any answer goes through here."""

    def __init__(self, app: ASGIApp, barrier: CommitBarrier) -> None:
        self.app = app
        self.barrier = barrier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return

        async def send_durable(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.barrier.wait()
            await send(message)

        await self.app(scope, receive, send_durable)
