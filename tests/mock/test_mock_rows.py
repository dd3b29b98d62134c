"""`Rows` (mock_server/rows.py), the store's change-tracking dict: its secondary index (`find`) always agrees with a
scan of the rows, whatever mix of writes, removals and loads from the database came before; and an account finds a
room by domain and slug through it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.account import AccountState
from mock_server.rows import Rows

CODES = st.sampled_from(["a", "b", "c", "d"])
SLUGS = st.tuples(st.sampled_from(["x.vsee.me", "y.vsee.me"]), st.sampled_from(["s1", "s2", "s3"]))
OPERATIONS = st.one_of(
    st.tuples(st.just("set"), CODES, SLUGS),
    st.tuples(st.just("load"), CODES, SLUGS),
    st.tuples(st.just("del"), CODES, st.none()),
    st.tuples(st.just("pop"), CODES, st.none()),
    st.tuples(st.just("forget"), CODES, st.none()),
    st.tuples(st.just("popitem"), st.none(), st.none()),
    st.tuples(st.just("clear"), st.none(), st.none()),
    st.tuples(st.just("setdefault"), CODES, SLUGS),
    st.tuples(st.just("update"), CODES, SLUGS),
)


def _room(code: str, where: tuple[str, str]) -> dict[str, Any]:
    return {"code": code, "domain": where[0], "slug": where[1]}


def _apply(rows: Rows[dict[str, Any]], operation: tuple[str, Any, Any]) -> None:
    name, code, where = operation
    if name == "set":
        rows[code] = _room(code, where)
    elif name == "load":
        rows.load(code, _room(code, where))
    elif name == "setdefault":
        rows.setdefault(code, _room(code, where))
    elif name == "update":
        rows.update({code: _room(code, where)})
    elif name == "del" and code in rows:
        del rows[code]
    elif name == "pop":
        rows.pop(code, None)
    elif name == "forget":
        rows.forget(code)
    elif name == "popitem" and rows:
        rows.popitem()
    elif name == "clear":
        rows.clear()


@settings(max_examples=300, deadline=None)
@given(st.lists(OPERATIONS, max_size=30))
def test_find_agrees_with_a_scan_after_any_operations(operations: list[tuple[str, Any, Any]]) -> None:
    rows: Rows[dict[str, Any]] = Rows(index_by=lambda room: (room["domain"], room["slug"]))
    for operation in operations:
        _apply(rows, operation)
        for domain in ("x.vsee.me", "y.vsee.me"):
            for slug in ("s1", "s2", "s3"):
                scanned = [r for r in rows.values() if (r["domain"], r["slug"]) == (domain, slug)]
                found = rows.find((domain, slug))
                if not scanned:
                    assert found is None, (operations, domain, slug)
                else:  # several rows may share a key here (the store's constraint forbids it): any one of them
                    assert found is not None and found in scanned, (operations, domain, slug)


def test_an_account_finds_a_room_by_domain_and_slug_only_while_it_is_there() -> None:
    account = AccountState("acct", "acct.vsee.me", "token", "1", 1, seed=1, clock=lambda: 0)
    account.rooms["abcde"] = _room("abcde", ("acct.vsee.me", "lobby"))
    assert account.room_with_slug("acct.vsee.me", "lobby") == account.rooms["abcde"]
    assert account.room_with_slug("other.vsee.me", "lobby") is None
    account.rooms.pop("abcde")
    assert account.room_with_slug("acct.vsee.me", "lobby") is None
    assert account.rooms.removed == {"abcde"}


def test_a_stamp_changes_with_its_row_only_and_never_comes_back() -> None:
    """What `fast_reads.py` trusts: a row's stamp is new after the row was loaded, or set or removed by a write (at
    `settle()`), and the same otherwise; a view loaded afresh never reuses one."""
    rows: Rows[dict[str, int]] = Rows([("a", {"n": 1}), ("b", {"n": 2})])
    before = dict(rows.stamps)
    rows["a"] = {"n": 3}
    assert rows.stamps == before, "a change counts once saved (settle), not while the write runs"
    rows.settle()
    assert rows.stamps["a"] != before["a"] and rows.stamps["b"] == before["b"]
    del rows["b"]
    rows.settle()
    assert rows.stamps["b"] != before["b"]
    loaded = dict(rows.stamps)
    rows.load("a", {"n": 4})
    rows.forget("b")
    assert rows.stamps["a"] != loaded["a"] and rows.stamps["b"] != loaded["b"]
    again: Rows[dict[str, int]] = Rows([("a", {"n": 1}), ("b", {"n": 2})])
    assert not set(again.stamps.values()) & {*before.values(), *loaded.values(), *rows.stamps.values()}
