"""A stateful, spec-driven mock of the VSee Clinic Rooms API: `create_app()` builds it, `vsee-mock` serves it."""

from .app import MockConfig, MockRuntime, create_app, runtime
from .fixtures import FixtureError, default_credentials, load_fixtures, new_room_defaults
from .namespaces import NAMESPACE_HEADER

__all__ = [
    "NAMESPACE_HEADER",
    "FixtureError",
    "MockConfig",
    "MockRuntime",
    "create_app",
    "default_credentials",
    "load_fixtures",
    "new_room_defaults",
    "runtime",
]
