"""The model of the documented semantics (contract_tests.model): each method, fed what was sent and what came back,
names the right rule and the right problem, and accepts every answer the docs leave open."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.model import Check, ClinicModel, Room
from contract_tests.test_model_based import VIEW_CHECKS
from vsee_contract import rules
from vsee_contract.operations import View

DOMAIN = "clinic.example"
USER = "7"
WHOLE = ["r1", "r2", "r3", "r4", "r5"]  # the whole list, as codes, for the page tests (limit 2: 2 + 2 + 1)


def sent(slug: str, name: str = "Room", domain: str = DOMAIN, code: str | None = None) -> dict[str, str]:
    """A POST /rooms body."""
    return {"domain": domain, "slug": slug, "name": name} | ({} if code is None else {"code": code})


def created(code: str, **fields: Any) -> dict[str, Any]:
    """A POST /rooms answer."""
    return {"data": {"code": code, **fields}}


def error(message: str = "refused", code: int = 400) -> dict[str, Any]:
    """The documented error body."""
    return {"code": code, "message": message}


def clinic() -> ClinicModel:
    """A model that created room A (code `ca`, slug `room-a`) and room B (code `cb`, slug `room-b`)."""
    model = ClinicModel()
    assert model.create(sent("room-a", "Alpha"), 201, created("ca")) == [(rules.VALID_WRITE_ACCEPTED, [])]
    assert model.create(sent("room-b", "Beta"), 201, created("cb")) == [(rules.VALID_WRITE_ACCEPTED, [])]
    return model


def item(room: Room, **changes: Any) -> dict[str, Any]:
    """A room as GET /rooms or GET /rooms/{code} shows it: what was sent, with `changes`."""
    return {"code": room.code, "slug": room.slug, "domain": room.domain, "name": room.name} | changes


def flagged(*rooms: tuple[str, bool]) -> list[dict[str, Any]]:
    """A user's rooms as POST /users/{id}/rooms lists them, each with its `default` flag."""
    return [{"code": code, "default": default} for code, default in rooms]


def problems(checks: list[Check], rule: str) -> list[str]:
    """The problems found under `rule` (which must have been checked)."""
    assert rule in [name for name, _ in checks], f"{rule} not checked: {checks}"
    return [problem for name, found in checks if name == rule for problem in found]


def user_rooms(
    listed: list[str] | None = None, refused: list[str] | None = None, as_sent: list[str] | None = None
) -> list[Check]:
    """check_user_rooms' first three checks, always all: problems of the associations themselves, those a write
    refused for its token caused, and rooms of the run shown otherwise than sent."""
    return [
        (rules.ASSOCIATION_LISTED, listed or []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, refused or []),
        (rules.LIST_AGREES_WITH_DETAIL, as_sent or []),
    ]


def associated(model: ClinicModel, *codes: str) -> None:
    """USER associated (without default) with `codes`, each answer listing the rooms so far."""
    for n, code in enumerate(codes, 1):
        answer = {"data": [{"code": c} for c in codes[:n]]}
        assert model.associate(USER, code, None, 200, answer) == [(rules.VALID_WRITE_ACCEPTED, []), *user_rooms()]


# ------------------------------------------------------------------------------------------------------------- create


@pytest.mark.parametrize("status", [200, 201])
def test_create_records_the_sent_room_under_the_answered_code(status: int) -> None:
    """Both documented successes create the room; the model keeps what was sent (its echo is judged elsewhere)."""
    model = ClinicModel()
    checks = model.create(sent("room-a", "Alpha"), status, created("srv1", name="Whatever", slug="other"))
    assert checks == [(rules.VALID_WRITE_ACCEPTED, [])]
    assert model.rooms == {"srv1": Room("srv1", "room-a", DOMAIN, "Alpha")}


@pytest.mark.parametrize("status", [400, 409, 422])
def test_create_of_a_fresh_slug_refused_is_a_problem_and_records_nothing(status: int) -> None:
    """A valid new room must be accepted; a refusal must not leave the model expecting the room."""
    model = ClinicModel()
    checks = model.create(sent("room-a"), status, error())
    assert checks == [(rules.VALID_WRITE_ACCEPTED, [f"a new room with a fresh slug was refused with {status}"])]
    assert model.rooms == {}


def test_create_of_a_taken_slug_refused_with_400_naming_it_holds() -> None:
    """The docs fix 400 with a message naming the slug for a duplicate slug in the domain."""
    model = clinic()
    checks = model.create(sent("room-a", "Twin"), 400, error("slug room-a is already taken"))
    assert checks == [(rules.DUPLICATE_SLUG_REFUSED, [])]
    assert sorted(model.rooms) == ["ca", "cb"]


def test_create_of_a_taken_slug_accepted_is_a_problem_and_adds_no_room() -> None:
    """A duplicate slug answered 200 breaks the rule, and the model does not count the twin as a room of the run."""
    model = clinic()
    checks = model.create(sent("room-a", "Twin"), 200, created("twin"))
    assert checks == [(rules.DUPLICATE_SLUG_REFUSED, ["duplicate slug 'room-a' answered 200, expected 400"])]
    assert sorted(model.rooms) == ["ca", "cb"]


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (409, error("slug room-a is taken", 409), "duplicate slug 'room-a' answered 409, expected 400"),
        (400, error("slug already taken"), "duplicate-slug message does not name the slug: 'slug already taken'"),
        (400, "taken", "400 body is not a JSON object: 'taken'"),
    ],
)
def test_create_of_a_taken_slug_refused_otherwise_is_a_problem(status: int, body: Any, problem: str) -> None:
    """Only 400 with the error body naming the slug is documented for a duplicate slug."""
    assert clinic().create(sent("room-a"), status, body) == [(rules.DUPLICATE_SLUG_REFUSED, [problem])]


