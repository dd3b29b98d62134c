"""The deployment under test, reached in-process (a WSGI app) or over HTTP, with every exchange judged.

Each call is checked against the contract at once (schema + the rules one exchange can show), recorded in the
ledger for the end-of-run summary, and described by a curl command with the token redacted. Every request, the
suite's own and schemathesis', leaves through `transport` (gate, counting, 429 retries, timeout).
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from werkzeug.test import Client

from vsee_contract import READ_METHODS, Contract, Violation, curl_command, form_value, redact, rules, v4_base
from vsee_contract.operations import Effect, descriptor

from .budget import SharedBudget
from .findings import Advisories, ContractViolation
from .footprint import Footprint, OutsideFootprint, RoomAllowance
from .outage import WatchedAdapter
from .pacing import Pacer
from .settings import SuiteSettings
from .side_by_side import SideBySide, current_layer, layer_rank, submit_here
from .transport import Baton, Traffic, guarded_wsgi

Auth = Literal["admin", "none", "wrong"]
WRONG_TOKEN = "0" * 32
JSON_MEDIA = "application/json"
FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")
JSON_REFUSED = "json-bodies-refused"
Call = tuple[str, dict[str, Any]]  # an operation and the keyword arguments of `Target.call`


@dataclass
class Exchange:
    """One request and its response, as the suite saw them (no secrets)."""

    operation_id: str
    method: str
    url: str
    path: dict[str, str]
    status: int
    content_type: str | None
    body: Any
    sent: dict[str, Any] | None
    curl: str

    def describe(self) -> str:
        return f"{self.method} {self.url} -> {self.status}\n  reproduce: {self.curl}"

    @property
    def data(self) -> Any:
        """The `data` of a successful answer. Anything else fails the test saying so (a 5xx as the violation it
        is), never as a bare KeyError in the middle of a rule."""
        if 200 <= self.status < 300 and isinstance(self.body, Mapping) and "data" in self.body:
            return self.body["data"]
        if self.status >= 500:
            raise ContractViolation(f"[{rules.NO_SERVER_ERROR}] answered {self.status}\n  {self.describe()}")
        if self.status in (401, 403) and self.method in READ_METHODS:  # every read of this API is public
            raise ContractViolation(f"[{rules.PUBLIC_READS_OPEN}] answered {self.status}\n  {self.describe()}")
        if self.status == 429:  # still throttled after the transport's retries: not a violation, not a pass
            pytest.skip(f"throttled: {self.method} {self.url} still answered 429 after the retries")
        raise ContractViolation(f"expected a successful answer with `data`, got {self.status}\n  {self.describe()}")


@dataclass
class Ledger:
    """What the run saw: statuses and rules per operation, failures per rule, and what it created."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    rules: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    failures: Counter[str] = field(default_factory=Counter)
    created_rooms: list[str] = field(default_factory=list)
    made_by: dict[str, str | None] = field(default_factory=dict)  # a created room -> the layer that made it
    associations: list[tuple[str, str]] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)  # rule -> why the run could not check it

    def __post_init__(self) -> None:
        self.lock = threading.Lock()  # concurrent calls record here at once

    def failed(self, rules: Iterable[str]) -> None:
        with self.lock:
            self.failures.update(rules)

    def cannot_check(self, rules: Iterable[str], reason: str) -> None:
        for rule in rules:
            self.unchecked.setdefault(rule, reason)

    def wire(self) -> dict[str, Any]:
        """What the summary needs of it, in plain values (an xdist worker sends it to the controller)."""
        return {
            "statuses": {op: {str(status): n for status, n in seen.items()} for op, seen in self.statuses.items()},
            "rules": {op: sorted(checked) for op, checked in self.rules.items()},
            "failures": dict(self.failures),
            "created_rooms": list(self.created_rooms),
            "unchecked": dict(self.unchecked),
        }

    def absorb(self, wire: Mapping[str, Any]) -> None:
        """Another process's `wire()` added to this ledger: counts add up, rules and rooms join."""
        for op, seen in wire["statuses"].items():
            self.statuses[op].update({int(status): n for status, n in seen.items()})
        for op, checked in wire["rules"].items():
            self.rules[op].update(checked)
        self.failures.update(wire["failures"])
        self.created_rooms.extend(wire["created_rooms"])
        for rule, reason in wire["unchecked"].items():
            self.unchecked.setdefault(rule, reason)

    def saw(self, operation_id: str, status: int, checked: Iterable[str]) -> None:
        with self.lock:
            self.statuses[operation_id][status] += 1
            self.rules[operation_id].update(checked)

    def wrote(
        self, operation_id: str, status: int, body: Any, path: Mapping[str, Any], sent: Mapping[str, Any] | None
    ) -> None:
        """After any call, the suite's own or a generated one: remember the rooms a write created (for the summary)
        and the associations it made or undid (the clean-up at the end undoes what is left)."""
        if not 200 <= status < 300:
            return
        data = body.get("data") if isinstance(body, Mapping) else None
        operation = descriptor(operation_id)
        pair = operation.association(path, sent or {}) if operation.association is not None else None
        with self.lock:
            if operation.effect is Effect.CREATES_ROOM and isinstance(data, Mapping) and "code" in data:
                self.created_rooms.append(str(data["code"]))
                self.made_by[str(data["code"])] = current_layer()
            elif pair is not None and operation.effect is Effect.ADDS_PROVIDER and isinstance(pair[1], str):
                self.associations.append(pair)
            elif pair is not None and operation.effect is Effect.REMOVES_PROVIDER:
                self.associations = [a for a in self.associations if a != (pair[0], str(pair[1]))]


