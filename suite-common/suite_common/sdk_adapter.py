"""The singer-sdk internals suite-common relies on, in one place (a test notices when the
SDK changes them): everything else uses the SDK's public API."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase


def mutable_config(plugin: PluginBase) -> dict[str, t.Any]:
    """The dict behind `plugin.config` (a read-only view), to rename deprecated settings
    once, after the SDK validated and completed them with their defaults."""
    config = plugin.__dict__.get("_config")
    if not isinstance(config, dict):
        msg = "singer-sdk no longer keeps a plugin's settings in _config: update sdk_adapter"
        raise TypeError(msg)
    return config