def test_create_of_the_same_slug_in_another_domain_is_a_new_room() -> None:
    """Slugs are unique per domain only."""
    model = clinic()
    assert model.create(sent("room-a", "Elsewhere", domain="other.example"), 201, created("cz")) == [
        (rules.VALID_WRITE_ACCEPTED, [])
    ]
    assert model.rooms["cz"] == Room("cz", "room-a", "other.example", "Elsewhere")
    assert len(model.rooms) == 3


@pytest.mark.parametrize("status", [400, 409, 422])
def test_create_with_a_taken_code_accepts_any_4xx(status: int) -> None:
    """The docs name no status for a taken code: every 4xx with the error body is a legal refusal."""
    model = clinic()
    assert model.create(sent("fresh", code="ca"), status, error(code=status)) == [(rules.EXISTING_CODE_REFUSED, [])]
    assert sorted(model.rooms) == ["ca", "cb"]


@pytest.mark.parametrize("status", [200, 201])
def test_create_with_a_taken_code_accepted_is_a_problem(status: int) -> None:
    """A second room must not get a code already in use; the first room stays as it was."""
    model = clinic()
    checks = model.create(sent("fresh", code="ca"), status, created("ca"))
    assert checks == [(rules.EXISTING_CODE_REFUSED, [f"existing code 'ca': answered {status}, expected a 4xx"])]
    assert model.rooms["ca"] == Room("ca", "room-a", DOMAIN, "Alpha")


@pytest.mark.parametrize("status", [200, 201])
def test_create_of_a_new_room_answered_with_a_code_the_run_already_has_is_a_problem(status: int) -> None:
    """Accepting a new room is right, but giving it the code of another room of the run is not; the model keeps the
    room that had the code (a later read of either room would otherwise be judged against the wrong one)."""
    model = clinic()
    checks = model.create(sent("fresh", "Fresh"), status, created("ca"))
    assert checks == [
        (rules.VALID_WRITE_ACCEPTED, []),
        (rules.EXISTING_CODE_REFUSED, ["the new room 'fresh' got code 'ca', which room 'room-a' has"]),
    ]
    assert model.rooms == {
        "ca": Room("ca", "room-a", DOMAIN, "Alpha"),
        "cb": Room("cb", "room-b", DOMAIN, "Beta"),
    }
    assert model.twin_of(DOMAIN, "fresh") is None


# ---------------------------------------------------------------------------------------------- refused_without_token


@pytest.mark.parametrize("status", [401, 403])
def test_refused_without_token_accepts_401_and_403(status: int) -> None:
    """Both statuses the docs use for a missing or wrong token."""
    assert ClinicModel().refused_without_token(status, error(code=status)) == [(rules.WRITES_NEED_TOKEN, [])]


@pytest.mark.parametrize(("status", "body"), [(200, created("x")), (404, error(code=404))])
def test_refused_without_token_rejects_anything_else(status: int, body: Any) -> None:
    """A write without the admin token must be refused for the token, not done nor answered as not found."""
    assert ClinicModel().refused_without_token(status, body) == [
        (rules.WRITES_NEED_TOKEN, [f"a write without a valid token answered {status}"])
    ]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("Unauthorized", ["401 body is not a JSON object: 'Unauthorized'"]),
        ({"error": "no"}, ["401 body has no integer 'code'", "401 body has no string 'message'"]),
    ],
)
def test_refused_without_token_needs_the_error_body(body: Any, found: list[str]) -> None:
    """The refusal carries the documented `{code, message}` body."""
    assert ClinicModel().refused_without_token(401, body) == [(rules.WRITES_NEED_TOKEN, found)]


# ---------------------------------------------------------------------------------------------------------- associate


def test_associate_then_an_answer_lacking_an_earlier_room_is_a_problem() -> None:
    """The user's rooms list every room the user was associated with, not only the last one."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", None, 200, {"data": [{"code": "cb"}]})
    assert checks == [(rules.VALID_WRITE_ACCEPTED, []), *user_rooms([f"room 'ca' missing from user {USER}'s rooms"])]


def test_associate_answered_4xx_is_a_problem_and_records_nothing() -> None:
    """A valid association must be accepted; a refused one must not be expected afterwards."""
    model = clinic()
    checks = model.associate(USER, "ca", True, 400, error())
    assert checks == [(rules.VALID_WRITE_ACCEPTED, [f"associating user {USER} with room ca answered 400"])]
    assert model.associations() == []
    assert model.check_user_rooms(USER, [], None) == user_rooms()


def test_associate_as_default_with_two_defaults_answered_is_a_problem() -> None:
    """default=true leaves exactly the room just set as the default (one check, not a count beside it)."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", True, 200, {"data": flagged(("ca", True), ("cb", True))})
    assert checks == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms(),
        (rules.DEFAULT_EXCLUSIVE, ["default rooms are ['ca', 'cb'], expected exactly ['cb']"]),
    ]


@pytest.mark.parametrize(
    ("rooms", "defaults"),
    [((("ca", True), ("cb", False)), ["ca"]), ((("ca", False), ("cb", False)), [])],
)
def test_associate_as_default_with_another_or_no_room_default_is_a_problem(
    rooms: tuple[tuple[str, bool], ...], defaults: list[str]
) -> None:
    """At most one default is not enough after default=true: it must be the room just set."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", True, 200, {"data": flagged(*rooms)})
    assert checks == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms(),
        (rules.DEFAULT_EXCLUSIVE, [f"default rooms are {defaults}, expected exactly ['cb']"]),
    ]


def test_associate_as_default_answered_with_only_that_room_default_holds() -> None:
    """The documented outcome of default=true."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", True, 200, {"data": flagged(("ca", False), ("cb", True))})
    assert checks == [(rules.VALID_WRITE_ACCEPTED, []), *user_rooms(), (rules.DEFAULT_EXCLUSIVE, [])]


