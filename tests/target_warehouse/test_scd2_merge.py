"""The history merge as a property: any sequence of record versions and deletes, in any
batches, gives one current version per key (the last one sent, unless it was deleted),
intervals that chain in input order without overlaps (a gap only where a delete was), and
the same table when it is all loaded again."""

from __future__ import annotations

import datetime
import itertools
import uuid

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from target_warehouse import scd2_table
from target_warehouse.copy_encoding import EncodingStats
from target_warehouse.loading import TableLoader
from target_warehouse.row_encoding import RowEncoder
from target_warehouse.table_schema import desired_layout

PROPERTIES = {
    "id": {"type": "integer"},
    "status": {"type": ["null", "string"]},
    "_sdc_extracted_at": {"type": ["null", "string"], "format": "date-time"},
    "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
}
START = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)

# An event: (key, status or None for a delete, whether it shares the extraction moment of
# the event before it). Moments never go back (test_load_methods covers a late record);
# ties between records of a batch are common, as when a tap stamps a whole page at once
# (across batches a tie with data flipping back, A B A, cannot be told from a re-run of
# the first A; the SDK stamps every record to the microsecond). A delete is
# told apart from its neighbours by its moment: with a tie, a re-run could not tell
# whether the delete came before or after the record beside it.
versions = st.tuples(st.integers(0, 3), st.sampled_from("abc"), st.booleans())
deletes = st.tuples(st.integers(0, 3), st.none(), st.just(False))
events = st.one_of(versions, deletes)
batches = st.lists(st.lists(events, min_size=1, max_size=8), min_size=1, max_size=5)


@pytest.fixture(scope="module")
def connection(warehouse_url):
    connection = psycopg2.connect(warehouse_url)
    yield connection
    connection.close()


def _loader(connection, schema_name: str) -> tuple[TableLoader, RowEncoder]:
    layout = desired_layout(schema_name, "things", PROPERTIES, ["id"], None, versioned=True)
    with connection.cursor() as cursor:
        for statement in scd2_table.statements(layout, None, view_exists=False):
            cursor.execute(statement)
    connection.commit()
    encoder = RowEncoder(
        "things", {"properties": PROPERTIES}, layout, ["id"],
        stats=EncodingStats(), validate=True, sync_started_at=0, valid_from=True,
    )  # fmt: skip
    return TableLoader(connection, layout, hard_delete=False), encoder


def _rows(encoder: RowEncoder, batch: list[tuple], clock: int) -> tuple[list[str], int]:
    encoded = []
    after_delete = True  # a batch starts at a moment of its own
    for key, status, same_moment in batch:
        clock += 0 if same_moment and not after_delete else 1
        after_delete = status is None
        moment = (START + datetime.timedelta(seconds=clock)).isoformat()
        record = {"id": key, "status": status}
        if status is None:
            record["_sdc_deleted_at"] = moment
        encoded.append(encoder.encode(record, {"time_extracted": moment})[0])
    return encoded, clock


def _load(connection, loader, encoder, sequence) -> None:
    clock = 0
    for batch in sequence:
        encoded, clock = _rows(encoder, batch, clock)
        loader.record_versions(encoder.columns, encoded)
        connection.commit()


def _expected_versions(sequence) -> dict[int, list[str]]:
    """The model: a key's versions are its statuses with repeats collapsed, and a delete
    ends the open one."""
    versions: dict[int, list[str]] = {}
    open_status: dict[int, str | None] = {}
    for key, status, _ in (event for batch in sequence for event in batch):
        if status is not None and open_status.get(key) != status:
            versions.setdefault(key, []).append(status)
        open_status[key] = status
    return versions


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=batches)
def test_any_sequence_of_versions_chains_without_gaps_or_overlaps(connection, sequence):
    schema_name = f"p_{uuid.uuid4().hex[:10]}"
    loader, encoder = _loader(connection, schema_name)
    try:
        _load(connection, loader, encoder, sequence)
        stored = _stored(connection, schema_name)
        _load(connection, loader, encoder, sequence)  # a re-run of the same records
        assert _stored(connection, schema_name) == stored, "not idempotent"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
        connection.commit()
    expected = _expected_versions(sequence)
    by_key: dict[int, list[tuple]] = {}
    for key, status, valid_from, valid_to in stored:
        by_key.setdefault(key, []).append((status, valid_from, valid_to))
    assert {k: [v[0] for v in chain] for k, chain in by_key.items()} == expected
    last_event = {key: status for batch in sequence for key, status, _ in batch}
    for key, chain in by_key.items():
        open_versions = [v for v in chain if v[2] is None]
        assert len(open_versions) == (0 if last_event[key] is None else 1)
        if open_versions:
            assert chain[-1] == open_versions[0], "only the latest version is open"
            assert chain[-1][0] == last_event[key]
        for (_, began, ended), (_, next_began, _) in itertools.pairwise(chain):
            assert began < ended <= next_began, "intervals overlap or run backwards"
        deletes = sum(1 for b in sequence for k, s, _ in b if k == key and s is None)
        gaps = sum(1 for a, b in itertools.pairwise(chain) if a[2] != b[1])
        assert gaps <= deletes, "a gap without a delete"


def _stored(connection, schema_name: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, status, _sdc_valid_from, _sdc_valid_to FROM "{schema_name}".things '
            "ORDER BY id, _sdc_valid_from"
        )
        stored = cursor.fetchall()
    connection.commit()
    return stored
