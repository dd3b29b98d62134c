"""`mock_server.pg_lease`: the fence a write waits at on PostgreSQL, between two real listeners on a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from mock_server.pg_lease import CHANNEL, PAYLOAD_MAX, Listener, heard, told
from mock_server.postgres import prepare
from mock_server.state_db import Change

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


def _committed(connection: psycopg.Connection[tuple[object, ...]], counter: int, change: Change | None = None) -> None:
    """What another instance's write tells every listener at its commit (without `change`: a bare counter, as an
    older vsee-mock told it)."""
    connection.execute("UPDATE meta SET value = %s WHERE key = 'counter'", (counter,))
    connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(counter) if change is None else told(change)))


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


def test_a_change_is_told_with_its_rows_while_they_fit_and_by_its_namespace_alone_past_that() -> None:
    small = Change(12, "ns-1:a.b_c", 9, '[[],[],[["vclinic","r1","{\\"name\\": \\"a b\\"}"]],[],[],[]]')
    assert heard(told(small)) == small
    large = small._replace(rows="[" + "x" * PAYLOAD_MAX + "]")
    assert len(told(large).encode()) < 8000 and heard(told(large)) == Change(12, "ns-1:a.b_c", None, None)
    assert heard(told(Change(13, "ns", None, None))) == Change(13, "ns", None, None)  # a deletion: not in rows
    assert heard("14") == Change(14, None, None, None)
    assert heard(told(Change(15, "", 14, "[]"))) == Change(15, "", 14, "[]")  # the default namespace's name


def _told_through(listener: Listener, counter: int) -> None:
    deadline = time.monotonic() + 10
    while (listener.newest() or -1) < counter and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.newest() == counter, f"the listener never heard of {counter}"


def test_the_changes_since_a_counter_are_told_only_when_none_is_missing(
    pair: tuple[Listener, Listener, psycopg.Connection[tuple[object, ...]]],
) -> None:
    """A read applies what it was told only when it was told everything since its view: a counter never heard
    (here never notified; in life missed while the listener reconnected) sends it to the database."""
    _, other, connection = pair
    changes = [Change(n, "ns", n - 1, f"[{n}]") for n in (1, 2, 3)]
    for change in changes:
        _committed(connection, change.counter, change)
    _told_through(other, 3)
    assert other.notified(0) == (3, changes)
    assert other.notified(2) == (3, changes[2:])
    assert other.notified(3) == (3, [])
    assert other.notified(-1) is None, "before the listener began to listen"
    connection.execute("UPDATE meta SET value = 4 WHERE key = 'counter'")  # committed, never told
    _committed(connection, 5, Change(5, "ns", 4, "[5]"))
    _told_through(other, 5)
    assert other.notified(3) is None
    assert other.notified(4) == (5, [Change(5, "ns", 4, "[5]")])
    assert other.told(2, 5) == [changes[2], Change(5, "ns", 4, "[5]")], "as far as they were told"