def test_associate_as_default_without_flags_on_the_rooms_checks_no_default() -> None:
    """With `default` beside `data` nothing about the default was judged, so the rule must not be reported as held."""
    model = clinic()
    associated(model, "ca")
    rooms: list[dict[str, Any]] = [{"code": "ca"}, {"code": "cb"}]
    assert model.associate(USER, "cb", True, 200, {"data": rooms, "default": "cb"}) == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms(),
    ]


@pytest.mark.parametrize("default", [False, None])
def test_associate_without_default_true_claims_no_exact_default(default: bool | None) -> None:
    """What default=false (or no default) does to the current default is undocumented: any one default is fine."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", default, 200, {"data": flagged(("ca", True), ("cb", False))})
    assert checks == [(rules.VALID_WRITE_ACCEPTED, []), *user_rooms(), (rules.DEFAULT_EXCLUSIVE, [])]


@pytest.mark.parametrize("default", [False, None])
def test_associate_without_default_true_still_allows_at_most_one_default(default: bool | None) -> None:
    """At most one of a user's rooms is the default, whatever the write said."""
    model = clinic()
    associated(model, "ca")
    checks = model.associate(USER, "cb", default, 200, {"data": flagged(("ca", True), ("cb", True))})
    assert checks == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms(),
        (rules.DEFAULT_EXCLUSIVE, [f"user {USER} has 2 default rooms: ['ca', 'cb']"]),
    ]


@pytest.mark.parametrize("default", [False, None])
def test_the_default_moves_only_when_asked(default: bool | None) -> None:
    """Once the run made `ca` the user's default, an association of another room without default=true keeps it."""
    model = clinic()
    model.associate(USER, "ca", True, 200, {"data": flagged(("ca", True))})
    kept = model.associate(USER, "cb", default, 200, {"data": flagged(("ca", True), ("cb", False))})
    assert kept[-1] == (rules.DEFAULT_MOVES_ONLY_WHEN_ASKED, [])
    moved = model.associate(USER, "cc", default, 200, {"data": flagged(("ca", False), ("cb", False), ("cc", True))})
    why = f"associating room 'cc' with default={default}"
    assert moved[-1] == (
        rules.DEFAULT_MOVES_ONLY_WHEN_ASKED,
        [f"default rooms are ['cc'] after {why}; room 'ca' was the default and nobody moved it"],
    )


def test_the_default_is_unknown_once_its_room_is_removed_or_unset() -> None:
    """Removing the default room, or default=false on it, leaves the default undocumented: nothing is predicted."""
    model = clinic()
    model.associate(USER, "ca", True, 200, {"data": flagged(("ca", True))})
    model.remove(USER, "ca", 200)
    after = model.associate(USER, "cb", None, 200, {"data": flagged(("cb", True))})
    assert rules.DEFAULT_MOVES_ONLY_WHEN_ASKED not in [rule for rule, _ in after]
    model.associate(USER, "cb", True, 200, {"data": flagged(("cb", True))})
    unset = model.associate(USER, "cb", False, 200, {"data": flagged(("cb", False))})
    assert rules.DEFAULT_MOVES_ONLY_WHEN_ASKED not in [rule for rule, _ in unset]


def test_the_users_rooms_show_the_runs_rooms_as_sent() -> None:
    """The answer listing a user's rooms shows each room of the run with the name it was created with, unchanged."""
    model = clinic()
    shown = [{"code": "ca", "name": "A &amp; B"}]
    checks = model.check_user_rooms(USER, shown, None)
    (found,) = [problems for rule, problems in checks if rule == rules.LIST_AGREES_WITH_DETAIL]
    assert found == [f"user {USER}'s rooms shows room 'ca' with name='A &amp; B', sent {model.rooms['ca'].name!r}"]


# ------------------------------------------------------------------------------------------------------------- remove


@pytest.mark.parametrize("status", [200, 204])
def test_remove_answered_200_or_204_removes_the_association(status: int) -> None:
    """Both documented successes; afterwards the room must no longer be among the user's rooms."""
    model = clinic()
    associated(model, "ca", "cb")
    assert model.remove(USER, "ca", status) == [(rules.VALID_WRITE_ACCEPTED, [])]
    assert model.associations() == [(USER, "cb")]
    assert model.check_user_rooms(USER, [{"code": "ca"}, {"code": "cb"}], None) == user_rooms(
        [f"room 'ca' among user {USER}'s rooms, who is no provider of it"]
    )
    assert model.check_user_rooms(USER, [{"code": "cb"}], None) == user_rooms()


def test_remove_answered_404_is_a_problem_and_keeps_the_association() -> None:
    """Removing an association this run made must succeed; the model still expects it when it did not."""
    model = clinic()
    associated(model, "ca")
    assert model.remove(USER, "ca", 404) == [
        (rules.VALID_WRITE_ACCEPTED, [f"removing user {USER} from room ca answered 404"])
    ]
    assert model.associations() == [(USER, "ca")]
    assert model.check_user_rooms(USER, [], None) == user_rooms([f"room 'ca' missing from user {USER}'s rooms"])


def test_reassociating_after_a_removal_expects_the_room_again() -> None:
    """A removal is undone by a later association: the room is then expected, not forbidden."""
    model = clinic()
    associated(model, "ca")
    model.remove(USER, "ca", 204)
    assert model.associate(USER, "ca", None, 201, {"data": []}) == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms([f"room 'ca' missing from user {USER}'s rooms"]),
    ]


# --------------------------------------------------------------------------------------------------- check_user_rooms


def test_check_user_rooms_ignores_rooms_the_run_did_not_touch() -> None:
    """A user may have any other rooms (and one default among them)."""
    model = clinic()
    associated(model, "ca")
    rooms = [{"code": "ca", "default": False}, {"code": "foreign", "default": True}]
    assert model.check_user_rooms(USER, rooms, None) == [*user_rooms(), (rules.DEFAULT_EXCLUSIVE, [])]


