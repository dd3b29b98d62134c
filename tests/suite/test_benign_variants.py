"""The catalogue of benign variants keeps its promises: each variant does what its docstring says (and the plain
mock does not), stays a correct deployment (its account serves, writes need its token), and differs from the mock
only through HTTP. In-process, through werkzeug's test client: no server, no port."""

from __future__ import annotations

import ast
import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from mock_server import create_app

from helpers import benign_variants as bv
from helpers.benign_variants import CATALOGUE, VARIANTS, BenignVariant

DOMAIN = "vclinic.vsee.me"
TOKEN = bv.VCLINIC[1]
FORM = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
_slugs = iter(range(10**6))


def api(
    client: Client,
    method: str,
    path: str,
    account: str | None = "vclinic",
    token: str | None = None,
    **kwargs: Any,
) -> TestResponse:
    headers = {"X-AccountCode": account} if account is not None else {}
    if token:
        headers["X-ApiToken"] = token
    return client.open("/api_v3" + path, method=method, headers=headers, **kwargs)


def new_room(
    client: Client,
    token: str = TOKEN,
    account: str | None = "vclinic",
    domain: str = DOMAIN,
    content_type: str = FORM,
    **fields: Any,
) -> TestResponse:
    body = {"domain": domain, "slug": f"bv-{next(_slugs)}", "name": "Benign room", **fields}
    if content_type == "json":
        return api(client, "POST", "/rooms", account, token, json=body)
    return api(client, "POST", "/rooms", account, token, data=body, content_type=content_type)


def room_codes(client: Client, account: str = "vclinic") -> list[str]:
    return [room["code"] for room in api(client, "GET", "/rooms", account).get_json()["data"]]


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in `value`, at every depth."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from objects(item)


def is_error(resp: TestResponse, status: int, code: int | None = None) -> bool:
    body = resp.get_json(silent=True)
    return (
        resp.status_code == status
        and resp.mimetype == "application/json"
        and isinstance(body, dict)
        and body.get("code") == (status if code is None else code)
        and isinstance(body.get("message"), str)
    )


@pytest.fixture
def mock() -> Client:
    """The plain mock, as every variant builds it: what a variant must differ from."""
    return Client(create_app({"seed": 7}))


def variant(name: str, **kwargs: Any) -> Client:
    return Client(getattr(bv, name)(**kwargs))


# ---------------------------------------------------------------- the catalogue as a whole


def test_every_variant_is_catalogued_with_a_docstring_naming_the_docs_room_it_uses() -> None:
    assert set(VARIANTS) == set(CATALOGUE) and len(VARIANTS) >= 20
    for name, entry in CATALOGUE.items():
        assert VARIANTS[name] is entry.factory and entry.name == name
        assert "docs" in entry.doc and "facts §" in entry.doc and len(entry.doc) > 150, (
            f"{name}: say which legal choice and where the docs allow it"
        )
        assert entry.suite_args[:4] == ("--account-code", entry.account_code, "--api-token", entry.api_token)


