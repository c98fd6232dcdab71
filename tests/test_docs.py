"""The docs stay current: every relative link and anchor resolves, every page is reachable
from the README, each plugin's README carries what `make docs` generates from the plugin
today, no settings table is typed by hand, and every benchmark script has its command on the
benchmarks page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
import generate  # noqa: E402

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def pages() -> list[Path]:
    """Every markdown file of the repository (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).exists()]


def prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        if line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, count = base, 0
            while name in found:
                count += 1
                name = f"{base}-{count}"
            found.add(name)
    return found


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path.read_text()))
        if not re.match(r"[a-z]+:", target)
    ]


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_the_link_check_sees_a_broken_link_and_a_broken_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [wrong](other.md#no-section) "
        "`[code](not-a-link.md)` [self](#top-title)\n\n# Top title\n"
    )
    assert broken_links(page) == [
        "missing.md (no such file)",
        "other.md#no-section (no heading #no-section)",
    ]


def test_every_page_is_reachable_from_the_readme():
    reached, queue = set(), [ROOT / "README.md"]
    while queue:
        page = queue.pop()
        if page in reached:
            continue
        reached.add(page)
        for target in relative_links(page):
            linked = (page.parent / target.partition("#")[0]).resolve()
            if linked.suffix == ".md" and linked.exists():
                queue.append(linked)
    unreached = sorted(str(page.relative_to(ROOT)) for page in set(pages()) - reached)
    assert unreached == []


def test_the_readme_is_a_front_door():
    """What a newcomer needs first, and a table of contents into docs/; the rest lives there."""
    readme = (ROOT / "README.md").read_text()
    for needed in ("## Contents", "make demo", "make test", "## Layout", "docs/flow.svg"):
        assert needed in readme
    assert len(readme.splitlines()) < 150


def test_plugin_readmes_carry_what_the_plugins_say_today():
    """The generated part of each plugin's README is what `make docs` writes now."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def hand_written(text: str) -> str:
    """A page without its generated part."""
    head, _, rest = text.partition(generate.BEGIN)
    return head + rest.partition(generate.END)[2]


def test_no_settings_table_is_typed_by_hand():
    for page in pages():
        for line in hand_written(page.read_text()).splitlines():
            cells = [cell.strip().strip("`").lower() for cell in line.strip("|").split("|")]
            assert not (line.startswith("|") and cells[0] == "setting"), (
                f"{page.relative_to(ROOT)} types a settings table; it belongs in the "
                "generated part (`make docs`)"
            )


@pytest.mark.parametrize("plugin", generate.PLUGINS)
def test_each_plugin_readme_has_the_hub_sections(plugin):
    readme = (ROOT / plugin / "README.md").read_text()
    for section in ("## Installation", "## Capabilities", "## Settings", "## Running it alone"):
        assert section in readme
    assert "## Troubleshooting" in hand_written(readme)
    assert "## Meltano variables" in readme and "default_target_schema" in readme
    if plugin != "target-warehouse":
        assert "| Replication key |" in readme and "## How it reads" in readme


def test_every_benchmark_has_its_command_on_the_benchmarks_page():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    scripts = [
        path.name
        for path in (ROOT / "tests" / "benchmarks").glob("*.py")
        if '"__main__"' in path.read_text()
    ]
    assert scripts and [name for name in scripts if f"tests/benchmarks/{name}" not in page] == []
