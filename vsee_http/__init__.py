"""The one HTTP layer of the mock and the validation proxy: a request pipeline with two possible endings."""

from .app import ADMIN_PREFIX, MAX_BODY_BYTES, api_prefixes, base_app, finish
from .errors import error_body, header_text, shown
from .journal import NAMESPACE_KEY, PROBLEM_KEY, Journal
from .pipeline import Answer, Ending, Incoming, Pipeline, flask_rule
from .responses import JSON, encode, json_response

__all__ = [
    "ADMIN_PREFIX",
    "JSON",
    "MAX_BODY_BYTES",
    "NAMESPACE_KEY",
    "PROBLEM_KEY",
    "Answer",
    "Ending",
    "Incoming",
    "Journal",
    "Pipeline",
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
