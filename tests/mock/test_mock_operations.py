"""Every operation of the mock, its documented success and each documented error, through Flask's test client.

The mock is what frontends develop against before the real API is reachable, so its behaviour has to be the
contract's: the rules in openapi.yaml's descriptions (slug unique per domain, one default room, associations
drive the providers list, queue arithmetic, pagination laws) and the README's answers where the docs are silent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server import MockConfig, create_app
from vsee_contract import rules

from helpers.mock_api import (
    ADMIN,
    AUTH,
    CONTRACT,
    DOMAIN,
    ENCODINGS,
    TOKEN,
    VCLINIC,
    WELL,
    WELL_ADMIN,
    WELL_AUTH,
    WELL_DOMAIN,
    WELL_TOKEN,
    assert_error,
    create_room,
    judge,
    send,
    state,
)

GENERATED_CODE = re.compile(r"^[a-z0-9]{5}$")


# ------------------------------------------------------------------ helpers


def account_state(client: FlaskClient, code: str = VCLINIC) -> dict[str, Any]:
    return next(a for a in state(client)["accounts"] if a["code"] == code)


def list_codes(client: FlaskClient, query: str = "", headers: Mapping[str, str] | None = None) -> list[str]:
    resp = client.get("/api_v3/rooms" + (f"?{query}" if query else ""), headers=dict(headers or {}))
    assert resp.status_code == 200, resp.get_json()
    return [item["code"] for item in resp.get_json()["data"]]


def provider_ids(client: FlaskClient, code: str, headers: Mapping[str, str] | None = None) -> list[str]:
    resp = client.get(f"/api_v3/rooms/{code}/providers", headers=dict(headers or {}))
    assert resp.status_code == 200, resp.get_json()
    return [p["id"] for p in resp.get_json()["data"]]


# ------------------------------------------------------------------ createRoom


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_create_room_in_each_encoding_and_read_it_back(client: FlaskClient, encoding: str) -> None:
    """All three documented encodings create a room that v3, v4 and the list show at once."""
    sent = {"domain": DOMAIN, "slug": f"new-{encoding}", "name": f"New {encoding} room"}
    resp = send(client, "POST", "/rooms", sent, encoding, AUTH)
    assert resp.status_code == 200, resp.get_json()
    assert judge("createRoom", resp, {}, {}, sent) == []
    room = resp.get_json()["data"]
    assert GENERATED_CODE.match(room["code"]), room["code"]
    assert (room["slug"], room["name"], room["domain"]) == (sent["slug"], sent["name"], DOMAIN)
    assert room["account_code"] == VCLINIC
    assert room["provider_ids"] == [ADMIN] and room["users"] == ADMIN, "the token's user provides the new room"

    for base in ("/api_v3", "/api_v4"):
        got = client.get(f"{base}/rooms/{room['code']}")
        assert got.status_code == 200
        assert judge("getRoom", got, {"code": room["code"]}) == []
        assert got.get_json()["data"] == room
    assert room["code"] in list_codes(client)
    assert client.get(f"/api_v3/rooms/{room['code']}/queue").status_code == 200


def test_create_room_with_an_explicit_code_keeps_it(client: FlaskClient) -> None:
    """`code` is optional; when sent, it is the new room's code."""
    sent = {"domain": DOMAIN, "slug": "chosen", "name": "Chosen", "code": "chosen_code"}
    resp = send(client, "POST", "/rooms", sent, "multipart", AUTH)
    assert resp.status_code == 200
    assert judge("createRoom", resp, {}, {}, sent) == []
    assert resp.get_json()["data"]["code"] == "chosen_code"
    assert client.get("/api_v3/rooms/chosen_code").get_json()["data"]["slug"] == "chosen"


