"""A deployment that stops answering mid-run is said once: how many requests it answered, the last one as a curl,
and the run ends there, instead of a connection traceback in every test that follows (a crashed server, a dropped
tunnel, a deployment restarted under the run)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from requests import PreparedRequest, Response

from vsee_contract import curl_command

from .transport import GuardedAdapter

TRANSPORT_HEADERS = {"user-agent", "accept-encoding", "accept", "connection", "content-length"}  # curl sets its own


class WatchedAdapter(GuardedAdapter):
    """The guarded adapter, which ends the run when a connection fails once it is `armed` (the preflight found the
    deployment answering; before that the preflight says what is wrong itself)."""

    armed = False
    gone: str | None = None  # what was said when the deployment stopped answering
    secret_headers: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered = 0
        self._saying = threading.Lock()

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        if self.gone is not None:  # said once; whatever still asks ends the same way
            pytest.exit(self.gone, returncode=pytest.ExitCode.INTERRUPTED)
        try:
            response = super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            if not self.armed:
                raise
            with self._saying:  # requests in flight side by side fail together: the first says it
                if self.gone is None:
                    self.gone = stopped_answering(request, exc, self._answered, self.secret_headers)
            pytest.exit(self.gone, returncode=pytest.ExitCode.INTERRUPTED)
        with self._saying:
            self._answered += 1  # answers, not requests sent: others may still be in flight when it stops
        return response


def stopped_answering(request: PreparedRequest, exc: Exception, answered: int, secret_headers: tuple[str, ...]) -> str:
    body = request.body.encode() if isinstance(request.body, str) else request.body
    headers = {k: v for k, v in request.headers.items() if k.lower() not in TRANSPORT_HEADERS}
    curl = curl_command(str(request.method), str(request.url), headers, body, None, secret_headers)
    return (
        f"vsee-contract: the deployment stopped answering after {answered} requests ({type(exc).__name__}); the run "
        f"ends here. The last request: {curl}"
    )