@pytest.mark.parametrize("made_default", [None, "cb"])
def test_check_user_rooms_without_flags_checks_no_default(made_default: str | None) -> None:
    """The docs' other reading puts `default` beside `data`, which says nothing about which room is the default."""
    model = clinic()
    associated(model, "ca", "cb")
    assert model.check_user_rooms(USER, [{"code": "ca"}, {"code": "cb"}], made_default) == user_rooms()


@pytest.mark.parametrize(
    ("rooms", "found"),
    [
        ((("ca", False), ("cb", True)), []),
        ((("ca", True), ("cb", False)), ["default rooms are ['ca'], expected exactly ['cb']"]),
        ((("ca", True), ("cb", True)), ["default rooms are ['ca', 'cb'], expected exactly ['cb']"]),
    ],
)
def test_check_user_rooms_after_default_true_judges_exactly_that_default(
    rooms: tuple[tuple[str, bool], ...], found: list[str]
) -> None:
    """The room just made default is the only default, judged once under the exact rule."""
    model = clinic()
    associated(model, "ca", "cb")
    assert model.check_user_rooms(USER, flagged(*rooms), "cb") == [*user_rooms(), (rules.DEFAULT_EXCLUSIVE, found)]


@pytest.mark.parametrize(
    ("rooms", "found"),
    [
        ((("ca", False), ("cb", False)), []),
        ((("ca", False), ("cb", True)), []),
        ((("ca", True), ("cb", True)), [f"user {USER} has 2 default rooms: ['ca', 'cb']"]),
    ],
)
def test_check_user_rooms_without_a_new_default_allows_at_most_one(
    rooms: tuple[tuple[str, bool], ...], found: list[str]
) -> None:
    """Without default=true no room is predicted to be the default: none or one is fine, two are not."""
    model = clinic()
    associated(model, "ca", "cb")
    assert model.check_user_rooms(USER, flagged(*rooms), None) == [*user_rooms(), (rules.DEFAULT_EXCLUSIVE, found)]


def test_check_user_rooms_listing_a_room_whose_association_was_refused_is_a_refused_write_problem() -> None:
    """An association refused for its token must not have been made: the fault is the refused write's."""
    model = clinic()
    model.unauthorised_association("8", "ca")
    assert model.check_user_rooms("8", [{"code": "ca"}], None) == user_rooms(
        refused=["room 'ca' among user 8's rooms, who is no provider of it"]
    )
    assert model.check_user_rooms("8", [], None) == user_rooms()


def test_check_user_rooms_missing_a_room_whose_removal_was_refused_is_a_refused_write_problem() -> None:
    """A removal refused for its token must not have removed anything."""
    model = clinic()
    associated(model, "ca")
    model.unauthorised_removal(USER, "ca")
    assert model.check_user_rooms(USER, [], None) == user_rooms(refused=[f"room 'ca' missing from user {USER}'s rooms"])
    assert model.check_user_rooms(USER, [{"code": "ca"}], None) == user_rooms()


def test_check_user_rooms_splits_the_problems_between_the_two_rules() -> None:
    """In one answer, a removal that did not happen is the association's fault, a refused removal that did happen
    is the refused write's."""
    model = clinic()
    associated(model, "ca", "cb")
    model.remove(USER, "cb", 204)
    model.unauthorised_removal(USER, "ca")
    assert model.check_user_rooms(USER, [{"code": "cb"}], None) == user_rooms(
        [f"room 'cb' among user {USER}'s rooms, who is no provider of it"],
        [f"room 'ca' missing from user {USER}'s rooms"],
    )


def test_check_user_rooms_after_a_valid_write_blames_the_association_again() -> None:
    """A later successful write of the same pair supersedes the refused one: its outcome is the association's."""
    model = clinic()
    model.unauthorised_association("8", "ca")
    assert model.associate("8", "ca", None, 200, {"data": []}) == [
        (rules.VALID_WRITE_ACCEPTED, []),
        *user_rooms(["room 'ca' missing from user 8's rooms"]),
    ]
    model.unauthorised_removal("8", "ca")
    assert model.remove("8", "ca", 204) == [(rules.VALID_WRITE_ACCEPTED, [])]
    assert model.check_user_rooms("8", [{"code": "ca"}], None) == user_rooms(
        ["room 'ca' among user 8's rooms, who is no provider of it"]
    )


# ------------------------------------------------------------------------------------------------------- check_detail


def test_check_detail_of_an_own_room_with_what_was_sent_holds() -> None:
    """A created room reads back with the code, slug, domain and name it was created with."""
    model = clinic()
    assert model.check_detail("ca", 200, item(model.rooms["ca"], active=True)) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.CREATED_ROOM_READABLE, []),
        (rules.CREATED_ROOM_ECHOES_INPUT, []),
    ]


def test_check_detail_of_an_own_room_with_another_name_is_a_problem() -> None:
    """The detail must show what was sent."""
    model = clinic()
    checks = model.check_detail("ca", 200, item(model.rooms["ca"], name="Other"))
    assert problems(checks, rules.CREATED_ROOM_ECHOES_INPUT) == ["room 'ca' has name='Other', sent 'Alpha'"]


def test_check_detail_of_an_own_room_answered_404_is_a_problem() -> None:
    """A room this run created (and nobody else may delete in its clinic) must be readable."""
    assert clinic().check_detail("ca", 404, None) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.CREATED_ROOM_READABLE, ["GET /rooms/ca answered 404"]),
    ]


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("code", ["ca", "foreign"])
def test_check_detail_refused_for_a_token_is_a_problem_for_any_room(status: int, code: str) -> None:
    """Reading a room needs no token."""
    checks = clinic().check_detail(code, status, None)
    assert problems(checks, rules.PUBLIC_READS_OPEN) == [f"GET /rooms/{code} answered {status} without a token"]


