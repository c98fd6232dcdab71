"""One error path for every plugin: what a user can fix ends in one line naming it, never a
traceback; an unknown setting is named with the closest known one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLUGINS = ["tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp", "target-warehouse"]
# A valid minimal config per plugin, pointing at a host that does not exist.
NOWHERE = {
    "tap-arrivy": {"auth_key": "k", "auth_token": "t", "api_url": "http://nowhere.invalid/api"},
    "tap-callrail": {"api_key": "k", "api_url": "http://nowhere.invalid/v3"},
    "tap-genius": {"host": "nowhere.invalid", "user": "u", "password": "p", "database": "d"},
    "tap-legacy-erp": {"base_url": "http://nowhere.invalid"},
    "target-warehouse": {"sqlalchemy_url": "postgresql://u@nowhere.invalid/db"},
}
# A setting each plugin declares as an integer.
INTEGER_SETTING = {
    "tap-arrivy": "max_pages",
    "tap-callrail": "page_size",
    "tap-genius": "max_records",
    "tap-legacy-erp": "max_pages",
    "target-warehouse": "batch_size_rows",
}


def run(plugin: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    executable = str(Path(sys.executable).with_name(plugin))
    return subprocess.run(
        [executable, *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def one_error_line(done: subprocess.CompletedProcess, plugin: str) -> str:
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith(f"{plugin}: error:")]
    assert len(lines) == 1, done.stderr[-2000:]
    assert "Fix:" in lines[0]
    return lines[0]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_config_file_that_is_missing_or_not_json(plugin, tmp_path):
    missing = one_error_line(run(plugin, "--config", str(tmp_path / "nope.json")), plugin)
    assert "nope.json does not exist" in missing
    broken = tmp_path / "broken.json"
    broken.write_text('{"api_key": ')
    assert "broken.json is not JSON" in one_error_line(run(plugin, "--config", str(broken)), plugin)


@pytest.mark.parametrize(
    ("plugin", "test"),
    [(plugin, False) for plugin in PLUGINS]
    + [(plugin, True) for plugin in PLUGINS if plugin != "target-warehouse"],  # no --test
)
def test_an_invalid_setting_is_named(plugin, test, tmp_path):
    """`--test` (a tap's) and a sync with a value the setting's type refuses: the SDK's own
    command would log each refused value, and end with no line of ours."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**NOWHERE[plugin], INTEGER_SETTING[plugin]: "many"}))
    args = ["--config", str(config)] + (["--test"] if test else [])
    line = one_error_line(run(plugin, *args), plugin)
    assert "invalid settings" in line and INTEGER_SETTING[plugin] in line


@pytest.mark.parametrize("plugin", PLUGINS)
def test_an_unknown_host_fails_at_once_in_one_line(plugin, tmp_path):
    """A name that does not resolve is not retried for a minute as if it were transient."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**NOWHERE[plugin], "max_retries": 6}))
    started = time.monotonic()
    args = ["--config", str(config)] + ([] if plugin == "target-warehouse" else ["--test"])
    stdin = (
        '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}, "key_properties": []}\n'
    )
    line = one_error_line(run(plugin, *args, stdin=stdin), plugin)
    assert "nowhere.invalid" in line
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("plugin", PLUGINS)
def test_an_unknown_setting_names_the_closest_known_one(plugin, tmp_path):
    config = tmp_path / "config.json"
    misspelt = {**NOWHERE[plugin], INTEGER_SETTING[plugin] + "s": 5}
    config.write_text(json.dumps(misspelt))
    flags = ["--discover"] if plugin != "target-warehouse" else []
    done = run(plugin, "--config", str(config), *flags)
    name = INTEGER_SETTING[plugin]
    assert f"Unknown setting {name}s is ignored; did you mean {name}?" in done.stderr


A_STREAM = {
    "tap-arrivy": "customers",
    "tap-callrail": "accounts",
    "tap-legacy-erp": "kunden",
    "target-warehouse": "s",
}


@pytest.mark.parametrize("plugin", sorted(set(PLUGINS) - {"tap-genius"}))
def test_a_stream_map_that_cannot_work_is_named_in_one_line(plugin, tmp_path):
    """(tap-genius learns its streams from its database, which it reaches first.)"""
    for broken in ({"x": "1 +"}, {"__key_properties__": ["no_such_property"]}):
        config = tmp_path / "config.json"
        maps = {A_STREAM[plugin]: broken}
        config.write_text(json.dumps({**NOWHERE[plugin], "stream_maps": maps}))
        args = ["--config", str(config)] + ([] if plugin == "target-warehouse" else ["--test"])
        stdin = '{"type": "SCHEMA", "stream": "s", "schema": {"properties": {"id": {}}}, '
        stdin += '"key_properties": ["id"]}\n'
        line = one_error_line(run(plugin, *args, stdin=stdin), plugin)
        assert "stream_maps" in line


SECRET_SETTING = {
    "tap-arrivy": "auth_token",
    "tap-callrail": "api_key",
    "tap-genius": "password",
    "tap-legacy-erp": "password",
    "target-warehouse": "password",
}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_refused_secret_is_named_without_its_value(plugin, tmp_path):
    """The schema validator quotes the value it refused; for a secret it must not."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**NOWHERE[plugin], SECRET_SETTING[plugin]: 987654321}))
    for flags in (["--test"] if plugin != "target-warehouse" else [], []):
        done = run(plugin, "--config", str(config), *flags)
        assert done.returncode == 1
        assert "987654321" not in done.stderr + done.stdout
        assert SECRET_SETTING[plugin] in done.stderr
