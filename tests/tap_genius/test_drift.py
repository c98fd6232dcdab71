"""`--test=schema` against the Genius database: its columns against those the tap reads."""

import sqlalchemy as sa

from tests.support.singer_run import run_tap


def test_missing_and_unread_columns_are_named(genius_config, genius_db):
    with genius_db.begin() as connection:
        connection.execute(sa.text("ALTER TABLE prospect DROP COLUMN county"))
        connection.execute(sa.text("ALTER TABLE prospect ADD COLUMN cid INT"))
    run = run_tap("tap-genius", genius_config, "--test=schema")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Drift: prospects: prospect has no column county" in run.stderr
    assert "Drift: prospects: prospect has columns the stream does not read: cid" in run.stderr
    assert "Schema drift check: 1 column(s) missing" in run.stderr
    assert not [m for m in run.messages if m["type"] == "RECORD"]