class Target:
    """Calls operations of the contract on the deployment under test and judges each exchange."""

    def __init__(self, settings: SuiteSettings, contract: Contract, factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.contract = contract
        self.token_header = contract.spec.security_header()
        self.account_header = contract.spec.account_header()
        self._factory = factory
        self.ledger = Ledger()
        self.traffic = Traffic()
        self.advisories = Advisories(settings.strict, settings.secrets)
        self.json_refused = False  # set once the deployment answered 415 to a JSON body: forms from then on
        self.domain = settings.domain  # the clinic's domain: --contract-domain, or learnt from its rooms on first need
        self.cleaning = False  # set while the associations the run made are undone at its end
        self.budget: SharedBudget | None = None  # the run's write budget under pytest-xdist, else per process
        # per layer, run-wide (twins share them), so no two new slugs are the same
        self.slug_numbers: dict[str | None, Iterator[int]] = {}
        self.rooms = RoomAllowance(None if settings.in_process else settings.max_rooms)
        self.footprint: Footprint | None = None  # what a live run with writes may change
        self.creating = threading.Lock()  # held while the run makes the one room that concurrent writes share
        self.pacer = Pacer()  # the run's pace (twins share it): a rate-limited deployment's, once learnt
        # In-process every call runs on the one interpreter (and the app is not made for threads): one at a time.
        self.concurrency = 1 if factory is not None else settings.concurrency
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="vsee-contract")  # threads on first use
        self.baton = Baton(layer_rank)  # held by threads running Hypothesis or schemathesis, given up while they wait
        self.side_by_side = SideBySide(overlap=False)  # the plugin lets the layers overlap where they may
        self.app = self.fresh_app()
        self._client = Client(self.app) if self.app is not None else None
        self.session: requests.Session | None = None
        self.adapter: WatchedAdapter | None = None
        if self.app is None:
            self.session = requests.Session()
            connections = max(10, self.concurrency + 2)  # urllib3 keeps this many open; schemathesis adds its own
            adapter = self.adapter = WatchedAdapter(
                self.gate, self.traffic, settings.timeout, pacer=self.pacer, connections=connections, baton=self.baton
            )
            adapter.secret_headers = (self.token_header,)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            if settings.namespace:
                from mock_server import NAMESPACE_HEADER  # a convention of the mock, not of the API

                self.session.headers[NAMESPACE_HEADER] = settings.namespace
            if settings.allow_writes:
                self.footprint = Footprint(settings.user_id, self.rooms, self.ledger, self._read, self.baton)

    def _read(self, route: str) -> Any:
        """A GET of a v3 route, its decoded body (None when it is not JSON): what the footprint learns from."""
        assert self.session is not None
        answer = self.session.get(self.v3_base + route, headers=self.headers("none"))
        try:
            return answer.json()
        except ValueError:
            return None

    def share_rooms(self, directory: str | None) -> None:
        """Under pytest-xdist: the run's one room allowance, kept beside its shared write budget."""
        self.rooms = RoomAllowance(self.rooms.limit, directory)
        if self.footprint is not None:
            self.footprint.rooms = self.rooms

    def keep_within_footprint(
        self, operation_id: str | None, method: str, declared: bool, path: Mapping[str, Any], body: Any
    ) -> None:
        """The last word before a write leaves a live run: refused when it would change what the run does not own."""
        if self.footprint is None or method.upper() in READ_METHODS:
            return
        self.footprint.domain = self.domain
        refused = self.footprint.refusal(operation_id, method, declared, path, body)
        if refused is not None:
            raise OutsideFootprint(f"the suite did not send this write: {refused}")

    def __repr__(self) -> str:
        return f"Target({'in-process' if self.app is not None else self.settings.base_url})"

    def fresh_app(self) -> Any:
        """A new copy of the in-process app (same factory, fresh state, behind the gate), or None for a live target."""
        if self._factory is None:
            return None
        return guarded_wsgi(self._factory(), self.gate, self.traffic, pacer=self.pacer)

    def fresh(self) -> Target:
        """This target on a fresh copy of the in-process app, sharing the ledger, traffic and advisories (so a
        sequence of steps can start from a known state); a live deployment is itself."""
        if self._factory is None:
            return self
        twin = copy.copy(self)
        twin.app = self.fresh_app()
        twin._client = Client(twin.app)
        return twin

    @property
    def on_this_machine(self) -> bool:
        """In-process, or served on a loopback address: nothing between the suite and the deployment keeps a URL."""
        if self.settings.in_process:
            return True
        host = urlsplit(self.v3_base).hostname or ""
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:  # a name: only localhost is sure to stay on this machine
            return host == "localhost"

    @property
    def v3_base(self) -> str:
        return self.settings.base_url or "http://localhost/api_v3"

    def base(self, api: str) -> str | None:
        """The v3 base, or the v4 one: --contract-v4-base-url on a live target, else derived from the v3 base (None when it
        cannot be)."""
        if api == "v3":
            return self.v3_base
        if self.settings.v4_base_url and not self.settings.in_process:
            return self.settings.v4_base_url
        return v4_base(self.v3_base)

    def headers(self, auth: Auth) -> dict[str, str]:
        headers = {self.account_header: self.settings.account_code} if self.settings.account_code else {}
        if auth == "admin" and self.settings.api_token:
            headers[self.token_header] = self.settings.api_token
        elif auth == "wrong":
            headers[self.token_header] = WRONG_TOKEN
        return headers

    def gate(self, method: str) -> None:
        """Asked before every request leaves: reads pass; writes only with --contract-allow-writes and within --contract-max-writes.

        Past the budget the test is skipped, not passed (or fails, if a violation was already seen). Once the run
        has ended, a layer still running side by side sends nothing more (`SideBySide.stop`).
        """
        if self.side_by_side.stopped and current_layer() is not None:
            pytest.exit("the run has ended: a layer still running sends nothing more", returncode=2)
        if method.upper() in READ_METHODS:
            return
        if not self.settings.writes_enabled:
            raise ContractViolation(
                f"read-only run: the suite refused to send a {method} request (--contract-allow-writes)"
            )
        if self.settings.in_process:
            return
        # Keep back one write for each association still to undo, and one for the one this write may make, so
        # the clean-up at the end always fits in the budget. Under pytest-xdist the budget is the whole run's, and
        # each worker holds back its own clean-up share in it (contract_tests.budget).
        # Concurrent writes (their answers not back yet) may each make one more.
        kept_back = 0 if self.cleaning else len(self.ledger.associations) + self.traffic.writes_in_flight + 1
        if self.budget is not None:
            if self.budget.reserve_clean_up() if self.cleaning else self.budget.reserve(kept_back):
                return
        elif self.traffic.writes + 1 + kept_back <= self.settings.max_writes:
            return
        shared = ", shared by the run's xdist workers" if self.budget is not None else ""
        budget = f"write budget exhausted (--contract-max-writes {self.settings.max_writes}{shared})"
        if self.ledger.failures:  # a skip must never hide a violation already seen
            with self.ledger.lock:
                broken = ", ".join(f"[{rule}]×{n}" for rule, n in self.ledger.failures.items())
            raise ContractViolation(f"{budget} after violations: {broken}")
        pytest.skip(budget)

    def call(
        self,
        operation_id: str,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        media_type: str = JSON_MEDIA,
        auth: Auth = "admin",
        api: str = "v3",
        credentials: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send one request for `operation_id` and fail at once if the response breaks the contract.

        `credentials`: headers sent besides (or, with `auth="none"`, instead of) the token header, e.g. the token
        misplaced in `Authorization`; their values are redacted wherever the request is shown."""
        op = self.contract.spec.operations[operation_id]
        base = self.base(api)
        if base is None:
            pytest.skip("cannot derive the api_v4 base from --base-url; pass --contract-v4-base-url")
        route = op.path
        for name, value in (path or {}).items():
            route = route.replace("{" + name + "}", quote(str(value), safe=""))
        url = base.rstrip("/") + route
        query = {k: form_value(v) for k, v in (query or {}).items()}
        headers = self.headers(auth if op.needs_token else ("none" if auth == "admin" else auth)) | dict(
            credentials or {}
        )
        full_url = f"{url}?{urlencode(query)}" if query else url
        form_media = next((m for m in op.media_types if m in FORM_MEDIA), None)
        self.keep_within_footprint(operation_id, op.method, True, dict(path or {}), body)
        if body is not None and media_type == JSON_MEDIA and self.json_refused and form_media:
            media_type = form_media  # the deployment refuses JSON bodies: said once, then forms
        status, content_type, raw, answered = self._send(op.method, url, query, headers, media_type, body)
        if status == 415 and body is not None and media_type == JSON_MEDIA and form_media:
            self.json_refused = True
            self.advisories.add(
                JSON_REFUSED,
                f"{op.method} {op.path} answered 415 to an application/json body; the docs show only form bodies, "
                f"so the suite sent {form_media} instead",
                self.curl(op.method, full_url, headers, body, media_type),
            )
            media_type = form_media
            status, content_type, raw, answered = self._send(op.method, url, query, headers, media_type, body)
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode("utf-8", "replace")
        curl = self.curl(op.method, full_url, headers, body, media_type, tuple(credentials or ()))
        sent = dict(body) if body is not None else None
        exchange = Exchange(
            operation_id, op.method, full_url, dict(path or {}), status, content_type, decoded, sent, curl
        )
        problems = self.contract.judge(operation_id, status, content_type, decoded, dict(path or {}), query, body)
        if status >= 500:  # whatever the call was for (a rule, discovery, set-up): never used as an answer
            problems.append(Violation(rules.NO_SERVER_ERROR, f"{op.method} {op.path} answered {status}"))
        leaks = rules.token_never_in_answers(self.settings.api_token, answered, raw, decoded, f"{op.method} {op.path}")
        problems += [Violation(rules.TOKEN_NEVER_IN_ANSWERS, p) for p in leaks]
        judged = {"response-schema", rules.ERROR_SHAPE, rules.NO_SERVER_ERROR, rules.TOKEN_NEVER_IN_ANSWERS}
        if status < 300:  # a rule is checked only by an exchange that could have broken it
            judged |= set(self.contract.rules_judging(operation_id, dict(path or {}), query, body))
        self.ledger.saw(operation_id, status, judged)
        self.ledger.wrote(operation_id, status, decoded, exchange.path, sent)
        self.fail_on(problems, exchange)
        return exchange

    def call_all(self, calls: Sequence[Call]) -> list[Callable[[], Exchange]]:
        """Independent calls (reads no answer of which depends on another), up to `concurrency` in flight at once.
        Each comes back as a function that gives its exchange or raises what `call` raised, to be taken in the
        order given, judging each before the next, so the verdict (and the rule it names) is the one the calls made
        one after another would give. With a concurrency of 1 each is sent only when it is taken, as before."""
        if self.concurrency <= 1 or len(calls) <= 1:
            return [functools.partial(self.call, operation_id, **kwargs) for operation_id, kwargs in calls]
        futures = [
            submit_here(self._pool, functools.partial(self.call, operation_id, **kwargs))
            for operation_id, kwargs in calls
        ]
        with self.baton.released():  # a layer beside this one runs meanwhile (contract_tests.side_by_side)
            wait(futures)  # all back before any is judged: nothing of this step is still in flight after it
        return [future.result for future in futures]

    def curl(
        self, method: str, url: str, headers: Mapping[str, str], body: Any, media_type: str, also: tuple[str, ...] = ()
    ) -> str:
        """A request as a curl command line, the token (and the headers named in `also`) redacted."""
        return redact(
            curl_command(method, url, headers, body, media_type, (self.token_header, *also)), self.settings.secrets
        )

    def _send(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], media: str, body: Any
    ) -> tuple[int, str | None, bytes, list[tuple[str, str]]]:
        kwargs: dict[str, Any] = {}
        if body is not None and media == JSON_MEDIA:
            kwargs["json"] = body
        elif body is not None and media == "application/x-www-form-urlencoded":
            kwargs["data"] = {k: form_value(v) for k, v in body.items()}
        if self._client is not None:
            # a thread of the suite's own (a race) gets a client of its own: werkzeug's is not thread-safe
            client = self._client if threading.current_thread() is threading.main_thread() else Client(self.app)
            if body is not None and media == "multipart/form-data":
                kwargs.update(data={k: form_value(v) for k, v in body.items()}, content_type=media)
            path = url.removeprefix("http://localhost")
            response = client.open(path, method=method, query_string=query, headers=headers, **kwargs)
            answered = list(response.headers.items())
            return response.status_code, response.headers.get("Content-Type"), response.get_data(), answered
        if body is not None and media == "multipart/form-data":
            kwargs["files"] = {k: (None, form_value(v)) for k, v in body.items()}
        assert self.session is not None
        try:
            reply = self.session.request(method, url, params=query, headers=headers, **kwargs)
        except requests.Timeout:
            pytest.fail(
                f"{method} {url} gave no answer within {self.settings.timeout:g} s: raise --contract-timeout "
                "if the deployment is this slow",
                pytrace=False,
            )
        except requests.ConnectionError as exc:
            pytest.fail(
                f"{method} {url} could not be sent ({type(exc).__name__}): is --base-url right and the deployment up?",
                pytrace=False,
            )
        return reply.status_code, reply.headers.get("Content-Type"), reply.content, list(reply.headers.items())

    def expect(self, rule: str, problems: list[str], *exchanges: Exchange) -> None:
        """Fail, naming `rule`, when a behavioural rule found problems in these exchanges."""
        with self.ledger.lock:
            for exchange in exchanges:
                self.ledger.rules[exchange.operation_id].add(rule)
        self.fail_on([Violation(rule, p) for p in problems], *exchanges)

    def fail_on(self, violations: list[Violation], *exchanges: Exchange) -> None:
        if not violations:
            return
        self.ledger.failed(v.rule for v in violations)
        seed = f"\n  seed: rerun with --contract-seed {self.settings.seed}"
        lines = [str(v) for v in violations] + [f"  {e.describe()}" for e in exchanges]
        raise ContractViolation(redact("\n".join(lines) + seed, self.settings.secrets))
