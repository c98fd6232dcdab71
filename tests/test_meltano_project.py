"""meltano.yml declares every plugin setting (secrets sensitive) as the plugins declare
them, and each tap loads into its own schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ["tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp", "target-warehouse"]
SDK_BUILT_INS = {
    "batch_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "stream_map_config",
    "stream_maps",
    "process_activate_version_messages",
}


def about(plugin: str, output: str) -> str:
    executable = str(Path(sys.executable).with_name(plugin))
    return subprocess.run(
        [executable, "--about", "--format", output], capture_output=True, text=True, check=True
    ).stdout


def declared() -> dict[str, dict]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = project["plugins"]["extractors"] + project["plugins"]["loaders"]
    return {plugin["name"]: plugin for plugin in plugins}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_setting_is_declared_and_secrets_are_sensitive(plugin):
    described = json.loads(about(plugin, "json"))
    assert set(declared()[plugin]["capabilities"]) == set(described["capabilities"])
    properties = described["settings"]["properties"]
    names = [s["name"] for s in declared()[plugin]["settings"]]
    assert len(names) == len(set(names)), f"{plugin}: a setting is declared twice"
    settings = {s["name"]: s for s in declared()[plugin]["settings"]}
    missing = set(properties) - SDK_BUILT_INS - set(settings)
    assert not missing, f"{plugin}: settings not in meltano.yml: {sorted(missing)}"
    for name, schema in properties.items():
        if name in settings:
            assert settings[name].get("kind"), f"{plugin}.{name} has no kind"
            assert settings[name].get("description") == schema.get("description"), (
                f"{plugin}.{name}: meltano.yml's description differs from --about's"
            )
        if schema.get("secret"):
            assert settings[name].get("sensitive") is True, f"{plugin}.{name} must be sensitive"
    plugin_entry = declared()[plugin]
    assert plugin_entry["pip_url"].startswith("-e ./") and plugin_entry["executable"] == plugin


def test_each_tap_loads_into_its_own_schema():
    """A plugin that inherits (the reconciliation passes) loads into its parent's schema."""
    plugins = declared()
    schemas = {
        name: plugin.get("load_schema")
        for name, plugin in plugins.items()
        if "tap" in name and "inherit_from" not in plugin
    }
    for name, plugin in plugins.items():
        if "inherit_from" in plugin:
            assert plugin["inherit_from"] in schemas and "load_schema" not in plugin, name
    assert schemas == {
        "tap-arrivy": "arrivy",
        "tap-callrail": "callrail",
        "tap-genius": "genius",
        "tap-legacy-erp": "legacy_erp",
    }
