"""The suite's pacing (contract_tests.pacing): a rate learnt from 429s and RateLimit headers, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from contract_tests.pacing import Pacer, rate_limit_headers


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer() -> tuple[Pacer, FakeTime]:
    time = FakeTime()
    return Pacer(clock=time.clock, sleep=time.sleep), time


def _limiter(time: FakeTime, rate: float, burst: float) -> tuple[list[int], object]:
    """A token bucket of `rate` per second (holding at most `burst`) on the fake clock: 200 or 429."""
    state = {"tokens": burst, "at": time.now}
    answers: list[int] = []

    def answer() -> int:
        state["tokens"] = min(burst, state["tokens"] + (time.now - state["at"]) * rate)
        state["at"] = time.now
        status = 200 if state["tokens"] >= 1 else 429
        state["tokens"] -= status == 200
        answers.append(status)
        return status

    return answers, answer


def test_a_deployment_that_never_throttles_is_never_paced() -> None:
    pacer, time = _pacer()
    for _ in range(500):
        assert pacer.wait() == 0.0
        pacer.learn(200, {}, None)
    assert pacer.rate is None and time.slept == []


def test_429s_set_the_pace_to_what_the_deployment_accepted() -> None:
    pacer, time = _pacer()
    for n in range(80):  # 40 answers a second, every other one refused: 20 accepted a second
        pacer.learn(429 if n % 2 else 200, {"Retry-After": "1"}, 1.0 if n % 2 else None)
        time.now += 1 / 40
    assert pacer.rate is not None and pacer.rate == pytest.approx(0.9 * 20, rel=0.05)
    pacer.wait()
    assert pacer.wait() == pytest.approx(1 / pacer.rate)


def test_refusals_of_one_overload_lower_the_pace_once() -> None:
    pacer, time = _pacer()
    for _ in range(20):
        pacer.learn(200, {}, None)
        time.now += 0.05
    for _ in range(10):
        pacer.learn(429, {}, 1.0)
    assert pacer.rate == pytest.approx(18.0)


def test_against_a_token_bucket_the_run_settles_near_its_rate() -> None:
    """Unpaced requests run into a 20/s bucket; paced from then on, 2,000 requests take about what 20/s requires,
    and once the pace is learnt (within the first two seconds) hardly any is refused (the requests are sent one
    after another here; a refused one is sent again)."""
    pacer, time = _pacer()
    answers, answer = _limiter(time, rate=20.0, burst=20.0)
    began, refused_late = time.now, 0
    for _ in range(2000):
        while True:
            pacer.wait()
            time.now += 0.002  # the request's own round trip
            status = answer()  # type: ignore[operator]
            pacer.learn(status, {}, 1.0 if status == 429 else None)
            refused_late += status == 429 and time.now - began > 2.0
            if status != 429:
                break
    assert refused_late < 0.01 * 2000
    assert time.now - began <= 1.15 * len(answers) / 20.0
    assert pacer.rate is not None and 16.0 <= pacer.rate <= 21.0


@pytest.mark.parametrize("every", [7, 4])
def test_a_smaller_share_of_refusals_whatever_the_pace_is_not_paced(every: int) -> None:
    """A deployment that refuses every 7th request (benign_variants.throttling), or every 4th, is no rate limit to
    pace to."""
    pacer, time = _pacer()
    for n in range(1, 2001):
        pacer.wait()
        time.now += 0.01
        pacer.learn(429 if n % every == 0 else 200, {}, 1.0 if n % every == 0 else None)
    assert pacer.rate is None and time.slept == []


def test_a_learnt_pace_rises_again_up_to_the_rate_last_accepted() -> None:
    pacer, time = _pacer()
    for _ in range(10):
        pacer.learn(200, {}, None)
        time.now += 0.1
    for _ in range(5):  # a third of the last 15 answers
        pacer.learn(429, {}, 1.0)
    assert pacer.rate == pytest.approx(9.0)
    time.now += 3
    pacer.wait()
    assert pacer.rate == pytest.approx(9.0 * 1.02**3)
    time.now += 60
    pacer.wait()
    assert pacer.rate == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit-Remaining": "3", "RateLimit-Reset": "10"}, (3.0, 10.0)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2"}, (0.0, 2.0)),
        ({"RateLimit": "limit=100, remaining=5, reset=30"}, (5.0, 30.0)),
        ({"RateLimit": '"default";r=0;t=4'}, (0.0, 4.0)),
        ({"RateLimit-Remaining": "lots"}, (None, None)),
        ({}, (None, None)),
    ],
)
def test_rate_limit_headers_are_read(headers: dict[str, str], expected: tuple[float | None, float | None]) -> None:
    assert rate_limit_headers(headers) == expected


def test_nothing_left_in_the_window_closes_it_until_it_resets() -> None:
    pacer, time = _pacer()
    pacer.learn(200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "3"}, None)
    assert pacer.wait() == pytest.approx(3.0)
    assert time.slept == [pytest.approx(3.0)]


def test_few_left_spreads_them_over_the_rest_of_the_window() -> None:
    pacer, _ = _pacer()
    pacer.learn(200, {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "4"}, None)
    assert pacer.rate == pytest.approx(0.5)
    pacer.learn(200, {"X-RateLimit-Remaining": "900", "X-RateLimit-Reset": "4"}, None)
    assert pacer.rate == pytest.approx(0.5)  # plenty left says nothing new


def test_threads_take_distinct_slots() -> None:
    """Concurrent senders share one pace: n attempts take n different slots, 1/rate apart."""
    lock, starts = threading.Lock(), []
    pacer = Pacer(sleep=lambda seconds: None)
    pacer.learn(200, {"RateLimit-Remaining": "1", "RateLimit-Reset": "0.1"}, None)  # 10 per second

    def send() -> None:
        for _ in range(25):
            waited = pacer.wait()
            with lock:
                starts.append(round(waited, 6))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(starts) == 100
    assert max(starts) >= 9.5  # the 100th slot is ~9.9 s after the first: no two threads shared one
