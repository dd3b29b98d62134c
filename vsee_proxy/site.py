"""The proxy as the HTTP layer knows it: its own logger, environ keys and admin prefix (`/__proxy__`); its admin
routes shipped under `/__mock__`, which keeps answering."""

from vsee_http import Site

SITE = Site(app_name="vsee_proxy", name="vsee_proxy", admin_prefix="/__proxy__", admin_aliases=("/__mock__",))