def test_variants_differ_from_the_mock_only_through_http() -> None:
    """No import from mock_server but create_app, no `app.extensions`, no handler or store in sight."""
    tree = ast.parse(Path(bv.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mock_server"):
            assert node.module == "mock_server" and [a.name for a in node.names] == ["create_app"], ast.dump(node)
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("mock_server") for a in node.names), ast.dump(node)
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("extensions", "store", "HANDLERS", "rooms", "users"), ast.unparse(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "create_app":
            (config,) = node.args
            assert isinstance(config, ast.Dict), "create_app gets configuration only"


def _domain(entry: BenignVariant) -> str:
    args = entry.extra_args
    return args[args.index("--domain") + 1] if "--domain" in args else ""


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_variant_is_a_correct_deployment_of_its_account(name: str) -> None:
    """Its account's rooms are listed, a write with its token succeeds (as a form, which every variant takes),
    a write with a wrong token is refused and changes nothing."""
    entry = CATALOGUE[name]
    client = Client(entry.factory())
    listing = api(client, "GET", "/rooms", entry.account_code)
    assert listing.status_code == 200 and isinstance(listing.get_json()["data"], list), listing.data[:300]
    rooms = listing.get_json()["data"]
    domain = rooms[0]["domain"] if rooms else _domain(entry)
    made = new_room(client, entry.api_token, entry.account_code, domain)
    assert made.status_code in (200, 201), made.data[:300]
    refused = new_room(client, "0" * 32, entry.account_code, domain, slug="bv-must-not-exist")
    assert refused.status_code in (401, 403) and "code" in refused.get_json(), refused.data[:300]
    assert "bv-must-not-exist" not in str(api(client, "GET", "/rooms", entry.account_code).get_json())


# ---------------------------------------------------------------- lenient input


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"default": "AAA"}, "content_type": FORM},
        {"data": {"default": "2"}, "content_type": URLENCODED},
        {"json": {"default": {}}},
        {"json": {"default": 2}},
    ],
    ids=["multipart-AAA", "urlencoded-2", "json-object", "json-number"],
)
def test_lenient_default_accepts_any_value_of_default(mock: Client, kwargs: dict[str, Any]) -> None:
    client = variant("lenient_default")
    for target in (mock, client):
        key = "json" if "json" in kwargs else "data"
        room = {**kwargs, key: {**kwargs[key], "domain": DOMAIN, "slug": f"bv-{next(_slugs)}", "name": "n"}}
        made = api(target, "POST", "/rooms", token=TOKEN, **room)
        assoc = {**kwargs, key: {**kwargs[key], "code": "ceproom1"}}
        added = api(target, "POST", "/users/1002/rooms", token=TOKEN, **assoc)
        if target is mock:
            assert made.status_code == added.status_code == 400, "the mock refuses it: nothing to show"
        else:
            assert made.status_code == 200 and added.status_code == 200, (made.data[:200], added.data[:200])
            defaults = {r["code"]: r["default"] for r in added.get_json()["data"]}
            assert defaults["ceproom1"] is False, "a bad default counts as absent"


def test_lenient_default_keeps_a_valid_default() -> None:
    client = variant("lenient_default")
    added = api(client, "POST", "/users/1002/rooms", token=TOKEN, data={"code": "ceproom1", "default": "TRUE"})
    assert {r["code"]: r["default"] for r in added.get_json()["data"]}["ceproom1"] is True


def test_ignores_unknown_input_drops_unknown_body_fields_and_query_parameters(mock: Client) -> None:
    client = variant("ignores_unknown_input")
    extra = {"colour": "green", "X": "1"}
    assert new_room(mock, content_type="json", **extra).status_code == 400
    for content_type in (FORM, URLENCODED, "json"):
        made = new_room(client, content_type=content_type, **extra)
        assert made.status_code == 200, made.data[:300]
        assert "colour" not in made.get_json()["data"]
    added = api(client, "POST", "/users/1002/rooms", token=TOKEN, data={"code": "ceproom1", "why": "x"})
    assert added.status_code == 200
    removed = api(client, "DELETE", "/users/1002/rooms/ceproom1", token=TOKEN, json={"code": "ceproom1", "y": 1})
    assert removed.status_code == 200
    listing = api(client, "GET", "/rooms?limit=2&other=1&__code=500")
    assert listing.status_code == 200 and len(listing.get_json()["data"]) == 2


def test_ignores_unknown_input_still_refuses_bad_known_fields() -> None:
    client = variant("ignores_unknown_input")
    assert new_room(client, content_type="json", code="bad code!").status_code == 400
    assert api(client, "GET", "/rooms?limit=0").status_code == 400


def test_clamps_list_bounds_clamps_page_limit_and_start(mock: Client) -> None:
    client = variant("clamps_list_bounds")
    assert api(mock, "GET", "/rooms?limit=500").status_code == 400
    everything = room_codes(client)
    for query, expected in [
        ("limit=500", everything[:100]),
        ("limit=0", everything[:1]),
        ("limit=-3&page=0", everything[:1]),
        ("limit=2&page=-1", everything[:2]),
        ("start=-5&limit=2", everything[:2]),
    ]:
        page = api(client, "GET", f"/rooms?{query}")
        assert page.status_code == 200, (query, page.data[:200])
        assert [r["code"] for r in page.get_json()["data"]] == expected, query
    assert api(client, "GET", "/rooms?limit=abc").status_code == 400, "only out-of-range integers are clamped"


