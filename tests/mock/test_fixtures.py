"""Seed data: every fixture satisfies the contract, and a broken one stops start-up naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server import default_credentials
from mock_server.fixtures import DEFAULT_FIXTURES, FixtureError, load_fixtures, new_room_defaults
from vsee_contract import load_spec

SPEC = load_spec()


def test_shipped_fixtures_load_and_are_rich_enough() -> None:
    accounts = load_fixtures(None, SPEC)
    assert len(accounts) >= 2
    for account in accounts:
        assert len(account.rooms) >= 5
        assert all(room["provider_ids"] for room in account.rooms)
        assert set(account.queues) == {room["code"] for room in account.rooms}
    legacy = [r for a in accounts for r in a.rooms if "specialties" in r and "paymentCurrency" in r["payment"]]
    assert legacy, "some rooms must carry the legacy fields"
    assert any("id" not in c for r in legacy for c in r["payment"]["consultations"]), "old consultations"


def _broken_copy(tmp_path: Path, edit: Any) -> Path:
    root = tmp_path / "fixtures"
    shutil.copytree(DEFAULT_FIXTURES, root)
    target = root / "accounts" / "vclinic.yaml"
    data = yaml.safe_load(target.read_text())
    edit(data)
    target.write_text(yaml.safe_dump(data))
    return root


BAD = [
    ("room id as number", lambda d: d["rooms"][0].__setitem__("id", 171), "rooms[0].id"),
    ("room without slug", lambda d: d["rooms"][1].pop("slug"), "rooms[1]"),
    (
        "duplicate slug",
        lambda d: d["rooms"][1].update(slug=d["rooms"][0]["slug"]),
        "rooms: slug 'provider00102' appears 2 times",
    ),
    ("duplicate code", lambda d: d["rooms"][1].update(code=d["rooms"][0]["code"]), "rooms[1].code"),
    ("unknown provider", lambda d: d["rooms"][0]["provider_ids"].append("999999"), "rooms[0].provider_ids"),
    ("queue arithmetic", lambda d: d["queues"]["b4vjj"].update(before_me=5, length=2), "queues.b4vjj"),
    ("queue negative", lambda d: d["queues"]["b4vjj"].update(length=-1), "queues.b4vjj.length"),
    ("user without email", lambda d: d["users"][0].pop("email"), "users[0]"),
    ("default not associated", lambda d: d["defaults"].update({"401": "b4vjj"}), "defaults.401"),
    ("account without token", lambda d: d["account"].pop("admin_token"), "account"),
]


@pytest.mark.parametrize(("label", "edit", "where"), BAD, ids=[b[0] for b in BAD])
def test_bad_fixture_is_refused_naming_file_and_field(tmp_path: Path, label: str, edit: Any, where: str) -> None:
    root = _broken_copy(tmp_path, edit)
    with pytest.raises(FixtureError) as info:
        load_fixtures(root, SPEC)
    message = str(info.value)
    assert "vclinic.yaml: " in message and where in message, message


def test_unreadable_fixture_is_refused(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, lambda d: None)
    (root / "accounts" / "vclinic.yaml").write_text("rooms: [unclosed")
    with pytest.raises(FixtureError, match=r"vclinic\.yaml: cannot read"):
        load_fixtures(root, SPEC)


def test_the_mock_publishes_the_default_accounts_credentials() -> None:
    """The suite's in-process default comes from here, so it never reads the mock's fixtures itself."""
    assert default_credentials() == ("vclinic", "83ec6843c3af534c551ab609d869dd82")


def test_a_created_rooms_defaults_are_its_own_copy() -> None:
    """Each created room gets the defaults as new dicts and lists (a change to one room's nested settings reaches no
    other room, nor the defaults), equal to them."""
    defaults = new_room_defaults()
    first, second = defaults.fresh_room(), defaults.fresh_room()
    assert first == second == defaults.room
    first["payment"]["consultations"][0]["amount"] = 99
    first["visits"]["walkin"]["enabled"] = False
    assert second == defaults.room and defaults.room["payment"]["consultations"][0]["amount"] == 0
