"""One clinic account as the handlers see it: rooms, users, queues and default rooms in `Rows`, and the codes and
ids it generates (from (seed, account, next id), so every worker makes the same ones, and they repeat after a
reset). It satisfies the registry's `Account` protocol (`vsee_contract.operations`)."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from typing import Any

from .rows import Rows

_SYSTEM = random.SystemRandom()

__all__ = ["AccountState", "Clock"]

CODE_ALPHABET = string.ascii_lowercase + string.digits
Clock = Callable[[], int]


def _domain_slug(room: dict[str, Any]) -> tuple[Any, Any]:
    return room.get("domain"), room.get("slug")


class AccountState:
    """One clinic account: rooms by code (in creation order), users by id, queues and default rooms."""

    def __init__(
        self,
        code: str,
        domain: str,
        admin_token: str,
        admin_user_id: str,
        next_id: int,
        seed: int | None,
        clock: Clock,
    ) -> None:
        self.code = code
        self.domain = domain
        self.admin_token = admin_token
        self.admin_user_id = admin_user_id
        self.rooms: Rows[dict[str, Any]] = Rows(index_by=_domain_slug)
        self.users: Rows[dict[str, Any]] = Rows()
        self.queues: Rows[dict[str, Any]] = Rows()
        self.defaults: Rows[str] = Rows()
        self.next_id = next_id
        self.next_id_changed = False
        self._seed = seed
        self._clock = clock

    def now(self) -> int:
        return self._clock()

    def room_with_slug(self, domain: str, slug: str) -> dict[str, Any] | None:
        return self.rooms.find((domain, slug))

    def _random(self, purpose: str) -> random.Random:
        """Under a seed, the same numbers for the same account and next id in every worker and after a reset;
        without, the system's (no state a forked worker would share; a seeded generator made per call cost 11 µs)."""
        if self._seed is None:
            return _SYSTEM
        return random.Random(f"{self._seed}/{self.code}/{self.next_id}/{purpose}")

    def new_code(self) -> str:
        """A fresh 5-character lowercase code, like the server-generated `b4vjj`."""
        rng = self._random("code")
        while True:
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(5))
            if code not in self.rooms:
                return code

    def new_room_id(self) -> str:
        room_id = self.next_id
        self.next_id, self.next_id_changed = room_id + 1, True
        return str(room_id)

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._random("uuid").getrandbits(128), version=4))

    def rooms_of(self, user_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rooms.values() if user_id in r["provider_ids"]]

    def set_providers(self, room: dict[str, Any], provider_ids: list[str]) -> None:
        """Keep `provider_ids` and the `users` string in step, and mark the room modified."""
        room["provider_ids"] = provider_ids
        room["users"] = ",".join(provider_ids)
        room["modified"] = self.now()
        self.rooms.dirty.add(room["code"])

    def containers(self) -> tuple[Rows[Any], ...]:
        return (self.rooms, self.users, self.queues, self.defaults)

    def touched(self) -> bool:
        return self.next_id_changed or any(rows.touched() for rows in self.containers())

    def settle(self) -> None:
        self.next_id_changed = False
        for rows in self.containers():
            rows.settle()

    def snapshot(self) -> dict[str, Any]:
        """What GET /__mock__/state shows (never the token)."""
        return {
            "code": self.code,
            "domain": self.domain,
            "admin_user_id": self.admin_user_id,
            "rooms": list(self.rooms.values()),
            "users": list(self.users.values()),
            "queues": dict(self.queues),
            "defaults": dict(self.defaults),
        }
