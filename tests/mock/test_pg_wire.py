"""`mock_server.pg_wire`: the store's statements through libpq's pipeline, on a real server (and a relay that records
what crosses the wire)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, pq

from mock_server.pg_wire import MAX_PREPARED, PgConnection, Statements

from helpers.postgres import Cluster
from helpers.wire import relay

TABLE = "CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, small INTEGER, flag BOOLEAN, x DOUBLE PRECISION)"


@pytest.fixture
def url(postgres: Cluster) -> str:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(TABLE)
    return url


@pytest.fixture
def wire(url: str) -> Iterator[PgConnection]:
    with psycopg.connect(url, autocommit=True) as raw:
        yield PgConnection(raw, Statements())


def _idle(connection: PgConnection) -> None:
    """Back where psycopg can use it: out of pipeline mode, no transaction, answering."""
    pgconn = connection.raw.pgconn
    assert pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert connection.raw.execute("SELECT 1").fetchone() == (1,)


def test_answers_come_back_as_python_values_read_as_a_cursor_is(wire: PgConnection) -> None:
    wire.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [("a", 2**40, 7, True, 1.5), ("b", None, -1, False, None)])
    with wire.batch():
        many = wire.execute("SELECT k, n, small, flag, x FROM t ORDER BY k")
        one = wire.execute("SELECT k FROM t WHERE n > ?", (0,))
        none = wire.execute("SELECT k FROM t WHERE k = ?", ("zzz",))
    assert many.fetchone() == ("a", 2**40, 7, True, 1.5)
    assert many.fetchall() == [("b", None, -1, False, None)]
    assert many.fetchone() is None
    assert list(one) == [("a",)]
    assert none.fetchone() is None and none.fetchall() == []
    _idle(wire)


def test_a_batch_leaves_in_one_send_and_its_answers_in_one_turn(url: str, postgres: Cluster) -> None:
    """Twenty statements, one turn of the conversation, and the client's part of it in one piece (psycopg's own
    pipeline sent each statement as it was executed)."""
    with (
        relay(postgres.port) as relaying,
        psycopg.connect(url.replace(f":{postgres.port}/", f":{relaying.port}/"), autocommit=True) as raw,
    ):
        wire = PgConnection(raw, Statements())
        wire.execute("SELECT 1")  # the conversation's opening is not part of it
        conversation = relaying.conversations[-1]
        before = len(conversation.chunks)
        with wire.batch():
            answers = [wire.execute("INSERT INTO t (k, n) VALUES (?, ?)", (f"k{i}", i)) for i in range(20)]
        assert all(a.succeeded for a in answers)
        assert conversation.round_trips(before) == 1
        assert sum(from_client for from_client, _ in conversation.chunks[before:]) == 1


def test_an_error_is_psycopgs_own_and_aborts_the_rest_of_the_batch(wire: PgConnection) -> None:
    wire.execute("INSERT INTO t (k) VALUES (?)", ("a",))
    with pytest.raises(errors.UniqueViolation) as raised, wire.batch():
        wire.execute("BEGIN")
        first = wire.execute("INSERT INTO t (k) VALUES (?)", ("b",))
        clash = wire.execute("INSERT INTO t (k) VALUES (?)", ("a",))
        after = wire.execute("INSERT INTO t (k) VALUES (?)", ("c",))
    assert raised.value.diag.constraint_name == "t_pkey"
    assert first.succeeded and not clash.succeeded
    assert after.status == pq.ExecStatus.PIPELINE_ABORTED
    wire.rollback()
    _idle(wire)
    assert wire.execute("SELECT k FROM t ORDER BY k").fetchall() == [("a",)]  # prepared before the error: still is


def test_a_statement_the_server_refuses_to_prepare_is_not_taken_as_prepared(wire: PgConnection) -> None:
    for _ in range(2):  # the second time it is sent again (its Parse failed), not run under a name that is not there
        with pytest.raises(errors.UndefinedTable):
            wire.execute("SELECT k FROM missing WHERE k = ?", ("a",))
        _idle(wire)
    assert wire.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_past_the_prepared_statements_a_connection_keeps_statements_go_unprepared(wire: PgConnection) -> None:
    for i in range(MAX_PREPARED + 5):
        assert wire.execute(f"SELECT ?::bigint + {i}", (1,)).fetchone() == (i + 1,)
    count = wire.raw.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert count == (MAX_PREPARED,)


def test_a_connection_cut_in_a_batch_is_an_operational_error_and_not_handed_on(url: str, wire: PgConnection) -> None:
    pid = wire.raw.pgconn.backend_pid
    with psycopg.connect(url, autocommit=True) as other, pytest.raises(psycopg.OperationalError), wire.batch():
        wire.execute("SELECT 1")
        other.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # returns once it is gone
        wire.execute("SELECT 2")
    assert wire.raw.closed or wire.raw.pgconn.status == pq.ConnStatus.BAD