def test_generated_codes_and_ids_are_unique(client: FlaskClient) -> None:
    """Generated codes are 5 lowercase letters/digits, and no two rooms share a code or an id."""
    rooms = [create_room(client, f"many-{i}").get_json()["data"] for i in range(15)]
    codes = [r["code"] for r in rooms]
    assert all(GENERATED_CODE.match(c) for c in codes), codes
    everything = account_state(client)["rooms"]
    assert len({r["code"] for r in everything}) == len(everything)
    assert len({r["id"] for r in everything}) == len(everything)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_duplicate_slug_is_400_with_the_documented_message(client: FlaskClient, encoding: str) -> None:
    """Documented: `{"code": 400, "message": "In domain '<domain>' slug '<slug>' already exists."}`, no second room."""
    first = create_room(client, "twice", "json")
    assert first.status_code == 200
    before = account_state(client)["rooms"]
    again = create_room(client, "twice", encoding, name="Another name")
    assert again.status_code == 400
    assert again.get_json() == {"code": 400, "message": f"In domain '{DOMAIN}' slug 'twice' already exists."}
    assert judge("createRoom", again, {}, {}, {"domain": DOMAIN, "slug": "twice", "name": "Another name"}) == []
    assert rules.duplicate_slug_refused(again.status_code, again.get_json(), "twice") == []
    after = account_state(client)["rooms"]
    assert after == before
    assert [r["slug"] for r in after].count("twice") == 1


def test_duplicate_of_a_fixture_slug_is_refused(client: FlaskClient) -> None:
    """The documented example slug already exists in the fixtures, exactly as in the docs' error example."""
    resp = create_room(client, "provider00102", "multipart", name="provider00102 room")
    assert resp.get_json() == {
        "code": 400,
        "message": "In domain 'vclinic.vsee.me' slug 'provider00102' already exists.",
    }
    assert [r["slug"] for r in account_state(client)["rooms"]].count("provider00102") == 1


def test_same_slug_in_another_domain_is_allowed(client: FlaskClient) -> None:
    """Uniqueness is per domain, not per account."""
    resp = create_room(client, "room1", domain="other.vsee.me")
    assert resp.status_code == 200
    assert [r["slug"] for r in account_state(client)["rooms"]].count("room1") == 2


@pytest.mark.parametrize("code", ["ceproom1", "b4vjj", "room1_code"])
def test_existing_code_is_refused(client: FlaskClient, code: str) -> None:
    """ "should be unique": an existing code is a 4xx and the existing room is untouched."""
    before = client.get(f"/api_v3/rooms/{code}").get_json()
    resp = create_room(client, "fresh-slug", code=code)
    assert_error(resp)
    assert judge("createRoom", resp, {}, {}, {"domain": DOMAIN, "slug": "fresh-slug", "name": "x", "code": code}) == []
    assert "fresh-slug" not in [r["slug"] for r in account_state(client)["rooms"]]
    assert client.get(f"/api_v3/rooms/{code}").get_json() == before


def test_a_created_code_can_always_be_read_back(client: FlaskClient) -> None:
    """ "GET /rooms/{code} reads it back at once": a code the mock accepts must be readable (or refused up front).

    A code with a slash is a string the contract allows; percent-encoded in the path it still decodes to two
    segments, so the mock must either refuse it with a 4xx or still find the room.
    """
    resp = create_room(client, "slashed", code="a/b")
    if resp.status_code >= 400:
        assert_error(resp)
        return
    assert resp.status_code == 200
    got = client.get("/api_v3/rooms/a%2Fb")
    assert got.status_code == 200, f"room 'a/b' was created but GET /rooms/a%2Fb answers {got.status_code}"


@pytest.mark.parametrize("value", ["true", "1", "TRUE", True])
def test_create_room_default_true_makes_it_the_admins_only_default(client: FlaskClient, value: Any) -> None:
    """ "Set this room as default, other rooms will lose default status" (the admin's default was b4vjj)."""
    encoding = "json" if isinstance(value, bool) else "form"
    resp = create_room(client, "my-default", encoding, default=value)
    assert resp.status_code == 200, resp.get_json()
    code = resp.get_json()["data"]["code"]
    mine = send(client, "POST", f"/users/{ADMIN}/rooms", {"code": "b4vjj"}, "json", AUTH).get_json()["data"]
    assert rules.default_exclusive(mine, code) == []


