"""vsee_cli.startup: the listening socket every server of the project is handed."""

from __future__ import annotations

import socket

from vsee_cli.startup import bind


def test_the_listening_socket_and_every_connection_it_accepts_send_without_delay() -> None:
    """Nagle's algorithm off (granian sets nothing): a response written in two parts otherwise waited, now and then,
    for the client's delayed ACK (bench/results.md, issue 26, session 11)."""
    with bind("127.0.0.1", 0) as listener:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with socket.create_connection(listener.getsockname()[:2]) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                assert not client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)  # the server's own choice
