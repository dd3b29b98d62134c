"""Named variations of the fixtures, for building the screens a clinic shows in each state.

A scenario edits the fixture data as read from the YAML files, before validation, so every scenario is checked
against the contract exactly like the default one (a legacy room against the views that serve it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Data = dict[str, Any]
LEGACY_NOTE = "paymentCurrency will be deprecated by 1 Jun 2017"
LEGACY_SPECIALTIES = [
    {"code": "general_care", "name": "Default", "duration": 15},
    {"code": "primary_care", "name": "Primary Care", "duration": 15},
    {"code": "psychiatry", "name": "Psychiatry", "duration": 30},
    {"code": "dermatology", "name": "Dermatology", "duration": 15},
]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    edit: Callable[[Data], None]
    room_schemas: tuple[str, ...] = ("Room",)  # what every stored room must satisfy


def _unchanged(data: Data) -> None:
    pass


def _empty(data: Data) -> None:
    data.update(rooms=[], queues={}, defaults={})


def _closed(data: Data) -> None:
    for room in data["rooms"]:
        room["operation_settings"]["is_closed"] = True
        room["operation_settings"]["close_msg"] = (
            "The clinic is closed right now. Please check back during office hours."
        )


def _busy(data: Data) -> None:
    for queue in data["queues"].values():
        queue["length"] = max(queue["capacity"] - 1, 0)
        queue["before_me"] = max(queue["length"] - 1, 0)


def _legacy(data: Data) -> None:
    """Rooms in the old documented shape (GET /rooms/room1): specialties, paymentCurrency, old consultations."""
    for room in data["rooms"]:
        for key in ("visits", "auth", "subtitle", "operation_settings"):
            room.pop(key, None)
        room.setdefault("description", "")
        room["specialties"] = [dict(s) for s in LEGACY_SPECIALTIES]
        consultations = room["payment"]["consultations"]
        room["payment"] = {
            "paymentCurrency": room["payment"].get("currency", "USD"),
            "consultations": [
                {k: c[k] for k in ("description", "amount", "duration") if k in c} for c in consultations
            ],
        }


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("default", "The fixtures as they are.", _unchanged),
        Scenario("empty", "Every account without rooms (and so without queues or associations).", _empty),
        Scenario("closed", "Every room closed (operation_settings.is_closed) with its message.", _closed),
        Scenario("busy", "Every queue one short of capacity, the caller last in line.", _busy),
        Scenario(
            "legacy",
            "Rooms in the old documented shape: specialties, paymentCurrency, old consultations.",
            _legacy,
            room_schemas=("RoomDetail", "RoomListItem"),
        ),
    )
}