def test_check_detail_of_a_room_the_run_did_not_create_may_be_gone() -> None:
    """Other clients may delete their rooms at any time."""
    assert clinic().check_detail("foreign", 404, None) == [(rules.PUBLIC_READS_OPEN, [])]


# --------------------------------------------------------------------------------------------------------- check_list


def test_check_list_with_every_own_room_once_holds() -> None:
    """The documented list: each room of the run once, as sent, in any order, among any other rooms."""
    model = clinic()
    items = [
        item(model.rooms["cb"]),
        {"code": "f", "slug": "f", "domain": "x", "name": "Foreign"},
        item(model.rooms["ca"]),
    ]
    assert model.check_list(items) == [
        (rules.CREATED_ROOM_READABLE, []),
        (rules.LIST_AGREES_WITH_DETAIL, []),
        (rules.SLUG_UNIQUE_PER_DOMAIN, []),
    ]  # no creation was refused: nothing here could break refused-write-changes-nothing


def test_check_list_missing_an_own_room_is_a_problem() -> None:
    """A created room appears in GET /rooms."""
    model = clinic()
    checks = model.check_list([item(model.rooms["cb"])])
    assert problems(checks, rules.CREATED_ROOM_READABLE) == ["room 'ca' appears 0 times in GET /rooms"]


def test_check_list_with_an_own_room_twice_is_a_problem() -> None:
    """Exactly once: a room listed twice also repeats its slug in the domain."""
    model = clinic()
    checks = model.check_list([item(model.rooms["ca"]), item(model.rooms["ca"]), item(model.rooms["cb"])])
    assert problems(checks, rules.CREATED_ROOM_READABLE) == ["room 'ca' appears 2 times in GET /rooms"]
    assert problems(checks, rules.SLUG_UNIQUE_PER_DOMAIN) == [f"slug 'room-a' appears 2 times in domain '{DOMAIN}'"]


def test_check_list_with_an_own_room_under_another_name_is_a_problem() -> None:
    """The list shows a room as its detail does."""
    model = clinic()
    checks = model.check_list([item(model.rooms["ca"], name="Other"), item(model.rooms["cb"])])
    assert problems(checks, rules.LIST_AGREES_WITH_DETAIL) == [
        "GET /rooms shows room 'ca' with name='Other', sent 'Alpha'"
    ]


def test_check_list_item_omitting_the_name_is_no_disagreement() -> None:
    """A summary may leave a field out; only a field shown differently disagrees."""
    model = clinic()
    shown = {"code": "ca", "slug": "room-a", "domain": DOMAIN}
    assert problems(model.check_list([shown, item(model.rooms["cb"])]), rules.LIST_AGREES_WITH_DETAIL) == []


def test_check_list_with_a_slug_twice_in_a_domain_is_a_problem() -> None:
    """Slugs are unique per domain, whoever's rooms they are."""
    twins = [{"code": "f1", "slug": "s", "domain": "x"}, {"code": "f2", "slug": "s", "domain": "x"}]
    other = {"code": "f3", "slug": "s", "domain": "y"}
    checks = ClinicModel().check_list([*twins, other])
    assert problems(checks, rules.SLUG_UNIQUE_PER_DOMAIN) == ["slug 's' appears 2 times in domain 'x'"]


def test_check_list_with_a_room_whose_creation_was_refused_is_a_problem() -> None:
    """A creation refused for its token must not have happened."""
    model = clinic()
    model.unauthorised_create(sent("ghost"))
    items = [item(model.rooms["ca"]), item(model.rooms["cb"]), {"code": "g", "slug": "ghost", "domain": DOMAIN}]
    assert problems(model.check_list(items), rules.REFUSED_WRITE_CHANGES_NOTHING) == [
        "room with slug 'ghost' exists though its creation was refused"
    ]


def test_check_list_judges_nothing_of_foreign_rooms_but_their_slugs() -> None:
    """Rooms of other clients may have any fields; the run knows nothing of them."""
    items = [
        {"code": "f1", "slug": "one", "domain": "x", "name": "Anything", "extra": [1]},
        {"code": "f2", "slug": "two", "domain": "x", "name": ""},
    ]
    # and a run that created nothing (a read-only one) checks only what the list can show of any room
    assert ClinicModel().check_list(items) == [(rules.SLUG_UNIQUE_PER_DOMAIN, [])]


# --------------------------------------------------------------------------------------------------------- check_page


def page_of(*codes: str) -> list[dict[str, str]]:
    return [{"code": code} for code in codes]


@pytest.mark.parametrize(("page", "codes"), [(1, ["r4", "r2"]), (2, ["r5", "r1"]), (3, ["r3"]), (None, ["r1", "r2"])])
def test_check_page_of_a_stable_list_holds_its_slice_size(page: int | None, codes: list[str]) -> None:
    """Page p holds the p-th `limit` items of the list, in the deployment's own (undocumented) order."""
    assert ClinicModel().check_page(page_of(*codes), page, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, []),
    ]


def test_check_page_with_one_item_too_many_is_a_problem() -> None:
    """No page holds more than `limit` items."""
    checks = ClinicModel().check_page(page_of("r1", "r2", "r3"), 1, 2, WHOLE, WHOLE)
    assert problems(checks, rules.PAGE_WITHIN_LIMIT) == ["page has 3 items, limit was 2"]
    assert problems(checks, rules.PAGES_PARTITION_LIST) == ["page 1 (limit 2) of 5 rooms holds 3, not 2"]


