"""`--test=schema` against the 4D stand-in (shaped as the old production sync read it)."""

from tests.support.singer_run import run_tap


def test_the_stand_in_fits_the_schemas(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", erp_config, "--test=schema")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "belege: 50 sampled records fit the schema" in run.stderr
    assert "stamm_lagerorte: 5 sampled records fit the schema" in run.stderr
    assert "Schema drift check: 0 difference(s)" in run.stderr
