"""The validation proxy: forward live traffic to a real deployment and judge every exchange against the contract."""

from .app import ProxyConfig, ProxyRuntime, create_proxy_app, proxy_runtime
from .recorder import FixtureFormat, Recorder

__all__ = ["FixtureFormat", "ProxyConfig", "ProxyRuntime", "Recorder", "create_proxy_app", "proxy_runtime"]