@pytest.mark.parametrize(("page", "codes", "expected"), [(2, ["r3"], 2), (3, ["r3", "r4"], 1)])
def test_check_page_of_the_wrong_size_is_a_problem(page: int, codes: list[str], expected: int) -> None:
    """A middle page is full and the last holds what is left: no room is skipped or shown twice across pages."""
    checks = ClinicModel().check_page(page_of(*codes), page, 2, WHOLE, WHOLE)
    assert checks == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, [f"page {page} (limit 2) of 5 rooms holds {len(codes)}, not {expected}"]),
    ]


@pytest.mark.parametrize(
    ("codes", "found"),
    [
        (["r1"], ["page 1 (limit 2) of 5 rooms holds 1, not 2"]),
        (["r1", "zz"], ["page 1 (limit 2) holds rooms not in the whole list: ['zz']"]),
        (["r1", "r1"], ["page 1 (limit 2) repeats rooms: ['r1']"]),
    ],
)
def test_check_page_without_a_page_number_is_named_page_1(codes: list[str], found: list[str]) -> None:
    """A limit without a page reads the first page, and the problems say so."""
    assert ClinicModel().check_page(page_of(*codes), None, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, found),
    ]


def test_check_page_past_the_end_must_be_empty() -> None:
    """Past the end of the list there is nothing."""
    model = ClinicModel()
    assert model.check_page([], 4, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGE_PAST_END_EMPTY, []),
        (rules.PAGES_PARTITION_LIST, []),
    ]
    assert problems(model.check_page(page_of("r1"), 4, 2, WHOLE, WHOLE), rules.PAGE_PAST_END_EMPTY) == [
        "page past the end has 1 items"
    ]


def test_check_page_with_a_room_not_in_the_whole_list_is_a_problem() -> None:
    """A page is part of the list."""
    checks = ClinicModel().check_page(page_of("r1", "zz"), 1, 2, WHOLE, WHOLE)
    assert problems(checks, rules.PAGES_PARTITION_LIST) == [
        "page 1 (limit 2) holds rooms not in the whole list: ['zz']"
    ]


def test_check_page_repeating_a_room_is_a_problem() -> None:
    """A page shows each room once."""
    checks = ClinicModel().check_page(page_of("r1", "r1"), 1, 2, WHOLE, WHOLE)
    assert problems(checks, rules.PAGES_PARTITION_LIST) == ["page 1 (limit 2) repeats rooms: ['r1']"]


@pytest.mark.parametrize(("page", "codes"), [(None, WHOLE[::-1]), (1, WHOLE), (2, WHOLE), (2, [])])
def test_check_page_without_limit_is_the_whole_list_or_an_empty_later_page(page: int | None, codes: list[str]) -> None:
    """No limit means the whole list; the docs fix no default page size, so a later page may also be empty."""
    assert ClinicModel().check_page(page_of(*codes), page, None, WHOLE, WHOLE) == [(rules.PAGES_PARTITION_LIST, [])]


@pytest.mark.parametrize(("page", "codes"), [(None, WHOLE[:4]), (1, []), (2, ["r1"])])
def test_check_page_without_limit_leaving_rooms_out_is_a_problem(page: int | None, codes: list[str]) -> None:
    """Without a limit nothing of the whole list may be missing (unless the page is empty and past the first)."""
    checks = ClinicModel().check_page(page_of(*codes), page, None, WHOLE, WHOLE)
    missing = sorted(set(WHOLE) - set(codes))
    assert checks == [
        (rules.PAGES_PARTITION_LIST, [f"GET /rooms without limit (page {page}) leaves out {missing[:5]}"])
    ]


@pytest.mark.parametrize("codes", [["r3"], ["r3", "r6"], []])
def test_check_page_of_a_changing_list_judges_no_size(codes: list[str]) -> None:
    """When another client changed the list during the read, a page consistent with either list is fine."""
    after = [*WHOLE, "r6"]
    assert ClinicModel().check_page(page_of(*codes), 3, 2, WHOLE, after) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, []),
    ]


def test_check_page_of_a_list_that_grew_may_fill_a_page_past_its_old_end() -> None:
    """A room added by another client during the read may land on what was past the end of the first read."""
    assert ClinicModel().check_page(page_of("r5"), 3, 2, WHOLE[:4], WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, []),
    ]


def test_check_page_of_a_changing_list_still_judges_the_limit_and_membership() -> None:
    """Even a changing list never puts more than `limit` on a page, nor rooms in neither read."""
    checks = ClinicModel().check_page(page_of("r1", "r6", "zz"), 1, 2, WHOLE, [*WHOLE, "r6"])
    assert checks == [
        (rules.PAGE_WITHIN_LIMIT, ["page has 3 items, limit was 2"]),
        (rules.PAGES_PARTITION_LIST, ["page 1 (limit 2) holds rooms not in the whole list: ['zz']"]),
    ]


# --------------------------------------------------------------------------------------------------------- check_walk


def test_check_walk_of_disjoint_covering_pages_then_an_empty_one_holds() -> None:
    """The documented walk: pages of `limit`, together the list, then nothing."""
    pages = [["r5", "r1"], ["r2", "r4"], ["r3"], []]
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, []),
        (rules.PAGE_PAST_END_EMPTY, []),
    ]


@pytest.mark.parametrize(
    ("pages", "whole"),
    [
        ([["r1", "r2"], ["r3", "r4"], []], WHOLE[:4]),  # the last page is full too
        ([["r1"], []], ["r1"]),  # one short page
        ([[]], []),  # an empty clinic: page 1 is already past the end
    ],
)
def test_check_walk_of_other_list_sizes_holds(pages: list[list[str]], whole: list[str]) -> None:
    """Only the pages before the last one holding items must be full; there may be none."""
    assert ClinicModel().check_walk(pages, 2, whole, whole) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (rules.PAGES_PARTITION_LIST, []),
        (rules.PAGE_PAST_END_EMPTY, []),
    ]


