"""Only the `sdk_adapter.py` modules touch singer-sdk internals.

A private SDK name (a method or attribute the SDK spells with a leading underscore, or a
private SDK module) used anywhere else would be a dependency no test checks when the SDK
changes; the adapters list theirs and are tested against the installed SDK
(tests/suite_common/test_sdk_adapter.py, tests/target_warehouse/test_sdk_adapter.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import singer_sdk

from tests.support.syntax import parse
from tests.test_module_graph import PACKAGES

ADAPTER = "sdk_adapter.py"


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def sdk_private_names() -> set[str]:
    """Every private method, attribute and field the installed singer-sdk defines."""
    names: set[str] = set()
    for path in Path(singer_sdk.__file__).parent.rglob("*.py"):
        for node in ast.walk(parse(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return {name for name in names if is_private(name)}


def private_uses(path: Path, private: set[str]) -> list[str]:
    """Each place in a file that names an SDK internal, as `file:line what`."""
    found = []
    for node in ast.walk(parse(path)):
        what = None
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            names = [*node.module.split("."), *(alias.name for alias in node.names)]
            what = next((f"imports {name}" for name in names if is_private(name)), None)
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names if a.name.startswith("singer_sdk")]
            parts = [part for module in modules for part in module.split(".")]
            what = next((f"imports {part}" for part in parts if is_private(part)), None)
        elif isinstance(node, ast.Attribute) and node.attr in private:
            what = f"uses {node.attr}"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in private:
            what = f"overrides {node.name}"
        if what:
            found.append(f"{path.name}:{node.lineno} {what}")
    return found


@pytest.fixture(scope="module")
def private() -> set[str]:
    return sdk_private_names()


def test_the_sdk_has_private_names_to_look_for(private):
    assert {"_process_record_message", "_request", "_sinks_active"} <= private


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_outside_the_adapter_touches_an_sdk_internal(package, private):
    files = [p for p in sorted(PACKAGES[package].rglob("*.py")) if p.name != ADAPTER]
    uses = [use for path in files for use in private_uses(path, private)]
    assert not uses, f"{package}: move these into {ADAPTER}: {uses}"


def test_the_scan_finds_an_internal_where_one_is_used(tmp_path, private):
    module = tmp_path / "leaky.py"
    module.write_text(
        "from singer_sdk.plugin_base import _ConfigInput\n"
        "class S:\n"
        "    def _request(self, prepared_request, context):\n"
        "        return self._tap\n"
    )
    assert private_uses(module, private) == [
        "leaky.py:1 imports _ConfigInput",
        "leaky.py:3 overrides _request",
        "leaky.py:4 uses _tap",
    ]
