"""Who serves the pipeline. `vsee_http` names neither the mock nor the proxy: each passes its own `Site`, which says
what its app, its logger and its WSGI environ keys are called and where its admin routes live."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Site:
    app_name: str  # the Flask app's import name (`mock_server`); an unexpected 500 names it
    name: str  # `vsee_mock`: the logger's name and the prefix of the WSGI environ keys the site sets
    admin_prefix: str  # `/__mock__`: the journal, the console's assets and the site's own admin routes
    admin_aliases: tuple[str, ...] = ()  # prefixes the admin routes shipped under before, kept answering

    @property
    def admin_prefixes(self) -> tuple[str, ...]:
        return (self.admin_prefix, *self.admin_aliases)

    @cached_property  # read on every call (made once: a frozen dataclass's cached_property writes its __dict__)
    def problem_key(self) -> str:
        """WSGI environ key: why the contract refused the request, if it did (the journal shows it)."""
        return f"{self.name}.problem"

    @cached_property
    def namespace_key(self) -> str:
        """WSGI environ key: the namespace the request used (the mock's; the journal filters by it)."""
        return f"{self.name}.namespace"

    @cached_property
    def log(self) -> logging.Logger:
        return logging.getLogger(self.name)
