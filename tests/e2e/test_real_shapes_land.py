"""Every record each tap reads from a stand-in shaped like the real source lands in
target-warehouse: none quarantined, every stream `success`, the warehouse equal to the source.

The stand-ins carry the real systems' quirks (docs/sources/): Arrivy's integer
phones and `""` meta, CallRail's zip_code arrays and integer values, the ERP's integer
PapierNr and text MWSt_Art, Genius' real joins and column types. Before the taps were built
to them, target-warehouse quarantined every Arrivy entity and reading.
"""

from __future__ import annotations

from tests.support.pipelines import assert_equal_to_source
from tests.support.singer_run import run_pipeline


def test_every_record_lands_and_none_is_quarantined(pipeline, target_config, target_schema, db):
    run = run_pipeline(f"tap-{pipeline.source}", pipeline.tap_config, target_config)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-3000:]
    assert "Traceback" not in run.output
    history = target_config["history_schema"]
    with db.cursor() as cursor:
        cursor.execute(f'SELECT stream, error FROM "{history}".rejected_records LIMIT 5')
        assert cursor.fetchall() == []
        cursor.execute(
            f'SELECT sync_type, status, records_failed FROM "{history}".sync_history '
            "WHERE status <> 'success' OR records_failed > 0"
        )
        assert cursor.fetchall() == []
        cursor.execute(f'SELECT count(DISTINCT sync_type) FROM "{history}".sync_history')
        assert cursor.fetchone()[0] >= 5
    assert_equal_to_source(db, target_schema, pipeline)
