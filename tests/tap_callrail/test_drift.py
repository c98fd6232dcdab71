"""`--test=schema` against the CallRail stand-in (shaped as CallRail's docs describe)."""

from tests.support.singer_run import run_tap


def test_the_stand_in_fits_the_schemas(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config, "--test=schema")
    assert run.returncode == 0, run.stderr[-2000:]
    assert len([m for m in run.messages if m["type"] == "SCHEMA"]) == 8
    assert "calls: 50 sampled records fit the schema" in run.stderr
    assert "Schema drift check: 0 difference(s)" in run.stderr
