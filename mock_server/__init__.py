"""A stateful, spec-driven mock of the VSee Clinic Rooms API: `create_app()` builds it, `vsee-mock` serves it."""

from .app import MockConfig, create_app
from .fixtures import FixtureError, default_credentials

__all__ = ["FixtureError", "MockConfig", "create_app", "default_credentials"]
