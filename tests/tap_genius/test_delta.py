"""Delta sync: keyset chunks, bookmarks, NULL change columns, resume, start/end, max_records."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from sandbox import genius
from tests.support.singer_run import run_tap
from tests.tap_genius.conftest import ids, rows, table_ids


def appointments(config, **kwargs):
    run = run_tap("tap-genius", config, select=["appointments"], **kwargs)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_equal_timestamps_across_chunk_edges_are_neither_skipped_nor_repeated(
    genius_config, genius_db
):
    shared = rows(
        genius_db,
        "SELECT updated_at, COUNT(*) AS n FROM appointment WHERE updated_at IS NOT NULL "
        "GROUP BY updated_at HAVING n > 3",
    )
    assert shared, "rows must share change stamps for this test to mean anything"
    run = appointments({**genius_config, "chunk_size": 3})
    emitted = ids(run.records("appointments"), "id")
    assert sorted(emitted) == table_ids(genius_db, "appointment")
    assert len(emitted) == len(set(emitted))
    stamped = [r["updated_at"] for r in run.records("appointments") if r["updated_at"]]
    assert stamped == sorted(stamped, key=moment), "the change timeline comes in order"


def test_a_delta_reads_only_what_changed_since_the_bookmark(genius_config, genius_db):
    first = appointments(genius_config)
    state = first.final_state
    bookmark = moment(state["bookmarks"]["appointments"]["replication_key_value"])
    changed = genius.mutate(genius_db, round_number=1)["appointment"]
    second = appointments(genius_config, state=state)
    emitted = set(ids(second.records("appointments"), "id"))
    assert set(changed["updated"]) | set(changed["created"]) <= emitted
    at_bookmark = {
        r["id"]
        for r in rows(genius_db, "SELECT id, updated_at FROM appointment")
        if r["updated_at"] and r["updated_at"].replace(tzinfo=datetime.timezone.utc) == bookmark
    }
    # only changes, and the rows of the bookmark's own second (read again, by key)
    assert emitted <= set(changed["updated"]) | set(changed["created"]) | at_bookmark
    assert moment(second.final_state["bookmarks"]["appointments"]["replication_key_value"]) > (
        bookmark
    )


def test_rows_without_a_change_value_are_read_once_and_new_ones_later(genius_config, genius_db):
    unstamped = [
        r["id"] for r in rows(genius_db, "SELECT id FROM appointment WHERE updated_at IS NULL")
    ]
    assert unstamped
    first = appointments(genius_config)
    assert set(unstamped) <= set(ids(first.records("appointments"), "id"))
    state = first.final_state
    assert state["bookmarks"]["appointments"]["unstamped_key_after"] == [max(unstamped)]
    again = appointments(genius_config, state=state)
    assert not set(unstamped) & set(ids(again.records("appointments"), "id"))
    with genius_db.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO appointment (id, city, updated_at) VALUES (5001, 'Boise', NULL)")
        )
    third = appointments(genius_config, state=again.final_state)
    assert 5001 in ids(third.records("appointments"), "id")


def test_a_stopped_run_resumes_mid_table_without_gaps(genius_config, genius_db):
    partial = appointments({**genius_config, "max_records": 100})
    assert len(partial.records("appointments")) == 100
    rest = appointments(genius_config, state=partial.final_state)
    seen = set(ids(partial.records("appointments"), "id")) | set(
        ids(rest.records("appointments"), "id")
    )
    everything = table_ids(genius_db, "appointment")
    assert sorted(seen) == everything
    assert len(rest.records("appointments")) < len(everything), (
        "the second run resumed, not restarted"
    )


def test_start_and_end_dates_bound_the_change_timeline(genius_config, genius_db):
    stamps = sorted(
        r["updated_at"]
        for r in rows(genius_db, "SELECT updated_at FROM appointment WHERE updated_at IS NOT NULL")
    )
    start, end = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    config = {
        **genius_config,
        "start_date": start.isoformat() + "+00:00",
        "end_date": end.isoformat() + "+00:00",
    }
    run = appointments(config)
    stamped = [r for r in run.records("appointments") if r["updated_at"]]
    expected = [s for s in stamps if start <= s < end]
    assert len(stamped) == len(expected)
    assert all(
        start.replace(tzinfo=datetime.timezone.utc)
        <= moment(r["updated_at"])
        < end.replace(tzinfo=datetime.timezone.utc)
        for r in stamped
    )


def test_the_change_column_can_be_overridden_per_stream(genius_config):
    run = appointments({**genius_config, "change_columns": {"appointments": "assign_date"}})
    assert run.schema("appointments")["bookmark_properties"] == ["assign_date"]
    assigned = [r["assign_date"] for r in run.records("appointments") if r["assign_date"]]
    assert assigned == sorted(assigned, key=moment)
    assert "assign_date" in run.final_state["bookmarks"]["appointments"]["replication_key"]
