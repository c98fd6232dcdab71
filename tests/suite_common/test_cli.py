"""suite_common.cli: command-line files checked first, and the most specific fix wins."""

from __future__ import annotations

import pytest
from suite_common.cli import MissingFileError, NotJsonError, check_json_files, run_cli


def test_files_named_in_either_option_form_are_checked(tmp_path):
    good = tmp_path / "good.json"
    good.write_text("{}")
    check_json_files(["--config", str(good), f"--state={good}", "--config", "ENV"])
    with pytest.raises(MissingFileError, match="the state file"):
        check_json_files([f"--state={tmp_path / 'gone.json'}"])
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(NotJsonError, match=r"the catalog file .*bad\.json is not JSON"):
        check_json_files(["--catalog", str(tmp_path / "bad.json")])


class BroadError(Exception):
    pass


class NarrowError(BroadError):
    pass


def test_the_most_specific_listed_type_gives_the_fix(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tap-x"])

    def fails() -> None:
        raise NarrowError("it broke")

    with pytest.raises(SystemExit) as ended:
        run_cli("tap-x", fails, [(BroadError, "the broad fix"), (NarrowError, "the narrow fix")])
    assert ended.value.code == 1
    assert capsys.readouterr().err == "tap-x: error: it broke. Fix: the narrow fix\n"


def test_anything_unlisted_keeps_its_traceback(monkeypatch):
    monkeypatch.setattr("sys.argv", ["tap-x"])

    def fails() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_cli("tap-x", fails, [(BroadError, "fix")])
