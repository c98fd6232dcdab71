"""Dependencies run one way: no module imports, even for type hints only, a module that
imports it back, and suite-common imports no plugin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.syntax import parse

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "suite_common": ROOT / "suite-common" / "suite_common",
    "target_warehouse": ROOT / "target-warehouse" / "target_warehouse",
    "tap_arrivy": ROOT / "tap-arrivy" / "tap_arrivy",
    "tap_callrail": ROOT / "tap-callrail" / "tap_callrail",
    "tap_genius": ROOT / "tap-genius" / "tap_genius",
    "tap_legacy_erp": ROOT / "tap-legacy-erp" / "tap_legacy_erp",
    "orchestrate": ROOT / "orchestrate" / "orchestrate",
}


def imports(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports."""
    modules = {f"{package}.{p.stem}": p for p in PACKAGES[package].glob("*.py")}
    return {name: imports(path) & (set(modules) - {name}) for name, path in modules.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules on it, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_imports_one_that_imports_it(package):
    found = cycle(graph(package))
    assert found is None, " → ".join(found or [])


def test_the_cycle_finder_finds_cycles():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_suite_common_imports_no_plugin():
    plugins = {name for name in PACKAGES if name != "suite_common"}
    for path in PACKAGES["suite_common"].glob("*.py"):
        used = {module.split(".")[0] for module in imports(path)}
        assert not used & plugins, path.name


LEDGER = "target_warehouse.sync_history"
"""The run ledger's public module, all orchestrate may use of a plugin."""


def plugin_imports(path: Path) -> set[str]:
    """What a file imports of the plugins (taps, target-warehouse)."""
    plugins = {name for name in PACKAGES if name not in ("suite_common", "orchestrate")}
    return {module for module in imports(path) if module.split(".")[0] in plugins}


def test_orchestrate_uses_only_the_ledgers_public_module():
    """No tap's code, and of target-warehouse only sync_history: anything else it used
    would tie the orchestrator to a plugin's insides."""
    for path in PACKAGES["orchestrate"].glob("*.py"):
        used = plugin_imports(path) - {"target_warehouse"}
        others = {m for m in used if m != LEDGER and not m.startswith(f"{LEDGER}.")}
        assert not others, path.name


def test_the_plugin_import_check_sees_a_tap_and_a_target_internal(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from tap_genius.tap import STREAM_TYPES\nimport target_warehouse.naming\n")
    assert plugin_imports(module) == {
        "tap_genius.tap",
        "tap_genius.tap.STREAM_TYPES",
        "target_warehouse.naming",
    }
