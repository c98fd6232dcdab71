"""`make docs`: each plugin's page in docs/plugins/, from the plugin itself.

A page is what `<plugin> --about --format markdown` prints (settings and capabilities),
then what a user needs to run it: its streams with their keys, replication keys and the
tables they land in; the variable Meltano reads for each setting; and how to run it alone
without the rows landing in `public`. `python docs/generate.py --check` fails when a page
is out of date (the tests run it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "plugins"
PLUGINS = ["tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp", "target-warehouse"]
# Enough settings for each tap to list its streams without reaching its source.
OFFLINE_CONFIG: dict[str, dict[str, t.Any]] = {
    "tap-arrivy": {"auth_key": "k", "auth_token": "t"},
    "tap-callrail": {"api_key": "k"},
    "tap-legacy-erp": {"base_url": "http://erp.invalid"},
}


def about(plugin: str) -> str:
    executable = str(Path(sys.executable).with_name(plugin))
    return subprocess.run(
        [executable, "--about", "--format", "markdown"], capture_output=True, text=True, check=True
    ).stdout


def meltano_plugin(plugin: str) -> dict[str, t.Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = project["plugins"]["extractors"] + project["plugins"]["loaders"]
    return next(entry for entry in plugins if entry["name"] == plugin)


def stream_rows(plugin: str) -> list[tuple[str, str, str, str]]:
    """(stream, key, replication key, parent) of each stream the tap declares."""
    if plugin == "tap-genius":
        from tap_genius.tap import STREAM_TYPES

        return [
            (
                s.name,
                ", ".join(s.key),
                " or ".join(s.change_columns) or "(full table)",
                f"table `{s.table_name}`",
            )
            for s in STREAM_TYPES
        ]
    module = __import__(f"{plugin.replace('-', '_')}.tap", fromlist=["tap"])
    tap_class = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and getattr(value, "name", None) == plugin
    )
    tap = tap_class(config=OFFLINE_CONFIG[plugin], validate_config=False)
    rows = []
    for stream in tap.streams.values():
        parent = stream.parent_stream_type.name if stream.parent_stream_type else ""
        rows.append(
            (
                stream.name,
                ", ".join(stream.primary_keys or []),
                stream.replication_key or "(full table)",
                f"each `{parent}`" if parent else "",
            )
        )
    return rows


def streams_section(plugin: str) -> list[str]:
    schema = meltano_plugin(plugin).get("load_schema", "public")
    lines = [
        "## Streams",
        "",
        f"Each stream loads into the table `{schema}.<stream>` of the warehouse (Meltano's "
        "`load_schema`).",
        "",
        "| Stream | Key | Replication key | Read from / per |",
        "|:-------|:----|:----------------|:----------------|",
    ]
    for name, key, replication_key, source in stream_rows(plugin):
        lines.append(f"| `{name}` | {key} | {replication_key} | {source or '—'} |")
    return [*lines, ""]


def variables_section(plugin: str) -> list[str]:
    prefix = plugin.upper().replace("-", "_")
    lines = [
        "## Meltano variables",
        "",
        "Meltano reads each setting from this variable (in `.env` or the environment) when "
        "meltano.yml does not set it:",
        "",
        "| Setting | Variable |",
        "|:--------|:---------|",
    ]
    for setting in meltano_plugin(plugin).get("settings", []):
        name = setting["name"]
        variable = f"`{prefix}_{name.upper()}`"
        if setting.get("env"):
            variable += f" or `{setting['env']}`"
        lines.append(f"| `{name}` | {variable} |")
    return [*lines, ""]


def running_alone_section(plugin: str) -> list[str]:
    if plugin == "target-warehouse":
        return [
            "## Running it alone",
            "",
            "```sh",
            "tap-callrail --config tap.json | target-warehouse --config warehouse.json",
            "```",
            "",
            "Without Meltano nothing sets `default_target_schema`, so rows land in `public`: "
            'put `"default_target_schema": "callrail"` in warehouse.json.',
            "",
        ]
    schema = meltano_plugin(plugin).get("load_schema", "public")
    return [
        "## Running it alone",
        "",
        "```sh",
        f"{plugin} --config config.json --discover > catalog.json   # what it can read",
        f"{plugin} --config config.json --test                     # can it connect",
        f"{plugin} --config config.json | target-warehouse --config warehouse.json",
        "```",
        "",
        f"With Meltano the rows land in `{schema}` (`load_schema`); alone, nothing sets the "
        "target's schema, so they would land in `public`: put "
        f'`"default_target_schema": "{schema}"` in warehouse.json. `meltano invoke '
        f"--dump=config {plugin}` prints the config JSON Meltano would pass.",
        "",
    ]


def page(plugin: str) -> str:
    sections = [] if plugin == "target-warehouse" else streams_section(plugin)
    sections += variables_section(plugin) + running_alone_section(plugin)
    return about(plugin).rstrip() + "\n\n" + "\n".join(sections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail on a page out of date")
    args = parser.parse_args()
    stale = []
    for plugin in PLUGINS:
        path = PAGES / f"{plugin}.md"
        text = page(plugin)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(plugin)
        else:
            PAGES.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make docs`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