@pytest.mark.parametrize(
    ("pages", "within", "partition", "past"),
    [
        ([["r1", "r2"], ["r2", "r3"], ["r4", "r5"], []], [], ["items on more than one page: ['r2']"], []),
        ([["r1", "r2"], ["r3", "r4"], [], []], [], ["pages differ from the whole list (missing ['r5'], extra [])"], []),
        ([["r1", "r2"], ["r3", "r4"], ["r5"], ["r1"]], [], [], ["page past the end has 1 items"]),
        ([["r1", "r2"], ["r3"], ["r4", "r5"], []], [], ["page 2 holds 1, limit 2"], []),
        ([["r1"], ["r2", "r3"], ["r4", "r5"], []], [], ["page 1 holds 1, limit 2"], []),
    ],
)
def test_check_walk_breaking_one_rule_names_that_rule(
    pages: list[list[str]], within: list[str], partition: list[str], past: list[str]
) -> None:
    """Overlap, a missing room, a non-empty page past the end and a short page before the last each break their own
    rule."""
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, within),
        (rules.PAGES_PARTITION_LIST, partition),
        (rules.PAGE_PAST_END_EMPTY, past),
    ]


def test_check_walk_with_an_over_full_page_breaks_the_limit_and_the_partition() -> None:
    """A page over the limit is not the `limit` items the partition puts on it either."""
    pages = [["r1", "r2", "r3"], ["r4", "r5"], [], []]
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, ["page has 3 items, limit was 2"]),
        (rules.PAGES_PARTITION_LIST, ["page 1 holds 3, limit 2"]),
        (rules.PAGE_PAST_END_EMPTY, []),
    ]


def test_check_walk_judges_the_limit_on_every_page_including_the_one_past_the_end() -> None:
    """Each page over the limit is named, wherever it is."""
    pages = [["r1", "r2"], ["r3", "r4"], ["r5"], ["r1", "r2", "r3"]]
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, ["page has 3 items, limit was 2"]),
        (rules.PAGES_PARTITION_LIST, []),
        (rules.PAGE_PAST_END_EMPTY, ["page past the end has 3 items"]),
    ]


def test_check_walk_with_a_short_page_and_a_missing_room_names_both() -> None:
    """The partition's own problems come first, then each short page."""
    pages = [["r1", "r2"], ["r3"], ["r5"], []]
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE) == [
        (rules.PAGE_WITHIN_LIMIT, []),
        (
            rules.PAGES_PARTITION_LIST,
            ["pages differ from the whole list (missing ['r4'], extra [])", "page 2 holds 1, limit 2"],
        ),
        (rules.PAGE_PAST_END_EMPTY, []),
    ]


def test_check_walk_of_a_changing_list_judges_only_the_limit() -> None:
    """While another client changes the list, pages may overlap, miss rooms or fall short; they still respect the
    limit, every one of them."""
    pages = [["r1", "r2", "r3"], ["r3"], ["r9", "r8", "r7"]]
    assert ClinicModel().check_walk(pages, 2, WHOLE, WHOLE[:4]) == [
        (rules.PAGE_WITHIN_LIMIT, ["page has 3 items, limit was 2", "page has 3 items, limit was 2"])
    ]


# ---------------------------------------------------------------------------------------------------- check_providers


def test_check_providers_missing_an_associated_user_is_a_problem() -> None:
    """Associating a user with a room makes them one of its providers."""
    model = clinic()
    associated(model, "ca")
    assert model.check_providers("ca", 200, [{"id": "99"}]) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, [f"user '{USER}' is associated but absent from the providers list"]),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, []),
    ]
    assert model.check_providers("ca", 200, [{"id": int(USER)}]) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, []),
    ]


def test_check_providers_still_listing_a_removed_user_is_a_problem() -> None:
    """Removing the association removes the provider."""
    model = clinic()
    associated(model, "ca")
    model.remove(USER, "ca", 204)
    assert model.check_providers("ca", 200, [{"id": USER}]) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, [f"user '{USER}' is removed but still in the providers list"]),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, []),
    ]


def test_check_providers_listing_a_user_whose_association_was_refused_is_a_refused_write_problem() -> None:
    """An association refused for its token must not have been made: the fault is the refused write's."""
    model = clinic()
    model.unauthorised_association("8", "ca")
    assert model.check_providers("ca", 200, [{"id": "8"}]) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, ["user '8' is removed but still in the providers list"]),
    ]


def test_check_providers_missing_a_user_whose_removal_was_refused_is_a_refused_write_problem() -> None:
    """A removal refused for its token must not have removed anything."""
    model = clinic()
    associated(model, "ca")
    model.unauthorised_removal(USER, "ca")
    assert model.check_providers("ca", 200, []) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, [f"user '{USER}' is associated but absent from the providers list"]),
    ]


def test_check_providers_of_an_own_room_nobody_was_associated_with_names_both_rules() -> None:
    """Both rules are reported for every readable providers list of the run's rooms, held or not."""
    assert clinic().check_providers("cb", 200, [{"id": "1"}]) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, []),
    ]


@pytest.mark.parametrize(
    ("status", "body", "public"),
    [
        (404, error(code=404), []),
        (401, error(code=401), ["GET /rooms/ca/providers answered 401 without a token"]),
        (200, {"id": USER}, []),
        (200, None, []),
    ],
)
def test_check_providers_of_an_own_room_unreadable_is_a_problem(status: int, body: Any, public: list[str]) -> None:
    """A room of the run has a providers list; without one nothing about the associations can be judged."""
    model = clinic()
    associated(model, "ca")
    assert model.check_providers("ca", status, body) == [
        (rules.PUBLIC_READS_OPEN, public),
        (rules.CREATED_ROOM_READABLE, [f"GET /rooms/ca/providers answered {status}"]),
    ]