# ------------------------------------------------------------------ reads


@pytest.mark.parametrize("base", ["/api_v3", "/api_v4"])
@pytest.mark.parametrize("account", [VCLINIC, WELL])
def test_every_fixture_room_reads_back_on_v3_and_v4(client: FlaskClient, base: str, account: str) -> None:
    """Each listed room is readable by its code, and the detail is the room asked for."""
    headers = {"X-AccountCode": account}
    codes = list_codes(client, headers=headers)
    assert len(codes) >= 5
    for code in codes:
        resp = client.get(f"{base}/rooms/{code}", headers=headers)
        assert resp.status_code == 200
        assert judge("getRoom", resp, {"code": code}) == []
        assert resp.get_json()["data"]["code"] == code


def test_providers_list_and_detail_follow_the_rooms_provider_ids(client: FlaskClient) -> None:
    """Every provider of every room is listed and readable in detail, with the id asked for."""
    for code in list_codes(client):
        room = client.get(f"/api_v3/rooms/{code}").get_json()["data"]
        listed = client.get(f"/api_v3/rooms/{code}/providers")
        assert judge("listRoomProviders", listed, {"code": code}) == []
        assert [p["id"] for p in listed.get_json()["data"]] == room["provider_ids"]
        for provider_id in room["provider_ids"]:
            detail = client.get(f"/api_v3/rooms/{code}/providers/{provider_id}")
            assert detail.status_code == 200
            assert judge("getRoomProvider", detail, {"code": code, "id": provider_id}) == []
            assert detail.get_json()["data"]["id"] == provider_id


@pytest.mark.parametrize("account", [VCLINIC, WELL])
def test_queue_arithmetic_holds_for_every_room(client: FlaskClient, account: str) -> None:
    """0 ≤ before_me ≤ length ≤ capacity for every fixture room and for a new one."""
    headers = {"X-AccountCode": account}
    if account == VCLINIC:
        created = create_room(client, "queue-check")
        assert created.status_code == 200
    codes = list_codes(client, headers=headers)
    for code in codes:
        resp = client.get(f"/api_v3/rooms/{code}/queue", headers=headers)
        assert resp.status_code == 200
        assert judge("getRoomQueue", resp, {"code": code}) == []
        assert rules.queue_arithmetic(resp.get_json()["data"]) == [], code


def test_documented_queue_of_ceproom1(client: FlaskClient) -> None:
    """The docs' GET /rooms/ceproom1/queue example is what the fixture room answers."""
    documented = CONTRACT.spec.examples("getRoomQueue")["docs_ceproom1"][1]
    assert client.get("/api_v3/rooms/ceproom1/queue").get_json() == documented


@pytest.mark.parametrize(
    ("path", "params", "operation_id"),
    [
        ("/rooms/nope", {"code": "nope"}, "getRoom"),
        ("/rooms/nope/providers", {"code": "nope"}, "listRoomProviders"),
        ("/rooms/nope/queue", {"code": "nope"}, "getRoomQueue"),
        ("/rooms/nope/providers/826", {"code": "nope", "id": "826"}, "getRoomProvider"),
        ("/rooms/ceproom1/providers/999999", {"code": "ceproom1", "id": "999999"}, "getRoomProvider"),
        ("/rooms/ceproom1/providers/1002", {"code": "ceproom1", "id": "1002"}, "getRoomProvider"),
    ],
)
def test_unknown_room_or_provider_is_404(
    client: FlaskClient, path: str, params: dict[str, str], operation_id: str
) -> None:
    """Unknown rooms and providers (and users who do not provide the room) are a 404 in the error shape."""
    resp = client.get("/api_v3" + path)
    assert_error(resp, 404)
    assert judge(operation_id, resp, params) == []


