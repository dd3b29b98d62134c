"""The one HTTP layer of the mock and the validation proxy: a request pipeline with two possible endings."""

from .app import MAX_BODY_BYTES, api_prefixes, base_app, finish
from .errors import error_body, header_text, shown
from .journal import Journal
from .pipeline import Answer, Ending, Incoming, Pipeline, flask_rule
from .responses import JSON, encode, json_response
from .site import Site

__all__ = [
    "JSON",
    "MAX_BODY_BYTES",
    "Answer",
    "Ending",
    "Incoming",
    "Journal",
    "Pipeline",
    "Site",
    "api_prefixes",
    "base_app",
    "encode",
    "error_body",
    "finish",
    "flask_rule",
    "header_text",
    "json_response",
    "shown",
]
