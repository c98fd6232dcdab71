"""Every plugin installs alone from its folder, as users install it (pip, pipx, Meltano)."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAPS = ["tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp"]


@pytest.mark.parametrize("tap", TAPS)
def test_suite_common_is_a_direct_reference_never_looked_up_on_an_index(tap):
    """A bare `suite-common` would be looked up on the package index, where anybody can
    publish that name (dependency confusion); a direct reference to the folder never is."""
    text = (ROOT / tap / "pyproject.toml").read_text()
    shared = re.findall(r'^\s*"(suite-common[^"]*)"', text, flags=re.MULTILINE)
    assert shared == ["suite-common @ {root:parent:uri}/suite-common"]


def test_a_tap_installs_alone_into_a_fresh_environment(tmp_path):
    """`pip install ./tap-genius` on its own brings suite-common from the folder beside it."""
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT / "tap-genius")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    about = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "tap-genius"), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert about.returncode == 0, about.stderr[-2000:]
    assert '"name": "tap-genius"' in about.stdout
    where = subprocess.run(
        [str(python), "-c", "import suite_common; print(suite_common.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(tmp_path) in where.stdout, "suite-common was installed, not borrowed"
    assert sys.prefix not in where.stdout