# ------------------------------------------------------------------ addUserRoom / removeUserRoom


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_add_user_room_makes_the_user_a_provider(client: FlaskClient, encoding: str) -> None:
    """The user joins provider_ids, the `users` string and the providers list; their detail becomes readable."""
    assert_error(client.get("/api_v3/rooms/ceproom1/providers/1002"), 404)
    resp = send(client, "POST", "/users/1002/rooms", {"code": "ceproom1"}, encoding, AUTH)
    assert resp.status_code == 200, resp.get_json()
    assert judge("addUserRoom", resp, {"id": "1002"}, {}, {"code": "ceproom1"}) == []
    mine = resp.get_json()["data"]
    assert {r["code"] for r in mine} == {"ceproom1", "example-room-code"}
    assert all(r["_id"] == r["id"] for r in mine)

    room = client.get("/api_v3/rooms/ceproom1").get_json()["data"]
    assert room["provider_ids"] == ["826", "401", "1002"]
    assert room["users"] == "826,401,1002"
    providers = client.get("/api_v3/rooms/ceproom1/providers").get_json()["data"]
    assert rules.provider_follows_association(providers, "1002", associated=True) == []
    detail = client.get("/api_v3/rooms/ceproom1/providers/1002")
    assert detail.status_code == 200 and detail.get_json()["data"]["id"] == "1002"


def test_add_user_room_twice_is_idempotent(client: FlaskClient) -> None:
    """Associating again neither duplicates the provider nor fails."""
    for _ in range(2):
        assert send(client, "POST", "/users/401/rooms", {"code": "ceproom1"}, "form", AUTH).status_code == 200
    assert provider_ids(client, "ceproom1") == ["826", "401"]


@pytest.mark.parametrize(
    ("encoding", "value", "becomes_default"),
    [
        ("multipart", "true", True),
        ("multipart", "1", True),
        ("form", "TRUE", True),
        ("form", "1", True),
        ("json", True, True),
        ("multipart", "false", False),
        ("form", "0", False),
        ("form", "False", False),
        ("json", False, False),
    ],
)
def test_default_flag_leaves_exactly_one_default(
    client: FlaskClient, encoding: str, value: Any, becomes_default: bool
) -> None:
    """User 826's default is ceproom1; default=true moves it, default=false leaves it; never two defaults."""
    resp = send(client, "POST", "/users/826/rooms", {"code": "example-room-code", "default": value}, encoding, AUTH)
    assert resp.status_code == 200, resp.get_json()
    expected = "example-room-code" if becomes_default else "ceproom1"
    assert rules.default_exclusive(resp.get_json()["data"], expected) == []
    assert account_state(client)["defaults"]["826"] == expected


def test_default_moves_between_new_associations(client: FlaskClient) -> None:
    """Two default=true in a row: only the last room is default."""
    first = send(client, "POST", "/users/1002/rooms", {"code": "ceproom1", "default": True}, "json", AUTH)
    assert rules.default_exclusive(first.get_json()["data"], "ceproom1") == []
    second = send(client, "POST", "/users/1002/rooms", {"code": "sandbox", "default": "1"}, "multipart", AUTH)
    assert rules.default_exclusive(second.get_json()["data"], "sandbox") == []
    assert len(second.get_json()["data"]) == 3


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_invalid_default_value_is_400(client: FlaskClient, encoding: str) -> None:
    """Only true/false (1/0 in forms) are booleans."""
    value: Any = "yes" if encoding != "json" else "true"
    resp = send(client, "POST", "/users/826/rooms", {"code": "example-room-code", "default": value}, encoding, AUTH)
    assert_error(resp, 400)
    assert account_state(client)["defaults"]["826"] == "ceproom1"