# ---------------------------------------------------------------- other legal shapes


def test_user_rooms_id_only_has_id_and_no_underscore_id(mock: Client) -> None:
    for target, has_id, has_mongo_id in ((mock, True, True), (variant("user_rooms_id_only"), True, False)):
        rooms = api(target, "POST", "/users/1002/rooms", token=TOKEN, data={"code": "ceproom1"}).get_json()["data"]
        assert rooms and all(("id" in r, "_id" in r) == (has_id, has_mongo_id) for r in rooms), rooms


def test_user_rooms_as_documented_has_underscore_id_and_sec_usec_there_only() -> None:
    client = variant("user_rooms_as_documented")
    rooms = api(client, "POST", "/users/85741/rooms", token=TOKEN, data={"code": "ceproom1"}).get_json()["data"]
    assert len(rooms) == 3
    for room in rooms:
        assert "_id" in room and "id" not in room and isinstance(room["default"], bool)
        assert set(room["created"]) == set(room["modified"]) == {"sec", "usec"}
    assert all(isinstance(r["created"], int) for r in api(client, "GET", "/rooms").get_json()["data"])
    assert isinstance(new_room(client).get_json()["data"]["created"], int)


def test_sec_usec_timestamps_everywhere() -> None:
    client = variant("sec_usec_timestamps")
    answers = [
        api(client, "GET", "/rooms").get_json()["data"],
        api(client, "GET", "/rooms/ceproom1").get_json()["data"],
        api(client, "GET", "/rooms?fields=created").get_json()["data"],
        new_room(client).get_json()["data"],
        api(client, "POST", "/users/1002/rooms", token=TOKEN, data={"code": "ceproom1"}).get_json()["data"],
    ]
    stamps = [obj[k] for answer in answers for obj in objects(answer) for k in ("created", "modified") if k in obj]
    assert len(stamps) > 20
    for stamp in stamps:
        assert isinstance(stamp, dict) and set(stamp) == {"sec", "usec"} and 0 <= stamp["usec"] <= 999_999, stamp
    assert api(client, "GET", "/rooms/ceproom1").get_json()["data"]["created"]["sec"] == 1580000000


def test_writes_answer_201_on_both_posts_and_the_room_is_there() -> None:
    client = variant("writes_answer_201")
    made = new_room(client)
    assert made.status_code == 201
    code = made.get_json()["data"]["code"]
    assert api(client, "GET", f"/rooms/{code}").status_code == 200
    assert api(client, "POST", "/users/1002/rooms", token=TOKEN, data={"code": code}).status_code == 201
    assert new_room(client, slug=made.get_json()["data"]["slug"]).status_code == 400, "errors keep their status"


def _associated_then_removed(client: Client) -> TestResponse:
    assert api(client, "POST", "/users/1002/rooms", token=TOKEN, data={"code": "ceproom1"}).status_code == 200
    removed = api(client, "DELETE", "/users/1002/rooms/ceproom1", token=TOKEN, data={"code": "ceproom1"})
    providers = api(client, "GET", "/rooms/ceproom1/providers").get_json()["data"]
    assert "1002" not in [p["id"] for p in providers], "the association must really be gone"
    return removed


def test_delete_answers_204_without_a_body(mock: Client) -> None:
    assert _associated_then_removed(mock).status_code == 200
    removed = _associated_then_removed(variant("delete_answers_204"))
    assert removed.status_code == 204 and removed.data == b"" and "Content-Type" not in removed.headers


def test_delete_answers_with_a_data_envelope() -> None:
    removed = _associated_then_removed(variant("delete_answers_with_data"))
    assert removed.status_code == 200
    assert removed.get_json() == {"data": {"user_id": "1002", "room_code": "ceproom1"}}


def test_existing_code_400_refuses_a_taken_code_with_400(mock: Client) -> None:
    for target, status in ((mock, 409), (variant("existing_code_400"), 400)):
        code = new_room(target).get_json()["data"]["code"]
        again = new_room(target, code=code)
        assert is_error(again, status), again.data[:200]
        assert api(target, "GET", f"/rooms/{code}").get_json()["data"]["name"] == "Benign room"


