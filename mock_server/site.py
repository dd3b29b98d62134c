"""The mock as the HTTP layer knows it: its app, logger and environ keys' name, and its admin routes' prefix."""

from vsee_http import Site

SITE = Site(app_name="mock_server", name="vsee_mock", admin_prefix="/__mock__")
