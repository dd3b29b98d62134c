"""A stateful, spec-driven mock of the VSee Clinic Rooms API: `create_app()` builds it, `vsee-mock` serves it."""

from .app import MockConfig, MockRuntime, create_app, runtime
from .fixtures import FixtureError, default_credentials, load_fixtures, new_room_defaults

__all__ = [
    "FixtureError",
    "MockConfig",
    "MockRuntime",
    "create_app",
    "default_credentials",
    "load_fixtures",
    "new_room_defaults",
    "runtime",
]