def test_error_code_offset_numbers_every_error_1000_plus_status() -> None:
    client = variant("error_code_offset")
    assert is_error(api(client, "GET", "/rooms/zz-none"), 404, 1404)
    assert is_error(api(client, "GET", "/rooms?limit=0"), 400, 1400)
    assert is_error(new_room(client, token=""), 401, 1401)
    assert is_error(new_room(client, token="0" * 32), 403, 1403)
    assert is_error(api(client, "GET", "/rooms", account="nosuchclinic"), 403, 1403)
    assert new_room(client).status_code == 200


@pytest.mark.parametrize("name, status", [("token_errors_401", 401), ("token_errors_403", 403)])
def test_token_errors_use_one_status_for_missing_and_wrong_tokens(mock: Client, name: str, status: int) -> None:
    assert new_room(mock, token="").status_code == 401 and new_room(mock, token="0" * 32).status_code == 403
    client = variant(name)
    before = room_codes(client)
    assert is_error(new_room(client, token=""), status)
    assert is_error(new_room(client, token="0" * 32), status)
    assert is_error(api(client, "POST", "/users/1002/rooms", data={"code": "ceproom1"}), status)
    assert is_error(api(client, "DELETE", "/users/826/rooms/ceproom1", token="0" * 32), status)
    assert room_codes(client) == before
    assert "826" in [p["id"] for p in api(client, "GET", "/rooms/ceproom1/providers").get_json()["data"]]
    assert new_room(client).status_code == 200


def test_account_code_required_refuses_requests_without_it(mock: Client) -> None:
    assert api(mock, "GET", "/rooms", account=None).status_code == 200
    client = variant("account_code_required")
    for account in (None, "", "  "):
        assert is_error(api(client, "GET", "/rooms", account=account), 403)
        assert is_error(api(client, "GET", "/rooms/ceproom1/queue", account=account), 403)
        refused = new_room(client, account=account, slug="bv-no-account")
        assert is_error(refused, 403)
    assert "bv-no-account" not in str(api(client, "GET", "/rooms").get_json())
    assert api(client, "GET", "/rooms").status_code == 200


def test_forms_only_answers_json_writes_415_and_takes_both_forms(mock: Client) -> None:
    assert new_room(mock, content_type="json").status_code == 200
    client = variant("forms_only")
    before = room_codes(client)
    assert is_error(new_room(client, content_type="json", slug="bv-json"), 415)
    assert is_error(api(client, "POST", "/users/1002/rooms", token=TOKEN, json={"code": "ceproom1"}), 415)
    assert is_error(api(client, "DELETE", "/users/826/rooms/ceproom1", token=TOKEN, json={"code": "ceproom1"}), 415)
    assert room_codes(client) == before, "a refused write changes nothing"
    for content_type in (FORM, URLENCODED):
        assert new_room(client, content_type=content_type).status_code == 200
    assert api(client, "DELETE", "/users/826/rooms/ceproom1", token=TOKEN).status_code == 200, "no body: fine"


def test_throttling_refuses_every_nth_api_request_with_429_and_retry_after() -> None:
    client = variant("throttling", every=3)
    statuses = []
    for i in range(9):
        if i == 5:
            write = new_room(client, slug="bv-throttled")  # the 6th request: throttled, so not passed on
            statuses.append(write.status_code)
            assert is_error(write, 429) and write.headers["Retry-After"] == "1"
        else:
            statuses.append(api(client, "GET", "/rooms/ceproom1").status_code)
    assert statuses == [200, 200, 429] * 3
    assert client.get("/__mock__/state").status_code == 200, "non-API paths are not counted"
    listing = [api(client, "GET", "/rooms") for _ in range(3)]
    assert [r.status_code for r in listing].count(429) == 1
    assert all("bv-throttled" not in str(r.get_json()) for r in listing)


def test_throttling_reads_its_knobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bv.THROTTLE_EVERY_ENV, "2")
    monkeypatch.setenv(bv.RETRY_AFTER_ENV, "3")
    client = variant("throttling")
    first, second = api(client, "GET", "/rooms"), api(client, "GET", "/rooms")
    assert first.status_code == 200 and second.status_code == 429 and second.headers["Retry-After"] == "3"