def test_check_providers_of_a_room_the_run_did_not_create_judges_only_public_access() -> None:
    """Other rooms' providers change under the run; only their being public is fixed."""
    model = clinic()
    assert model.check_providers("foreign", 200, [{"id": "1"}]) == [(rules.PUBLIC_READS_OPEN, [])]
    assert model.check_providers("foreign", 404, error(code=404)) == [(rules.PUBLIC_READS_OPEN, [])]
    assert model.check_providers("foreign", 401, error(code=401)) == [
        (rules.PUBLIC_READS_OPEN, ["GET /rooms/foreign/providers answered 401 without a token"])
    ]


# ----------------------------------------------------------------------------------------------------- check_provider


def test_check_provider_of_an_associated_user_must_be_200() -> None:
    """An associated user's provider detail exists."""
    model = clinic()
    associated(model, "ca")
    assert model.check_provider("ca", USER, 200, {"data": {"id": USER}}) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, []),
    ]
    assert model.check_provider("ca", USER, 404, error(code=404)) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, [f"provider {USER} of room 'ca' answered 404"]),
    ]


@pytest.mark.parametrize("status", [401, 403])
def test_check_provider_of_an_associated_user_refused_for_a_token_is_a_public_read_problem(status: int) -> None:
    """The provider detail is public (and an associated user's is there, so the refusal also hides it)."""
    model = clinic()
    associated(model, "ca")
    assert model.check_provider("ca", USER, status, error(code=status)) == [
        (rules.PUBLIC_READS_OPEN, [f"GET /rooms/ca/providers/{USER} answered {status} without a token"]),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, [f"provider {USER} of room 'ca' answered {status}"]),
    ]


@pytest.mark.parametrize(
    ("status", "public", "found"),
    [
        (404, [], []),
        (400, [], []),
        (403, [f"GET /rooms/ca/providers/{USER} answered 403 without a token"], []),
        (200, [], [f"user {USER} is no provider of room 'ca', answered 200"]),
        (500, [], [f"user {USER} is no provider of room 'ca', answered 500"]),
    ],
)
def test_check_provider_of_a_removed_user_must_be_a_4xx(status: int, public: list[str], found: list[str]) -> None:
    """A removed user is no provider of the room (any 4xx says so, though one for a token breaks the public read)."""
    model = clinic()
    associated(model, "ca")
    model.remove(USER, "ca", 204)
    assert model.check_provider("ca", USER, status, {"data": {"id": USER}}) == [
        (rules.PUBLIC_READS_OPEN, public),
        (rules.PROVIDER_FOLLOWS_ASSOCIATION, found),
    ]


@pytest.mark.parametrize(("status", "found"), [(200, ["user 8 is no provider of room 'ca', answered 200"]), (404, [])])
def test_check_provider_of_a_refused_association_is_judged_under_the_refused_write(
    status: int, found: list[str]
) -> None:
    """The association refused for its token did not make the user a provider."""
    model = clinic()
    model.unauthorised_association("8", "ca")
    assert model.check_provider("ca", "8", status, {"data": {"id": "8"}}) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, found),
    ]


@pytest.mark.parametrize(("status", "found"), [(200, []), (404, [f"provider {USER} of room 'ca' answered 404"])])
def test_check_provider_of_a_refused_removal_is_judged_under_the_refused_write(status: int, found: list[str]) -> None:
    """The removal refused for its token left the user a provider."""
    model = clinic()
    associated(model, "ca")
    model.unauthorised_removal(USER, "ca")
    assert model.check_provider("ca", USER, status, {"data": {"id": USER}}) == [
        (rules.PUBLIC_READS_OPEN, []),
        (rules.REFUSED_WRITE_CHANGES_NOTHING, found),
    ]


def test_check_provider_the_run_knows_nothing_of_is_not_judged() -> None:
    """A user the run never associated with a room (or any user of a foreign room) may or may not be a provider."""
    model = clinic()
    associated(model, "ca")
    assert model.check_provider("cb", USER, 200, {}) == []
    assert model.check_provider("foreign", USER, 404, error(code=404)) == []


# -------------------------------------------------------------------------------------------------------- check_queue


def test_check_queue_is_public() -> None:
    """A room's queue is read without a token."""
    model = ClinicModel()
    assert model.check_queue("ca", 200) == [(rules.PUBLIC_READS_OPEN, [])]
    assert model.check_queue("ca", 403) == [
        (rules.PUBLIC_READS_OPEN, ["GET /rooms/ca/queue answered 403 without a token"])
    ]


# ------------------------------------------------------------------------------------------------------ check_unknown


@pytest.mark.parametrize("status", [400, 404])
def test_check_unknown_accepts_a_4xx_with_the_error_body(status: int) -> None:
    """The docs name no status for something that does not exist: any 4xx with the error body."""
    assert ClinicModel().check_unknown(status, error(code=status), "unknown room") == [
        (rules.UNKNOWN_IS_CLIENT_ERROR, [])
    ]


@pytest.mark.parametrize(
    ("status", "body", "found"),
    [
        (200, {"data": {}}, ["unknown room: answered 200, expected a 4xx"]),
        (404, {"error": "nope"}, ["404 body has no integer 'code'", "404 body has no string 'message'"]),
        (404, "<html>Not Found</html>", ["404 body is not a JSON object: '<html>Not Found</html>'"]),
    ],
)
def test_check_unknown_rejects_success_and_a_bare_404(status: int, body: Any, found: list[str]) -> None:
    """Something that does not exist is not a success, and its refusal carries the error body."""
    assert ClinicModel().check_unknown(status, body, "unknown room") == [(rules.UNKNOWN_IS_CLIENT_ERROR, found)]


def test_the_model_has_one_check_for_every_view_an_operation_may_show() -> None:
    assert sorted(view.name for view in set(View) - set(VIEW_CHECKS)) == []
