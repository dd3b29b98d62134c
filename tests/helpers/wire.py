"""A TCP relay between a client and a real server that records what crosses it, per connection: how many round
trips a piece of work costs on the wire (a turn from the server's answer back to the client asking again), without
looking inside the client."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Conversation:
    """One relayed connection: its chunks in the order they crossed, each `(from_client, data)`."""

    chunks: list[tuple[bool, bytes]] = field(default_factory=list)

    def sent(self, since: int = 0) -> bytes:
        return b"".join(data for from_client, data in self.chunks[since:] if from_client)

    def round_trips(self, since: int = 0) -> int:
        """Client bursts that an answer of the server preceded (or that open the window): one each."""
        trips, previous = 0, None
        for from_client, _ in self.chunks[since:]:
            if from_client and previous is not True:
                trips += 1
            previous = from_client
        return trips


class Relay:
    """Listens on 127.0.0.1 on a free port and relays every connection to `target_port`; `record=False` keeps no
    chunks (a benchmark's hop: `bench/run.py`'s pg-hop)."""

    def __init__(self, target_port: int, record: bool = True) -> None:
        self.target_port = target_port
        self.record = record
        self.conversations: list[Conversation] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def mark(self) -> list[int]:
        """Where each conversation stands now (for `since=`)."""
        with self._lock:
            return [len(c.chunks) for c in self.conversations]

    def since(self, mark: list[int]) -> list[tuple[Conversation, int]]:
        """Each conversation with where it stood at `mark` (0 for one begun after it)."""
        with self._lock:
            conversations = list(self.conversations)
        return list(zip(conversations, mark + [0] * (len(conversations) - len(mark)), strict=True))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return  # closed (or the server gone: the client sees its connection cut)
            for end in (client, server):  # as the client and the server themselves: no Nagle delay in between
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conversation = Conversation()
            with self._lock:
                self.conversations.append(conversation)
                self._sockets += [client, server]
            for source, sink, from_client in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, conversation, from_client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, conversation: Conversation, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self.record:
                    with self._lock:  # recorded before it is passed on: the answer cannot be recorded first
                        conversation.chunks.append((from_client, data))
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Every connection cut (the client sees its server gone), and no new one taken."""
        self._listener.close()
        with self._lock:
            for connection in self._sockets:
                connection.close()


@contextlib.contextmanager
def relay(target_port: int, record: bool = True) -> Iterator[Relay]:
    running = Relay(target_port, record)
    try:
        yield running
    finally:
        running.close()
