"""The suite's one way out (contract_tests.transport): the gate, counting, 429 retries and the timeout."""

from __future__ import annotations

import email.utils
import io
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from contract_tests.pacing import Pacer
from contract_tests.transport import MAX_RETRIES, GuardedAdapter, Traffic, guarded_wsgi, retry_after

Script = list[tuple[int, dict[str, str]]]  # the answers to give, in order; the last one repeats


@contextmanager
def scripted_server(script: Script, delay: float = 0.0) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A real HTTP server on 127.0.0.1:0 answering from `script`; yields its URL and what it received."""
    seen: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen.append((self.command, self.rfile.read(length)))
            status, headers = script[min(len(seen), len(script)) - 1]
            time.sleep(delay)
            body = b'{"code": %d, "message": "scripted"}' % status
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


class QuietServer(ThreadingHTTPServer):
    """A client that gave up (the timeout tests) leaves its handler writing to a closed socket, maybe after the test:
    that is expected, and is not printed into whatever test the process runs next."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _session(
    gate: Callable[[str], None] = lambda method: None, timeout: float = 5.0
) -> tuple[Any, Traffic, list[float]]:
    """A guarded session whose 429 waits are recorded in `slept` (the pacer's own waits are its tests' business)."""
    traffic, slept = Traffic(), list[float]()
    session = requests.Session()
    pacer = Pacer(sleep=lambda seconds: None)
    session.mount("http://", GuardedAdapter(gate, traffic, timeout, sleep=slept.append, pacer=pacer))
    return session, traffic, slept


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1", 1.0), ("0", 0.0), (" 12 ", 12.0), (None, None), ("soon", None), ("-1", None)],
)
def test_retry_after_reads_delta_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_reads_an_http_date() -> None:
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 <= (retry_after(in_five) or 0) <= 5.0
    assert retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0


def test_a_429_with_retry_after_is_waited_out_and_sent_again_with_the_same_body() -> None:
    script: Script = [(429, {"Retry-After": "2"}), (429, {"Retry-After": "1"}), (200, {})]
    with scripted_server(script) as (url, seen):
        session, traffic, slept = _session()
        response = session.post(url, data={"slug": "one"})
    assert response.status_code == 200
    assert [method for method, _ in seen] == ["POST"] * 3 and len({body for _, body in seen}) == 1
    assert slept == [2.0, 1.0]
    assert (traffic.sent, traffic.writes, traffic.retries, traffic.waited) == (3, 3, 2, 3.0)
    assert traffic.summary().startswith("429 retries: 2 (waited 3.0 s)")


def test_a_429_with_too_long_a_retry_after_is_answered_as_it_is() -> None:
    with scripted_server([(429, {"Retry-After": "3600"})]) as (url, seen):
        session, traffic, slept = _session()
        assert session.get(url).status_code == 429
    assert len(seen) == 1 and traffic.retries == 0 and slept == []


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "whenever"}])
def test_a_429_without_a_usable_retry_after_is_retried_with_backoff(headers: dict[str, str]) -> None:
    with scripted_server([(429, headers), (429, headers), (429, headers), (200, {})]) as (url, seen):
        session, traffic, slept = _session()
        assert session.get(url).status_code == 200
    assert len(seen) == 4 and slept == [1.0, 2.0, 4.0] and traffic.retries == 3


def test_retries_are_bounded() -> None:
    with scripted_server([(429, {"Retry-After": "0"})]) as (url, seen):
        session, traffic, _ = _session()
        assert session.get(url).status_code == 429
    assert len(seen) == MAX_RETRIES + 1 and traffic.retries == MAX_RETRIES


def test_the_gate_is_asked_before_every_attempt_and_a_refusal_sends_nothing() -> None:
    asked: list[str] = []

    def gate(method: str) -> None:
        asked.append(method)
        if method == "DELETE":
            raise RuntimeError("refused")

    with scripted_server([(429, {"Retry-After": "0"}), (200, {})]) as (url, seen):
        session, traffic, _ = _session(gate)
        assert session.get(url).status_code == 200
        with pytest.raises(RuntimeError, match="refused"):
            session.delete(url)
    assert asked == ["GET", "GET", "DELETE"]
    assert [method for method, _ in seen] == ["GET", "GET"] and traffic.writes == 0


def test_a_request_slower_than_the_timeout_fails_as_a_timeout() -> None:
    with scripted_server([(200, {})], delay=1.0) as (url, _):
        session, _, _ = _session(timeout=0.2)
        with pytest.raises(requests.Timeout):
            session.get(url)


def test_the_wsgi_twin_counts_gates_and_retries_in_process() -> None:
    bodies: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        bodies.append(environ["wsgi.input"].read())
        throttled = len(bodies) == 1
        start_response("429 Too Many Requests" if throttled else "200 OK", [("Retry-After", "1")] * throttled)
        return [b"{}"]

    traffic, slept, asked = Traffic(), list[float](), list[str]()
    wsgi = guarded_wsgi(app, asked.append, traffic, sleep=slept.append, pacer=Pacer(sleep=lambda seconds: None))
    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"slug=one")}
    assert b"".join(wsgi(environ, lambda status, headers, exc_info=None: statuses.append(status))) == b"{}"
    assert statuses == ["200 OK"] and bodies == [b"slug=one", b"slug=one"]
    assert asked == ["POST", "POST"] and slept == [1.0]
    assert (traffic.sent, traffic.writes, traffic.retries) == (2, 2, 1)
