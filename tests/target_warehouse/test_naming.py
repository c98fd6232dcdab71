"""Identifier normalisation: safe, short enough, stable, and collision-free."""

from target_warehouse.naming import column_names, identifier, quote, stream_table


def test_names_become_lowercase_snake_case():
    assert identifier("answerStatus") == "answer_status"
    assert identifier("HTTPResponse Code") == "http_response_code"
    assert identifier("Preis-Netto (EUR)") == "preis_netto_eur"
    assert identifier("1st") == "_1st"
    assert identifier("_sdc_deleted_at") == "_sdc_deleted_at"


def test_long_names_fit_63_bytes_with_a_stable_hash():
    long_name = "a_very_long_property_name_" * 5
    shortened = identifier(long_name)
    assert len(shortened.encode()) <= 63
    assert shortened == identifier(long_name)
    assert shortened != identifier(long_name + "x")
    multibyte = "ä" * 50
    assert len(identifier(multibyte).encode()) <= 63


def test_sql_in_a_name_is_only_text():
    hostile = 'x"; DROP TABLE users; --'
    assert '"' not in identifier(hostile)
    assert quote('a"b') == '"a""b"'


def test_collisions_resolve_the_same_whatever_the_order():
    forward = column_names(["UserId", "user_id", "user-id"])
    backward = column_names(["user-id", "user_id", "UserId"])
    assert forward == backward
    assert forward["user_id"] == "user_id"
    assert len(set(forward.values())) == 3


def test_existing_mapping_is_kept_when_a_colliding_name_arrives():
    existing = {"UserId": "user_id"}
    mapping = column_names(["UserId", "user_id"], existing)
    assert mapping["UserId"] == "user_id"
    assert mapping["user_id"] != "user_id"


def test_a_schema_table_stream_loads_into_its_table():
    assert stream_table("public-users") == "users"
    assert stream_table("genius-appointment_type") == "appointment_type"
    assert stream_table("calls") == "calls"
