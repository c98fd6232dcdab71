"""`--test=schema` against the Arrivy stand-in: schemas written, the sample compared."""

from tests.support.singer_run import run_tap


def test_the_stand_in_fits_the_schemas(arrivy_server, arrivy_config):
    run = run_tap("tap-arrivy", arrivy_config, "--test=schema")
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["stream"] for m in run.messages if m["type"] == "SCHEMA"} >= {"tasks", "entities"}
    assert not [m for m in run.messages if m["type"] == "RECORD"]
    assert "Schema drift check: 0 difference(s)" in run.stderr


def test_a_source_that_changed_is_named_field_by_field(arrivy_server, arrivy_config):
    make = arrivy_server.entities.make

    def drifted(index):
        record = make(index)
        return {**record, "okta_user_id": f"okta-{index}", "is_disabled": "no"}

    arrivy_server.entities.make = drifted
    run = run_tap("tap-arrivy", arrivy_config, "--test=schema")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "entities: the source sends okta_user_id (string), which the schema lacks" in run.stderr
    assert "entities: is_disabled is string in the source ('no')" in run.stderr
    assert "Schema drift check: 2 difference(s)" in run.stderr
