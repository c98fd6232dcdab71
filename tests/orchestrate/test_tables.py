"""orchestrate.tables: the tables a tap loads, from its package and Meltano's select."""

from __future__ import annotations

from orchestrate.tables import base_plugin, declared_streams, loaded_tables, selected


def test_a_plugin_that_inherits_loads_its_parents_tables():
    assert base_plugin("tap-callrail--reconcile") == "tap-callrail"
    assert loaded_tables("tap-callrail--reconcile", None) == loaded_tables("tap-callrail", None)
    assert "calls" in loaded_tables("tap-callrail", ["*.*"])


def test_selects_exclude_a_whole_stream_not_one_of_its_properties():
    patterns = ["*.*", "!division_groups.paysimple_secret", "!users.*"]
    assert selected("division_groups", patterns)
    assert not selected("users", patterns)
    assert not selected("calls", ["accounts.*"])


def test_genius_lists_its_entities_without_a_database():
    streams = {s.name: s for s in declared_streams("tap-genius")}
    assert len(streams) == 18
    assert streams["appointments"].key == ("id",)


def test_a_tap_the_list_does_not_know_gets_no_tables_and_a_warning(caplog):
    assert declared_streams("tap-unknown") == []
    assert "tap-unknown is not in orchestrate's tap_streams.json" in caplog.text