def test_rate_limited_lets_a_seconds_worth_through_then_answers_429_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(bv.RATE_ENV, "5")
    client = variant("rate_limited")
    burst = [api(client, "GET", "/rooms/ceproom1") for _ in range(5)]
    refused = new_room(client, slug="bv-limited")
    assert [r.status_code for r in burst] == [200] * 5
    assert is_error(refused, 429) and refused.headers["Retry-After"] == "1"
    assert client.get("/__mock__/state").status_code == 200, "non-API paths are not limited"
    time.sleep(0.25)  # a token back (5 per second)
    listing = api(client, "GET", "/rooms")
    assert listing.status_code == 200 and "bv-limited" not in str(listing.get_json()), "a refused write changes nothing"


def _elapsed(client: Client) -> float:
    started = time.perf_counter()
    assert api(client, "GET", "/rooms/ceproom1").status_code == 200
    return time.perf_counter() - started


def test_slow_delays_every_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _elapsed(variant("slow", delay_ms=60)) >= 0.06
    monkeypatch.setenv(bv.SLOW_MS_ENV, "30")
    assert _elapsed(variant("slow")) >= 0.03
    monkeypatch.delenv(bv.SLOW_MS_ENV)
    assert _elapsed(variant("slow")) >= 0.15, "150 ms unless told otherwise"


def _without_new_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_new_fields(v) for k, v in value.items() if k not in bv.NEW_FIELDS}
    if isinstance(value, list):
        return [_without_new_fields(v) for v in value]
    return value


def test_evolving_adds_fields_to_every_object_and_changes_nothing_else(mock: Client) -> None:
    client = variant("evolving")
    reads = [
        "/rooms",
        "/rooms?limit=2",
        "/rooms/ceproom1",
        "/rooms/ceproom1/providers",
        "/rooms/ceproom1/providers/826",
        "/rooms/ceproom1/queue",
        "/rooms/zz-none",
        "/rooms?limit=0",
    ]
    for path in reads:
        grown, plain = api(client, "GET", path), api(mock, "GET", path)
        assert grown.status_code == plain.status_code, path
        body = grown.get_json()
        assert all(set(bv.NEW_FIELDS) <= set(obj) for obj in objects(body) if obj != bv.NEW_FIELDS["x_new_object"]), (
            path
        )
        assert _without_new_fields(body) == plain.get_json(), path
    removed = _associated_then_removed(client)
    assert removed.status_code == 200 and _without_new_fields(removed.get_json()) == {}
    assert set(bv.NEW_FIELDS) <= set(removed.get_json())


# ---------------------------------------------------------------- out-of-contract requests; between client and API


def test_own_way_out_of_contract_answers_what_the_mock_refuses(mock: Client) -> None:
    client, whole = variant("own_way_out_of_contract"), room_codes(mock)
    for query in ("limit=0&start=-1", "limit=-3", "limit=500&page=2", "q=a", "sort=bad"):
        assert api(mock, "GET", f"/rooms?{query}").status_code == 400, query
        answer = api(client, "GET", f"/rooms?{query}")
        assert answer.status_code == 200 and [r["code"] for r in answer.get_json()["data"]] == whole, query
    assert len(api(client, "GET", "/rooms?limit=2&page=0").get_json()["data"]) == 2
    assert new_room(client, content_type="json", default={}, extra=1).status_code == 200


def test_lagging_lists_show_a_write_only_once_the_cached_answer_expires() -> None:
    client = variant("lagging_lists", lag_ms=300)
    before = room_codes(client)
    code = new_room(client).get_json()["data"]["code"]
    assert api(client, "GET", f"/rooms/{code}").status_code == 200  # the detail is live
    cached = api(client, "GET", "/rooms")
    assert [r["code"] for r in cached.get_json()["data"]] == before and cached.headers["X-Cache"] == "HIT"
    time.sleep(0.35)
    assert code in room_codes(client)


