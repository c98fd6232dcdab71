"""Every setting's default is written once, where the setting is declared: the SDK fills the
defaults into `config` before any stream runs, so a fallback in the code (`config.get("x",
60)`, `config.get("x") or 60`) is a second copy that can only drift from the first (one
did: the ERP's timeout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tap_arrivy.tap import TapArrivy
from tap_callrail.tap import TapCallRail
from tap_genius.tap import TapGenius
from tap_legacy_erp.tap import TapLegacyErp
from target_warehouse.target import TargetWarehouse

from tests.support.syntax import parse
from tests.test_module_graph import PACKAGES

PLUGINS = {
    "tap_arrivy": TapArrivy,
    "tap_callrail": TapCallRail,
    "tap_genius": TapGenius,
    "tap_legacy_erp": TapLegacyErp,
    "target_warehouse": TargetWarehouse,
}


def defaulted(plugin: type) -> set[str]:
    """The settings a plugin declares with a default."""
    return {
        name
        for name, schema in plugin.config_jsonschema["properties"].items()
        if "default" in schema
    }


def setting_read(node: ast.AST) -> str | None:
    """The setting name of a `….get("name"…)` call, if the node is one."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr != "get" or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def fallbacks(path: Path, names: set[str]) -> list[str]:
    """Each `get("name", default)` or `get("name") or default` of a defaulted setting."""
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            name = setting_read(node.values[0])
            if name in names:
                found.append(f"{path.name}:{node.lineno} {name}")
        name = setting_read(node)
        if name in names and len(node.args) > 1:  # type: ignore[attr-defined]
            found.append(f"{path.name}:{node.lineno} {name}")
    return found


@pytest.mark.parametrize("package", sorted(PLUGINS))
def test_no_default_is_written_a_second_time_in_the_code(package):
    names = defaulted(PLUGINS[package])
    found = [
        use for path in sorted(PACKAGES[package].rglob("*.py")) for use in fallbacks(path, names)
    ]
    assert not found, f"read these as config[name]; the declared default applies: {found}"


def test_shared_code_repeats_no_default_every_plugin_declares():
    common = set.intersection(
        *(defaulted(p) for name, p in PLUGINS.items() if name != "target_warehouse")
    )
    rest = {"timeout_seconds", "max_retries", "backoff_base_seconds"} & set.intersection(
        *(defaulted(PLUGINS[name]) for name in ("tap_arrivy", "tap_callrail", "tap_legacy_erp"))
    )
    names = common | rest
    found = [
        use
        for path in sorted(PACKAGES["suite_common"].rglob("*.py"))
        for use in fallbacks(path, names)
    ]
    assert not found, f"read these as config[name]: {found}"


def test_the_scan_finds_a_fallback(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        'a = config.get("x", 1)\nb = config.get("x") or 2\nc = config.get("y") or 3\n'
    )
    assert fallbacks(module, {"x"}) == ["m.py:1 x", "m.py:2 x"]
