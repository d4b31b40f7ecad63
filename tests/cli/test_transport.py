"""The CLI's hand-written HTTP/1.1 over a UNIX socket, against a server that answers as told:
bodies by Content-Length, chunked or up to the close, kept-alive connections, a connection the
server closed between two requests, and query strings encoded as urllib encodes them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from minikubelet.cli.client import ApiClient
from minikubelet.cli.main import _command_of
from minikubelet.cli.transport import TransportError, UnixTransport, target
from minikubelet.paths import StatePaths

Answer = Callable[[bytes], bytes | None]  # the request's head -> the raw response (None: close)


class Server:
    """Accepts connections one at a time; each request's head is recorded and answered."""

    def __init__(self, path: str, answers: list[Answer]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as rfile:  # both closed: the fd closes with the last
                while self.answers:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = rfile.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    length = next(
                        (
                            int(h.split(b":")[1])
                            for h in head.split(b"\r\n")
                            if h.lower().startswith(b"content-length:")
                        ),
                        0,
                    )
                    self.requests.append(head + rfile.read(length))
                    answer = self.answers.pop(0)(head)
                    if answer is None:
                        break  # close without answering
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    made: list[tuple[Server, UnixTransport]] = []

    def make(answers: list[Answer]) -> tuple[Server, UnixTransport]:
        path = str(tmp_path / "api.sock")
        made.append((Server(path, answers), UnixTransport(path)))
        return made[-1]

    yield make
    for server, transport in made:
        transport.close()
        server.close()


Serve = Callable[[list[Answer]], tuple[Server, UnixTransport]]


def fixed(response: bytes) -> Answer:
    return lambda head: response


def test_a_body_by_content_length_and_repeated_warning_headers(serve: Serve) -> None:
    server, transport = serve(
        [
            fixed(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b'Warning: 299 - "one"\r\nwarning: 299 - "two"\r\nContent-Length: 8\r\n\r\n{"a": 1}'
            )
        ]
    )
    code, body, warnings = transport.request(
        "POST", "/api/v1/pods", b'{"x":1}', {"Content-Type": "application/json"}
    )
    assert (code, body, warnings) == (201, b'{"a": 1}', ['299 - "one"', '299 - "two"'])
    sent = server.requests[0]
    assert sent.startswith(b"POST /api/v1/pods HTTP/1.1\r\nHost: minikubelet\r\n")
    assert b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n" in sent
    assert sent.endswith(b'{"x":1}')


def test_two_requests_share_one_kept_alive_connection(serve: Serve) -> None:
    ok = fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    server, transport = serve([ok, ok])
    assert transport.request("GET", "/a", None, {})[0] == 200
    assert transport.request("GET", "/b", None, {})[0] == 200
    assert server.connections == 1
    assert b"Content-Length" not in server.requests[0]  # a GET without a body says nothing


def test_a_connection_the_server_closed_is_retried_once(serve: Serve) -> None:
    ok = fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    server, transport = serve([ok, lambda head: None, ok])
    assert transport.request("GET", "/a", None, {})[1] == b"ok"
    assert transport.request("GET", "/b", None, {})[1] == b"ok"  # closed, reconnected, answered
    assert server.connections == 2


def test_a_fresh_connection_closed_without_an_answer_is_an_error(serve: Serve) -> None:
    _, transport = serve([lambda head: None])
    with pytest.raises(TransportError, match="closed the connection"):
        transport.request("GET", "/a", None, {})


def test_asking_for_the_agent_opens_the_connection_the_request_then_uses(
    serve: Serve, tmp_path: Path
) -> None:
    """`connect()` checks for a listening agent before a command's first request: with the
    request's own connection, so an `exec` costs the agent one accept fewer."""
    server, _ = serve([fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")])
    client = ApiClient(StatePaths(tmp_path))
    try:
        client.ensure_agent()  # listening: nothing is started
        assert client.request("GET", "/api/v1/namespaces/default/pods/web") == {}
    finally:
        client.close()
    assert server.connections == 1


def test_nothing_listening_is_an_error(tmp_path: Path) -> None:
    assert not UnixTransport(str(tmp_path / "none.sock")).open()
    with pytest.raises(TransportError):
        UnixTransport(str(tmp_path / "none.sock")).request("GET", "/", None, {})


def test_a_chunked_body_and_one_read_to_the_close(serve: Serve) -> None:
    _, transport = serve(
        [
            fixed(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
            ),
            fixed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"),
        ]
    )
    assert transport.request("GET", "/a", None, {})[1] == b"hello world"
    assert transport.request("GET", "/b", None, {})[1] == b"to the end"


def test_a_stream_yields_whole_lines_across_chunks(serve: Serve) -> None:
    server, transport = serve(
        [
            fixed(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"4\r\nab\nc\r\n3\r\nd\ne\r\n1\r\nf\r\n0\r\n\r\n"
            )
        ]
    )
    with transport.stream("/logs?follow=true", {"Accept": "*/*"}) as (code, lines):
        assert (code, list(lines)) == (200, [b"ab\n", b"cd\n", b"ef"])
    assert server.requests[0].startswith(b"GET /logs?follow=true HTTP/1.1\r\n")


def test_not_http_is_an_error(serve: Serve) -> None:
    _, transport = serve([fixed(b"SSH-2.0-OpenSSH\r\n\r\n")])
    with pytest.raises(TransportError, match="not an HTTP response"):
        transport.request("GET", "/", None, {})


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"labelSelector": "app=web,tier!=db", "limit": "500"},
        {"fieldSelector": "involvedObject.name=a b", "x": "ü/?&=+%~._-"},
    ],
)
def test_queries_are_encoded_as_urlencode_encodes_them(query: dict[str, str]) -> None:
    assert target("/p", query) == (f"/p?{urlencode(query)}" if query else "/p")


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["get", "pods"], "get"),
        (["-n", "get", "describe", "pod"], "describe"),
        (["--namespace", "x", "logs", "p"], "logs"),
        (["--namespace=x", "apply", "-f", "f"], "apply"),
        (["--help"], ""),
        ([], ""),
        (["version"], "version"),
    ],
)
def test_the_command_word_is_found_past_global_flags(argv: list[str], command: str) -> None:
    assert _command_of(argv) == command
