"""Before any test against a live deployment: is it there, is it this API, does v4 answer, can writes be sent?

A wrong target should cost seconds and give one line naming the problem and the fix, not a page of failures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from vsee_contract import rules

from .discovery import run_id, unique_part
from .footprint import NO_SUCH_ROOM
from .model import REFUSED_TOKEN
from .target import Target


def _listed_with_token(target: Target, url: str) -> bool:
    """Whether the list the deployment refused without a token answers with one: then its public reads demand a
    token (a violation the tests report), and the account code is fine."""
    if not target.settings.api_token:
        return False
    assert target.session is not None
    try:
        answer = target.session.get(url, headers=target.headers("admin"))
    except requests.RequestException:
        return False
    body = _json(answer)
    return answer.status_code == 200 and isinstance(body, Mapping) and isinstance(body.get("data"), list)


def _token_refused(target: Target) -> str | None:
    """Prove the token without changing anything: remove the token's own user (`-`) from a room that does not
    exist, which the API must refuse, with 404 or 400 when the token is good and 401 or 403 when it is not."""
    assert target.session is not None
    room = f"{NO_SUCH_ROOM}-{run_id(target.settings)}"
    url = f"{target.v3_base}/users/-/rooms/{room}"
    try:
        answer = target.session.delete(url, headers=target.headers("admin"), json={"code": room})
    except requests.RequestException as exc:
        return f"cannot reach {url} ({type(exc).__name__}): is the deployment up and --base-url right?"
    if answer.status_code not in REFUSED_TOKEN:
        return None
    return (
        f"the deployment refused the token (DELETE {url} answered {answer.status_code}{_message(_json(answer))}): "
        "pass the clinic admin token with --contract-api-token (or set VSEE_API_TOKEN)"
    )


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(body: Any) -> str:
    """The server's own words on a refusal, when it gave any."""
    said = body.get("message") if isinstance(body, Mapping) else None
    return f' ("{str(said)[:200]}")' if said else ""


def _scheme(option: str, url: str | None) -> str | None:
    if url is None or urlsplit(url).scheme in ("http", "https"):
        return None
    return f"{option} {url!r} has no http:// or https:// in front: pass e.g. https://{url.split('://')[-1]}"


def problem(target: Target) -> str | None:
    """The first thing that makes a run against `target` pointless, as one line with its fix; None if ready."""
    settings = target.settings
    for option, url in (("--base-url", settings.base_url), ("--contract-v4-base-url", settings.v4_base_url)):
        if (wrong := _scheme(option, url)) is not None:
            return wrong
    if settings.allow_writes and not settings.api_token:
        return "--contract-allow-writes needs the clinic admin token: pass --contract-api-token TOKEN (or set VSEE_API_TOKEN)"
    assert target.session is not None and settings.base_url is not None
    headers = target.headers("none")
    url = f"{settings.base_url}/rooms"
    try:
        response = target.session.get(url, headers=headers)
    except requests.Timeout:
        return f"GET {url} gave no answer within {settings.timeout:g} s: raise --contract-timeout if it is this slow"
    except requests.RequestException as exc:
        return f"cannot reach {url} ({type(exc).__name__}): is the deployment up and --base-url right?"
    body = _json(response)
    listed = response.status_code == 200 and isinstance(body, Mapping) and isinstance(body.get("data"), list)
    # a refusal in the error shape is this API (an unknown account, a 5xx); a 404 or 405 on the list is a wrong path
    refused = response.status_code >= 400 and response.status_code not in (404, 405)
    refused = refused and not rules.error_shape(response.status_code, body)
    if not (listed or refused):
        kind = response.headers.get("Content-Type", "no content type")
        return (
            f"GET {url} answered {response.status_code} ({kind}), which is not the Rooms API's list: "
            "--base-url must be the API's v3 base, e.g. https://api.vsee.me/api_v3"
        )
    if refused and response.status_code < 500 and not _listed_with_token(target, url):  # the account is wrong
        account = repr(settings.account_code) if settings.account_code else "none"
        return (
            f"GET {url} with account code {account} answered {response.status_code}{_message(body)}: pass the "
            "clinic's account code with --contract-account-code (or set VSEE_ACCOUNT_CODE)"
        )
    if settings.allow_writes and (wrong := _token_refused(target)) is not None:
        return wrong
    rooms = [r for r in body["data"] if isinstance(r, Mapping)] if listed else []
    earlier = next((str(r["slug"]) for r in rooms if unique_part(target).match(str(r.get("slug", "")))), None)
    if settings.allow_writes and earlier is not None:
        return (
            f"the deployment already has room {earlier!r} from a run with --contract-seed {settings.seed}, whose "
            "slugs this run would create again: pass another --contract-seed (or none, for a random one)"
        )
    codes = [r["code"] for r in rooms if isinstance(r.get("code"), str)]
    if not codes:
        return None
    v4 = target.base("v4")
    if v4 is None:
        return "cannot derive the api_v4 base from --base-url (it does not end in api_v3): pass --contract-v4-base-url"
    detail = f"{v4}/rooms/{codes[0]}"
    try:
        answer = target.session.get(detail, headers=headers)
    except requests.RequestException as exc:
        return f"cannot reach {detail} ({type(exc).__name__}): pass --contract-v4-base-url with the API's v4 base"
    if answer.status_code != 200 or not isinstance(_json(answer), Mapping):
        return (
            f"GET {detail} answered {answer.status_code} for a room GET /rooms lists: pass --contract-v4-base-url with the "
            "API's v4 base"
        )
    return None