def test_compressing_gateway_gzips_for_clients_that_accept_it(mock: Client) -> None:
    client = variant("compressing_gateway")
    zipped = client.get("/api_v3/rooms", headers={"X-AccountCode": "vclinic", "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == api(mock, "GET", "/rooms").get_json()
    assert "Content-Encoding" not in api(client, "GET", "/rooms").headers


def test_streaming_proxy_sends_no_content_length(mock: Client) -> None:
    streamed = api(variant("streaming_proxy"), "GET", "/rooms")
    assert "Content-Length" not in streamed.headers and streamed.get_json() == api(mock, "GET", "/rooms").get_json()


def test_load_balancer_headers_on_every_answer() -> None:
    client = variant("load_balancer_headers")
    for answer in (api(client, "GET", "/rooms"), api(client, "GET", "/rooms/zz-none"), new_room(client)):
        assert {k for k, _ in bv.GATEWAY_HEADERS} | {"X-Request-Id"} <= set(answer.headers.keys()), answer.headers


def test_reserializing_gateway_escapes_sorts_and_indents_the_same_json(mock: Client) -> None:
    client = variant("reserializing_gateway")
    assert api(client, "GET", "/rooms").get_json() == api(mock, "GET", "/rooms").get_json()
    made = new_room(client, name="Zoë 🎉")
    assert made.headers["Content-Type"] == "application/json; charset=utf-8"
    assert b"Zo\\u00eb" in made.data and b"\n  " in made.data and made.get_json()["data"]["name"] == "Zoë 🎉"


# ---------------------------------------------------------------- different data


def test_other_clinic_has_its_own_account_token_domain_and_id_lengths() -> None:
    entry = CATALOGUE["other_clinic"]
    client = Client(entry.factory())
    account, token, domain = bv.OTHER_CLINIC
    rooms = api(client, "GET", "/rooms", account).get_json()["data"]
    assert {r["code"] for r in rooms} == set(bv.OTHER_ROOM_CODES.values())
    assert {len(r["code"]) for r in rooms} >= {1, 2, 16, 55} and {r["domain"] for r in rooms} == {domain}
    providers = api(client, "GET", "/rooms/clinic.main-room_with.a.very.long.code.0123456789abcdef/providers", account)
    assert {p["id"] for p in providers.get_json()["data"]} == {"900000000001", "31"}
    assert api(client, "GET", "/rooms/q/providers/7", account).status_code == 200
    assert api(client, "GET", "/rooms", "vclinic").status_code == 403, "the default fixture account is not there"
    assert new_room(client, TOKEN, account, domain).status_code == 403, "vclinic's token is no good here"
    assert new_room(client, token, account, domain).status_code == 200
    assert api(client, "POST", "/users/7/rooms", account, token, data={"code": "z"}).status_code == 200


def test_empty_clinic_has_users_but_no_rooms_until_one_is_made() -> None:
    entry = CATALOGUE["empty_clinic"]
    client = Client(entry.factory())
    account, token, domain = bv.EMPTY_CLINIC
    assert entry.extra_args == ("--domain", domain, "--user-id", bv.EMPTY_CLINIC_USER)
    assert api(client, "GET", "/rooms", account).get_json()["data"] == []
    code = new_room(client, token, account, domain).get_json()["data"]["code"]
    added = api(client, "POST", f"/users/{bv.EMPTY_CLINIC_USER}/rooms", account, token, data={"code": code})
    assert added.status_code == 200 and [r["code"] for r in added.get_json()["data"]] == [code]
    providers = api(client, "GET", f"/rooms/{code}/providers", account).get_json()["data"]
    assert bv.EMPTY_CLINIC_USER in [p["id"] for p in providers]


def test_single_provider_clinic_has_one_provider_in_every_room() -> None:
    client = variant("single_provider")
    account = bv.SOLO_CLINIC[0]
    codes = room_codes(client, account)
    assert len(codes) == 6
    for code in codes:
        assert [p["id"] for p in api(client, "GET", f"/rooms/{code}/providers", account).get_json()["data"]] == [
            "85741"
        ]
    assert (
        api(client, "POST", "/users/1002/rooms", account, bv.SOLO_CLINIC[1], data={"code": codes[0]}).status_code == 404
    )