def test_dash_means_the_tokens_user(client: FlaskClient) -> None:
    """`-` maps to the user the token belongs to: 85741 in vclinic, 20001 in wellclinic."""
    resp = send(client, "POST", "/users/-/rooms", {"code": "ceproom1"}, "multipart", AUTH)
    assert resp.status_code == 200
    assert judge("addUserRoom", resp, {"id": "-"}, {}, {"code": "ceproom1"}) == []
    assert {r["code"] for r in resp.get_json()["data"]} == {"b4vjj", "room1_code", "ceproom1"}
    assert ADMIN in provider_ids(client, "ceproom1")

    well = send(client, "POST", "/users/-/rooms", {"code": "pd3m9"}, "json", WELL_AUTH)
    assert well.status_code == 200
    assert WELL_ADMIN in provider_ids(client, "pd3m9", {"X-AccountCode": WELL})

    removed = client.delete("/api_v3/users/-/rooms/ceproom1", headers=AUTH)
    assert removed.status_code == 200
    assert ADMIN not in provider_ids(client, "ceproom1")


@pytest.mark.parametrize("body_encoding", [None, "multipart", "form", "json"])
def test_remove_user_room_takes_the_user_off_the_room(client: FlaskClient, body_encoding: str | None) -> None:
    """DELETE (also with the docs' form body `code=...`) removes the association everywhere it shows."""
    fields = None if body_encoding is None else {"code": "ceproom1"}
    resp = send(client, "DELETE", "/users/401/rooms/ceproom1", fields, body_encoding or "json", AUTH)
    assert resp.status_code in (200, 204), resp.data
    assert judge("removeUserRoom", resp, {"id": "401", "room_code": "ceproom1"}, {}, fields) == []
    if resp.status_code == 200:
        assert isinstance(resp.get_json(), dict)
    room = client.get("/api_v3/rooms/ceproom1").get_json()["data"]
    assert room["provider_ids"] == ["826"] and room["users"] == "826"
    providers = client.get("/api_v3/rooms/ceproom1/providers").get_json()["data"]
    assert rules.provider_follows_association(providers, "401", associated=False) == []
    assert_error(client.get("/api_v3/rooms/ceproom1/providers/401"), 404)


def test_documented_delete_example(client: FlaskClient) -> None:
    """The docs' DELETE /users/85741/rooms/b4vjj with form field code=b4vjj answers `{}`."""
    resp = send(client, "DELETE", "/users/85741/rooms/b4vjj", {"code": "b4vjj"}, "multipart", AUTH)
    assert resp.status_code == 200
    assert resp.get_json() == {}
    assert provider_ids(client, "b4vjj") == []
    assert "85741" not in account_state(client)["defaults"], "removing the default room clears the default"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_remove_with_a_mismatching_body_code_is_400(client: FlaskClient, encoding: str) -> None:
    """The body `code`, when given, must equal the path's room_code; nothing is removed otherwise."""
    before = account_state(client)
    resp = send(client, "DELETE", "/users/401/rooms/ceproom1", {"code": "room1_code"}, encoding, AUTH)
    assert_error(resp, 400)
    assert account_state(client) == before


@pytest.mark.parametrize(
    ("method", "path", "fields"),
    [
        ("POST", "/users/999999/rooms", {"code": "ceproom1"}),
        ("POST", "/users/401/rooms", {"code": "no-such-room"}),
        ("DELETE", "/users/999999/rooms/ceproom1", None),
        ("DELETE", "/users/401/rooms/no-such-room", None),
        ("DELETE", "/users/1002/rooms/ceproom1", None),
        ("POST", "/users/20002/rooms", {"code": "ceproom1"}),
    ],
    ids=[
        "post unknown user",
        "post unknown room",
        "delete unknown user",
        "delete unknown room",
        "delete not associated",
        "post user of another account",
    ],
)
def test_unknown_user_room_or_association_is_404(
    client: FlaskClient, method: str, path: str, fields: dict[str, str] | None
) -> None:
    """README: unknown user / room / association on POST or DELETE /users/{id}/rooms → 404; nothing changes."""
    before = account_state(client)
    assert_error(send(client, method, path, fields, "form", AUTH), 404)
    assert account_state(client) == before


def test_non_numeric_user_id_is_400(client: FlaskClient) -> None:
    """The id pattern is `^(-|[0-9]+)$`."""
    assert_error(send(client, "POST", "/users/abc/rooms", {"code": "ceproom1"}, "json", AUTH), 400)


