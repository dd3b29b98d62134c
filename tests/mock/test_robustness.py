"""Robustness of a live `vsee-mock` (a real process, granian, 127.0.0.1): concurrent mixed load (32 clients, 50
requests each, on one worker and on two sharing their state) loses and corrupts nothing, a schemathesis
negative-data run of 2,000+ requests gets no 5xx, and hostile bodies get 4xx in the error shape. Bounded by request
counts: a timeout only fails a stuck run; no timing assertions."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from vsee_contract import rules

from helpers.mock_api import ADMIN, DOMAIN, ROOT, TOKEN, VCLINIC
from helpers.servers import ServerProcess, mock_process

CLIENTS = 32
REQUESTS_PER_CLIENT = 50
SAFETY_SECONDS = 300  # never the bound: only how long a stuck load may take before the test fails
HEADERS = {"X-AccountCode": VCLINIC}
WRITE_HEADERS = {**HEADERS, "X-ApiToken": TOKEN}
LOG_LINE = re.compile(r"^\S+ (GET|POST|DELETE|PUT|PATCH|OPTIONS|HEAD) \S+ (\d{3}) ")


@dataclass
class _Seen:
    """What the clients saw, appended from their threads."""

    created: list[str] = field(default_factory=list)
    associated: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _client(base: str, seed: int, seen: _Seen) -> None:
    """One of the 32 clients, REQUESTS_PER_CLIENT requests: reads, creates rooms (sometimes with a slug another
    client also tries), associates."""
    rng = random.Random(seed)
    session = requests.Session()
    mine: list[str] = []
    try:
        for _ in range(REQUESTS_PER_CLIENT):
            roll = rng.random()
            if roll < 0.1:
                slug = f"load-{rng.randrange(400)}"  # shared pool: concurrent clashes must still give one room a slug
                reply = session.post(
                    f"{base}/api_v3/rooms",
                    headers=WRITE_HEADERS,
                    timeout=30,
                    data={"domain": DOMAIN, "slug": slug, "name": f"Load {slug}"},
                )
                if reply.status_code == 200:
                    mine.append(reply.json()["data"]["code"])
                    seen.created.append(reply.json()["data"]["code"])
            elif roll < 0.15 and mine:
                code = rng.choice(mine)
                reply = session.post(
                    f"{base}/api_v3/users/401/rooms", headers=WRITE_HEADERS, timeout=30, files={"code": (None, code)}
                )
                if reply.status_code == 200:
                    seen.associated.append(code)
            else:
                code = rng.choice(mine) if mine and rng.random() < 0.5 else "ceproom1"
                reply = session.get(f"{base}/api_v3/rooms/{code}", headers=HEADERS, timeout=30)
            seen.statuses.append(reply.status_code)
    except Exception as exc:  # reported by the test, in its own thread
        seen.errors.append(f"client {seed}: {exc!r}")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_32_clients_sending_50_mixed_requests_each_lose_and_corrupt_nothing(workers: str) -> None:
    """With 2 workers, a room one created is read, associated and listed through either: their state is shared."""
    seen = _Seen()
    with mock_process("--quiet", "--workers", workers) as server:
        base = server.url
        clients = [threading.Thread(target=_client, args=(base, i, seen), daemon=True) for i in range(CLIENTS)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + SAFETY_SECONDS
        for client in clients:
            client.join(max(0.0, deadline - time.monotonic()))
        assert not any(client.is_alive() for client in clients), f"the load did not finish in {SAFETY_SECONDS} s"
        assert seen.errors == [], seen.errors[:5]
        statuses = Counter(seen.statuses)
        assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT, statuses
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses[200] > 0, statuses
        assert seen.created and seen.associated, "the mix must have written"
        unreadable = [
            c
            for c in seen.created
            if requests.get(f"{base}/api_v3/rooms/{c}", headers=HEADERS, timeout=10).status_code != 200
        ]
        assert unreadable == [], f"acknowledged rooms not readable: {unreadable[:5]}"
        rooms = requests.get(f"{base}/api_v3/rooms", headers=HEADERS, timeout=10).json()["data"]
        assert rules.slug_unique_per_domain(rooms) == []
        assert set(seen.created) <= {r["code"] for r in rooms}
        for code in set(seen.associated):
            providers = requests.get(f"{base}/api_v3/rooms/{code}/providers", headers=HEADERS, timeout=10)
            assert rules.provider_follows_association(providers.json()["data"], "401", True) == [], code
            assert rules.provider_follows_association(providers.json()["data"], ADMIN, True) == [], code


def test_a_negative_schemathesis_run_of_2000_requests_gets_no_5xx_and_only_error_shaped_4xx(tmp_path: Path) -> None:
    with mock_process() as server:
        base = server.url
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(ROOT / "openapi.yaml"),
                "--url",
                f"{base}/api_v3",
                "--mode",
                "negative",
                "--max-examples",
                "500",
                "--seed",
                "11",
                "--phases",
                "examples,coverage,fuzzing",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "-H",
                f"X-AccountCode: {VCLINIC}",
                "-H",
                f"X-ApiToken: {TOKEN}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # its crash cache goes there
        )
    statuses = Counter(int(m.group(2)) for line in server.stderr().splitlines() if (m := LOG_LINE.match(line)))
    print(f"negative run: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert sum(statuses.values()) >= 2000, statuses
    assert not [s for s in statuses if s >= 500], statuses
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > 1000, statuses
    # response_schema_conformance holds every 4xx to the declared error schema {code: int, message: str}
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.fixture(scope="module")
def quiet_mock() -> Iterator[ServerProcess]:
    """One mock for the hostile bodies: each must leave it serving the next."""
    with mock_process("--quiet") as server:
        yield server


@pytest.mark.parametrize(
    ("name", "content_type", "body", "status"),
    [
        ("oversize json", "application/json", b'{"slug": "' + b"x" * (1024 * 1024 + 10) + b'"}', 413),
        ("oversize form", "application/x-www-form-urlencoded", b"slug=" + b"x" * (1024 * 1024 + 10), 413),
        ("invalid utf-8 json", "application/json", b'{"slug": "\xff\xfe"}', None),
        ("invalid json", "application/json", b'{"slug": ', None),
        ("malformed multipart", "multipart/form-data; boundary=XyZ", b"--XyZ\r\nContent-Disposition: oops\r\n", None),
        ("multipart without boundary", "multipart/form-data", b"slug=a", None),
        ("unknown content type", "application/x-yaml", b"slug: a", 415),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_hostile_bodies_over_http_get_4xx_in_the_error_shape(
    quiet_mock: ServerProcess, name: str, content_type: str, body: bytes, status: int | None
) -> None:
    headers = {**WRITE_HEADERS, "Content-Type": content_type}
    reply = requests.post(f"{quiet_mock.url}/api_v3/rooms", data=body, headers=headers, timeout=30)
    assert 400 <= reply.status_code < 500 and (status is None or reply.status_code == status), reply.text[:300]
    assert rules.error_shape(reply.status_code, reply.json()) == [], name
    # and it still serves: granian refuses an over-long request target itself (bare 414, tests/mock/test_serving.py)
    huge = requests.get(f"{quiet_mock.url}/api_v3/rooms", params={"q": "x" * 300_000}, headers=HEADERS, timeout=30)
    assert (huge.status_code, huge.content) == (414, b"")
    assert requests.get(f"{quiet_mock.url}/api_v3/rooms", headers=HEADERS, timeout=30).status_code == 200
