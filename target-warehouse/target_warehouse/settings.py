"""target-warehouse's settings, each declared once with its default."""

from __future__ import annotations

from singer_sdk import typing as th

from target_warehouse.load_methods import METHODS

LOAD_METHODS = list(METHODS)

CONFIG_SCHEMA = th.PropertiesList(
    th.Property("host", th.StringType, description="Postgres host or Unix socket folder."),
    th.Property("port", th.IntegerType, default=5432, description="Postgres port."),
    th.Property("user", th.StringType, description="Postgres user."),
    th.Property("password", th.StringType, secret=True, description="Postgres password."),
    th.Property("database", th.StringType, description="Database to load into."),
    th.Property(
        "sslmode",
        th.StringType,
        allowed_values=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        description="libpq sslmode; verify-full checks the server certificate and name.",
    ),
    th.Property(
        "sqlalchemy_url",
        th.StringType,
        secret=True,
        description="One URL instead of the discrete settings, e.g. postgresql://u:p@h/db.",
    ),
    th.Property(
        "default_target_schema",
        th.StringType,
        default="public",
        description="Schema the streams load into (Meltano: the extractor's load_schema).",
    ),
    th.Property(
        "load_method",
        th.StringType,
        default="upsert",
        allowed_values=LOAD_METHODS,
        description=(
            "upsert: insert or update by key; append-only: plain COPY; overwrite: build "
            "each table anew and swap it in at the end of the stream; history: keep every "
            "version of a row (_sdc_valid_from, _sdc_valid_to) with a <table>__current view."
        ),
    ),
    th.Property(
        "load_methods",
        th.ObjectType(additional_properties=th.StringType(allowed_values=LOAD_METHODS)),
        description=(
            'Per stream, the load method instead of load_method, e.g. {"calls": "history"}; '
            "streams it does not name keep load_method."
        ),
    ),
    th.Property(
        "batch_size_rows",
        th.IntegerType,
        default=10000,
        description="Rows buffered per stream before a batch is loaded and committed.",
    ),
    th.Property(
        "validate_records",
        th.BooleanType,
        default=True,
        description="Validate every record against its stream's JSON schema.",
    ),
    th.Property(
        "hard_delete",
        th.BooleanType,
        default=False,
        description=(
            "Delete rows retired by ACTIVATE_VERSION or a reconciliation pass, and rows whose "
            "record says _sdc_deleted_at (on every load, the first included), instead of "
            "marking them in _sdc_deleted_at."
        ),
    ),
    th.Property(
        "add_record_metadata",
        th.BooleanType,
        default=True,
        description="Add the _sdc_* metadata columns (extracted, received, version, …).",
    ),
    th.Property(
        "state_flush_max_rows",
        th.IntegerType,
        default=100000,
        description="Commit every stream and emit state after this many rows at most.",
    ),
    th.Property(
        "source_name",
        th.StringType,
        description=(
            "crm_source in the sync history (lowercase); default: the Meltano extractor's "
            "name without tap- (tap-legacy-erp → legacy_erp), else the target schema."
        ),
    ),
    th.Property(
        "sync_history",
        th.BooleanType,
        default=True,
        description="Record each stream of each run in history_schema.sync_history.",
    ),
    th.Property(
        "history_schema",
        th.StringType,
        default="orchestration",
        description="Schema of sync_history and rejected_records.",
    ),
    th.Property(
        "on_invalid_record",
        th.StringType,
        default="quarantine",
        allowed_values=["quarantine", "fail"],
        description=(
            "quarantine: keep a record that breaks its schema in rejected_records, count "
            "it as failed and go on; fail: stop at the first one with an error."
        ),
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description=(
            "Read and validate everything, report what would be created, updated or "
            "rejected and which DDL would run; write nothing and emit no state."
        ),
    ),
    th.Property(
        "state_flush_max_seconds",
        th.IntegerType,
        default=60,
        description="Commit every stream and emit state at least this often (seconds).",
    ),
).to_dict()

DEFAULTS: dict[str, object] = {
    name: schema["default"]
    for name, schema in CONFIG_SCHEMA["properties"].items()
    if "default" in schema
}
"""The declared defaults, for readers of the settings outside the SDK (warehouse-history)."""