# ------------------------------------------------------------------ listRooms: pagination, q, sort, filters, fields


def test_list_is_the_whole_account_without_limit(client: FlaskClient) -> None:
    """Without `limit` the whole list comes back, as summaries."""
    resp = client.get("/api_v3/rooms")
    assert judge("listRooms", resp, {}) == []
    codes = [r["code"] for r in resp.get_json()["data"]]
    assert sorted(codes) == sorted(r["code"] for r in account_state(client)["rooms"])
    assert resp.get_json().get("total_count", len(codes)) == len(codes)


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 100])
def test_pages_partition_the_list(client: FlaskClient, limit: int) -> None:
    """Pages of one limit are disjoint, each ≤ limit, together the whole list; a page past the end is empty."""
    create_room(client, "page-extra-1")
    create_room(client, "page-extra-2")
    whole = list_codes(client)
    pages: list[list[str]] = []
    for page in range(1, len(whole) + 2):
        resp = client.get(f"/api_v3/rooms?page={page}&limit={limit}")
        assert judge("listRooms", resp, {}, {"page": page, "limit": limit}) == []
        items = [r["code"] for r in resp.get_json()["data"]]
        assert rules.page_within_limit(items, limit) == []
        if not items:
            break
        pages.append(items)
    assert rules.pages_partition_list(pages, whole) == []
    assert [c for p in pages for c in p] == whole, "pages keep the list's order"
    past = client.get(f"/api_v3/rooms?page={len(pages) + 5}&limit={limit}").get_json()["data"]
    assert rules.page_past_end_empty(past) == []


def test_start_is_a_zero_based_offset_and_wins_over_page(client: FlaskClient) -> None:
    """README: `start` (0-based) wins over `page` when both are given."""
    whole = list_codes(client)
    for start in range(len(whole) + 2):
        assert list_codes(client, f"start={start}&limit=2") == whole[start : start + 2]
    assert list_codes(client, "start=1&page=3&limit=2") == whole[1:3]


@pytest.mark.parametrize(
    "query",
    [
        "limit=101",
        "limit=0",
        "limit=-1",
        "limit=two",
        "page=0",
        "page=-3",
        "start=-1",
        "q=ab",
        "sort=name",
        "sort=name.up",
        "fields=id;name",
        "fields=",
    ],
)
def test_out_of_bounds_list_parameters_are_400(client: FlaskClient, query: str) -> None:
    """`1 ≤ limit ≤ 100`, `page ≥ 1`, `start ≥ 0`, `q` ≥ 3 chars, sort/fields patterns."""
    resp = client.get(f"/api_v3/rooms?{query}")
    assert_error(resp, 400)
    assert judge("listRooms", resp, {}) == []


def test_limit_100_is_allowed(client: FlaskClient) -> None:
    """The upper bound itself is valid."""
    assert len(list_codes(client, "limit=100")) == len(list_codes(client))


def test_q_matches_name_or_slug(client: FlaskClient) -> None:
    """`q` keeps exactly the rooms whose name or slug contains it."""
    whole = client.get("/api_v3/rooms").get_json()["data"]
    for needle in ("room", "care", "uat", "zzzz"):
        expected = [r["code"] for r in whole if needle in r["name"].lower() or needle in r["slug"].lower()]
        assert list_codes(client, f"q={needle}") == expected, needle
    assert len(list_codes(client, "q=room")) == 3


@pytest.mark.parametrize("sort", ["name.asc", "name.desc", "created.asc", "created.desc", "slug.desc"])
def test_sort(client: FlaskClient, sort: str) -> None:
    """`<field>.asc|desc` orders the list by that field."""
    field, direction = sort.split(".")
    items = client.get(f"/api_v3/rooms?sort={sort}").get_json()["data"]
    values = [r[field] for r in items]
    assert values == sorted(values, reverse=direction == "desc")
    assert len(items) == len(list_codes(client))


