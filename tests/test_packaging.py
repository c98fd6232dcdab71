"""Every plugin installs alone from its folder, as users install it (pip, pipx, Meltano)."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.index

ROOT = Path(__file__).resolve().parents[1]
TAPS = ["tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp"]


@pytest.mark.parametrize("tap", [*TAPS, "target-warehouse"])
def test_suite_common_is_a_direct_reference_never_looked_up_on_an_index(tap):
    """A bare `suite-common` would be looked up on the package index, where anybody can
    publish that name (dependency confusion); a direct reference to the folder never is."""
    text = (ROOT / tap / "pyproject.toml").read_text()
    shared = re.findall(r'^\s*"(suite-common[^"]*)"', text, flags=re.MULTILINE)
    assert shared == ["suite-common @ {root:parent:uri}/suite-common"]


@pytest.mark.parametrize("plugin", [*TAPS, "target-warehouse"])
def test_each_plugin_installs_alone_into_a_fresh_environment(tmp_path, plugin):
    """`pip install ./<plugin>` on its own (not editable: the files a wheel really holds)
    works, brings suite-common from the folder beside it, and the plugin runs."""
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT / plugin)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    about = subprocess.run(
        [str(tmp_path / "venv" / "bin" / plugin), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert about.returncode == 0, about.stderr[-2000:]
    assert f'"name": "{plugin}"' in about.stdout
    package = plugin.replace("-", "_")
    if package:
        script = (
            f"import pathlib, {package}, suite_common; "
            f"print(suite_common.__file__); "
            f"folder = pathlib.Path({package}.__file__).parent; "
            "print(sorted(p.name for p in folder.rglob('*.json')))"
        )
        shown = subprocess.run(
            [str(python), "-c", script], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        assert str(tmp_path) in shown[0] and sys.prefix not in shown[0], "suite-common installed"
        schemas = sorted(p.name for p in (ROOT / plugin / package).rglob("*.json"))
        assert shown[1] == str(schemas), "every schema file is in the wheel, once"
