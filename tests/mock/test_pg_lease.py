"""`mock_server.pg_lease`: the fence a write waits at on PostgreSQL, between two real listeners on a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from mock_server.pg_lease import CHANNEL, Listener
from mock_server.postgres import prepare

from helpers.postgres import Cluster


@pytest.fixture
def pair(postgres: Cluster) -> Iterator[tuple[Listener, Listener, psycopg.Connection[tuple[object, ...]]]]:
    """Two instances' listeners on one database, both holding a lease, and a connection to commit with."""
    url = postgres.new_database()
    prepare(url)
    writer, other = Listener(url), Listener(url)
    with psycopg.connect(url, autocommit=True) as connection:
        deadline = time.monotonic() + 10
        while (writer.newest() is None or other.newest() is None) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.newest() is not None and other.newest() is not None, "no lease within 10 s"
        try:
            yield writer, other, connection
        finally:
            writer.stop()
            other.stop()


def _committed(connection: psycopg.Connection[tuple[object, ...]], counter: int) -> None:
    """What another instance's write tells every listener at its commit."""
    connection.execute("UPDATE meta SET value = %s WHERE key = 'counter'", (counter,))
    connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(counter)))


def test_a_confirmation_heard_before_the_first_look_was_read_releases_the_write(
    pair: tuple[Listener, Listener, psycopg.Connection[tuple[object, ...]]],
) -> None:
    """The other instance's confirmation can come between the first look (sent with the COMMIT) and the moment the
    writer reads its answer: it counts. (Counted only by a look asked later, the write once waited for the writer's
    listener to wake from its idle sleep: 250 ms for a create with no load at all.)"""
    writer, other, connection = pair
    _committed(connection, 7)
    deadline = time.monotonic() + 10
    while writer.confirmed(other.id) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.confirmed(other.id) == 7, "the other instance's confirmation never reached the writer's listener"
    fence = writer.wrote(7)
    writer.release(connection.execute("SELECT %s::text, 6::bigint", (other.id,)))  # the look, taken before it
    assert fence.is_set()


def test_a_write_waits_for_every_instance_with_a_lease_and_no_longer(
    pair: tuple[Listener, Listener, psycopg.Connection[tuple[object, ...]]],
) -> None:
    writer, _, connection = pair
    fence = writer.wrote(8)
    writer.check(connection)  # the first look, as a write takes it with its COMMIT
    assert not fence.is_set(), "released before the other instance saw the write"
    _committed(connection, 8)
    assert fence.wait(10), "the other instance's confirmation did not release the write"