def test_exact_filters(client: FlaskClient) -> None:
    """`domain`, `slug`, `code` are exact-match filters and combine with `q`."""
    assert list_codes(client, "slug=ceproom1") == ["ceproom1"]
    assert list_codes(client, "code=b4vjj") == ["b4vjj"]
    assert list_codes(client, "slug=ceproom") == []
    assert list_codes(client, f"domain={DOMAIN}") == list_codes(client)
    assert list_codes(client, "domain=nowhere.example") == []
    assert list_codes(client, "slug=ceproom1&q=urgent") == []
    total = client.get("/api_v3/rooms?slug=ceproom1").get_json()
    assert total.get("total_count", 1) == 1


def test_fields_adds_full_room_fields(client: FlaskClient) -> None:
    """`fields` adds full-room fields to each summary, which keeps its own fields."""
    plain = client.get("/api_v3/rooms").get_json()["data"]
    assert all("active" not in r and "id" not in r for r in plain)
    resp = client.get("/api_v3/rooms?fields=id,active,provider_ids")
    assert judge("listRooms", resp, {}) == []
    rich = resp.get_json()["data"]
    full = {r["code"]: r for r in account_state(client)["rooms"]}
    for item in rich:
        room = full[item["code"]]
        for key in ("slug", "name", "domain", "code", "created", "modified", "id", "active", "provider_ids"):
            assert item[key] == room[key], (item["code"], key)


# ------------------------------------------------------------------ accounts and auth


def test_accounts_are_isolated(client: FlaskClient) -> None:
    """A room created in one account is invisible in the other, and the same slug is free there."""
    made = create_room(client, "iso-room")
    assert made.status_code == 200
    code = made.get_json()["data"]["code"]
    well = {"X-AccountCode": WELL}
    assert code not in list_codes(client, headers=well)
    assert "iso-room" not in [r["slug"] for r in client.get("/api_v3/rooms", headers=well).get_json()["data"]]
    assert_error(client.get(f"/api_v3/rooms/{code}", headers=well), 404)
    assert_error(client.get(f"/api_v3/rooms/{code}/queue", headers=well), 404)

    other = create_room(client, "iso-room", headers=WELL_AUTH, domain=WELL_DOMAIN)
    assert other.status_code == 200, other.get_json()
    assert other.get_json()["data"]["account_code"] == WELL
    assert other.get_json()["data"]["provider_ids"] == [WELL_ADMIN]
    same_domain = create_room(client, "iso-room", headers=WELL_AUTH)
    assert same_domain.status_code == 200, "the vclinic room does not block the slug in another account"
    assert code in list_codes(client)


def _writes() -> list[tuple[str, str, dict[str, str] | None]]:
    return [
        ("POST", "/rooms", {"domain": DOMAIN, "slug": "auth-check", "name": "Auth check"}),
        ("POST", "/users/1002/rooms", {"code": "ceproom1"}),
        ("DELETE", "/users/401/rooms/ceproom1", None),
    ]


@pytest.mark.parametrize(("method", "path", "fields"), _writes(), ids=["createRoom", "addUserRoom", "removeUserRoom"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-ApiToken": ""}, 401),
        ({"X-ApiToken": WELL_TOKEN}, 403),
        ({"X-ApiToken": "0" * 32}, 403),
        ({"X-ApiToken": TOKEN.upper()}, 403),
        ({"X-ApiToken": TOKEN, "X-AccountCode": WELL}, 403),
        ({"X-ApiToken": WELL_TOKEN, "X-AccountCode": VCLINIC}, 403),
    ],
    ids=[
        "missing",
        "empty",
        "other account's",
        "wrong",
        "upper-cased",
        "vclinic token on wellclinic",
        "wellclinic token on vclinic",
    ],
)
def test_writes_need_the_accounts_admin_token(
    client: FlaskClient,
    method: str,
    path: str,
    fields: dict[str, str] | None,
    headers: dict[str, str],
    status: int,
) -> None:
    """Missing token → 401, wrong token → 403, and nothing changes in any account."""
    before = state(client)
    resp = send(client, method, path, fields, "multipart", headers)
    assert_error(resp, status)
    assert state(client) == before


def test_unknown_account_code_is_403(client: FlaskClient) -> None:
    """README: an unknown X-AccountCode is refused (403), on reads and on writes with a valid token."""
    before = state(client)
    assert_error(client.get("/api_v3/rooms", headers={"X-AccountCode": "nosuchclinic"}), 403)
    assert_error(client.get("/api_v3/rooms/ceproom1", headers={"X-AccountCode": "nosuchclinic"}), 403)
    resp = create_room(client, "ghost", headers={**AUTH, "X-AccountCode": "nosuchclinic"})
    assert_error(resp, 403)
    assert state(client) == before


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_account_code_means_the_default_account(client: FlaskClient, blank: str) -> None:
    """ "Otherwise leave blank": blank (or absent) X-AccountCode is the default account, vclinic."""
    vclinic = list_codes(client, headers={"X-AccountCode": VCLINIC})
    assert list_codes(client, headers={"X-AccountCode": blank}) == vclinic
    assert list_codes(client) == vclinic
    resp = create_room(client, "blank-account", headers={**AUTH, "X-AccountCode": blank})
    assert resp.status_code == 200
    assert resp.get_json()["data"]["account_code"] == VCLINIC
    assert resp.get_json()["data"]["code"] in list_codes(client, headers={"X-AccountCode": VCLINIC})


@pytest.mark.parametrize(
    ("operation_id", "path", "params"),
    [
        ("listRooms", "/rooms", {}),
        ("getRoom", "/rooms/ceproom1", {"code": "ceproom1"}),
        ("listRoomProviders", "/rooms/ceproom1/providers", {"code": "ceproom1"}),
        ("getRoomProvider", "/rooms/ceproom1/providers/826", {"code": "ceproom1", "id": "826"}),
        ("getRoomQueue", "/rooms/ceproom1/queue", {"code": "ceproom1"}),
    ],
)
def test_public_reads_need_no_token(client: FlaskClient, operation_id: str, path: str, params: dict[str, str]) -> None:
    """The four "[public access]" reads answer without any token."""
    resp = client.get("/api_v3" + path)
    assert resp.status_code == 200
    assert judge(operation_id, resp, params) == []


# ------------------------------------------------------------------ determinism and reset


def test_same_seed_generates_the_same_codes() -> None:
    """Two mocks with one seed generate the same codes (repeatable frontend tests); reset replays the sequence."""

    def codes(client: FlaskClient) -> list[str]:
        return [create_room(client, f"seeded-{i}").get_json()["data"]["code"] for i in range(5)]

    first, second = create_app(MockConfig(seed=1234)).test_client(), create_app({"seed": 1234}).test_client()
    run1, run2 = codes(first), codes(second)
    assert run1 == run2
    assert len(set(run1)) == 5
    assert first.post("/__mock__/reset").status_code == 200
    assert codes(first) == run1
    other = codes(create_app({"seed": 4321}).test_client())
    assert other != run1


def test_reset_restores_the_fixtures(client: FlaskClient) -> None:
    """POST /__mock__/reset undoes every change in every account."""
    before = state(client)
    create_room(client, "to-be-reset", default=True)
    send(client, "POST", "/users/1002/rooms", {"code": "ceproom1", "default": True}, "json", AUTH)
    send(client, "DELETE", "/users/401/rooms/ceproom1", None, "json", AUTH)
    create_room(client, "to-be-reset", headers=WELL_AUTH, domain=WELL_DOMAIN)
    assert state(client) != before
    resp = client.post("/__mock__/reset")
    assert resp.status_code == 200
    assert state(client) == before


def test_state_never_shows_a_token(client: FlaskClient) -> None:
    """The admin state endpoint is for debugging; the admin tokens are secrets and stay out of it."""
    text = json.dumps(state(client))
    assert TOKEN not in text and WELL_TOKEN not in text
