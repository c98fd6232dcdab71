"""The four pipelines as the end-to-end and reliability tests see them: the standalone tap
config for a stand-in, the environment Meltano's `sandbox` environment reads, how to change
the source, and how to compare the warehouse with the source (count, keys, a value per key,
a checksum per table)."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import typing as t
import uuid
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from sandbox import genius


def canon(value: t.Any) -> str:
    """One text form for a value on either side (numbers exact, booleans lowercase)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        number = decimal.Decimal(str(value))
        return "" if not number.is_finite() else format(number.normalize(), "f")
    return str(value)


@dataclass
class Check:
    """A warehouse table compared with the source: key → value."""

    table: str
    key_sql: str
    value_sql: str
    truth: t.Callable[[], dict[str, str]]


@dataclass
class Pipeline:
    source: str
    env: dict[str, str]
    checks: list[Check]
    mutate: t.Callable[[], dict[str, tuple[int, int]]]
    """Changes the source; returns per table the (created, updated) rows a delta must write."""
    tap_config: dict[str, t.Any] = field(default_factory=dict)
    """The tap's settings for the stand-in, for runs without Meltano."""
    schema: str = field(default_factory=lambda: f"p_{uuid.uuid4().hex[:8]}")


def keeps_history(db: t.Any, schema: str, table: str) -> bool:
    """The table is loaded in history mode (meltano.yml's load_methods): it has a
    `<table>__current` view of its current versions."""
    with db.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{table}__current"',))
        return cursor.fetchone()[0]


def landed(db: t.Any, schema: str, check: Check) -> dict[str, str]:
    """The table's live rows by key (not marked deleted); of a history table, its current
    versions."""
    relation = check.table
    if keeps_history(db, schema, check.table):
        relation = f"{check.table}__current"
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name = '_sdc_deleted_at'",
            (schema, relation),
        )
        live = "WHERE _sdc_deleted_at IS NULL" if cursor.fetchone() else ""
        cursor.execute(
            f'SELECT ({check.key_sql})::text, {check.value_sql} FROM "{schema}"."{relation}" {live}'
        )
        found = cursor.fetchall()
    keys = [key for key, _ in found]
    assert len(keys) == len(set(keys)), f"{check.table}: duplicate keys"
    return {key: canon(value) for key, value in found}


def checksum(rows: dict[str, str]) -> str:
    text = "\n".join(f"{key}|{value}" for key, value in sorted(rows.items()))
    return hashlib.md5(text.encode()).hexdigest()


def assert_equal_to_source(db: t.Any, schema: str, pipeline: Pipeline) -> None:
    for check in pipeline.checks:
        expected, found = check.truth(), landed(db, schema, check)
        assert len(found) == len(expected), check.table
        assert checksum(found) == checksum(expected), (
            check.table,
            {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v},
        )


# The four pipelines ---------------------------------------------------------------------


def erp_pipeline(server: t.Any) -> Pipeline:
    def rows(table: str, key: t.Callable, value: str) -> t.Callable[[], dict[str, str]]:
        return lambda: {str(key(r)): canon(r[value]) for r in server.tables[table].live_records()}

    def mutate() -> dict[str, tuple[int, int]]:
        changes = requests.post(
            f"{server.url}/_sandbox/mutate", json={"updates": 5, "creates": 3}, timeout=30
        ).json()
        kunden = changes["Kunden"]
        return {"kunden": (len(kunden["created"]), len(kunden["updated"]))}

    return Pipeline(
        source="legacy-erp",
        env={"SANDBOX_LEGACY_ERP_URL": server.url},
        tap_config={"base_url": server.url, "backoff_base_seconds": 0.05},
        checks=[
            Check("kunden", "_key", "rabatt", rows("Kunden", lambda r: r["__KEY"], "Rabatt")),
            Check("belege", "abs_nr", "bezahlt", rows("Belege", lambda r: r["AbsNr"], "bezahlt")),
            Check(
                "artikel_variante",
                "_key",
                "bezeichnung",
                rows("Artikel_Variante", lambda r: r["__KEY"], "Bezeichnung"),
            ),
            Check(
                "belege_pos",
                "abs_nr || '.' || pos_nr",
                "menge",
                rows("Belege_Pos", lambda r: f"{r['AbsNr']}.{r['PosNr']}", "Menge"),
            ),
        ],
        mutate=mutate,
    )


def arrivy_pipeline(server: t.Any) -> Pipeline:
    def customers() -> dict[str, str]:
        return {str(r["id"]): canon(r.get("notes")) for r in server.customers.live_records()}

    def tasks() -> dict[str, str]:
        every = [*server.tasks.live_records(), *server.unscheduled.live_records()]
        return {str(r["id"]): canon(r.get("title")) for r in every}

    def mutate() -> dict[str, tuple[int, int]]:
        changes = requests.post(
            f"{server.url}/_sandbox/mutate", json={"deletes": 0}, timeout=30
        ).json()
        touched = changes["customers"]
        return {"customers": (len(touched["created"]), len(touched["updated"]))}

    return Pipeline(
        source="arrivy",
        tap_config={
            "auth_key": "sandbox-arrivy-key",
            "auth_token": "sandbox-arrivy-token",
            "api_url": f"{server.url}/api",
            "start_date": "2025-01-01T00:00:00Z",
            "requests_per_minute": 100_000,
            "backoff_base_seconds": 0.05,
        },
        env={
            "SANDBOX_ARRIVY_URL": server.url,
            "SANDBOX_ARRIVY_AUTH_KEY": "sandbox-arrivy-key",
            "SANDBOX_ARRIVY_AUTH_TOKEN": "sandbox-arrivy-token",
        },
        checks=[
            Check("customers", "id", "notes", customers),
            Check("tasks", "id", "title", tasks),
        ],
        mutate=mutate,
    )


def callrail_pipeline(server: t.Any) -> Pipeline:
    def listed(collection: str, value: str) -> t.Callable[[], dict[str, str]]:
        def truth() -> dict[str, str]:
            found = {}
            for account in server.accounts.values():
                for record in account.collection(collection).live_records():
                    found[str(record["id"])] = canon(record.get(value))
            return found

        return truth

    def mutate() -> dict[str, tuple[int, int]]:
        # New calls only: an update to a call older than the lookback window is not visible
        # to any incremental read of CallRail (calls are listed by start time).
        changes = requests.post(
            f"{server.url}/_sandbox/mutate",
            json={"updates": 0, "deletes": 0, "creates": 4},
            timeout=30,
        ).json()
        created = sum(len(account["calls"]["created"]) for account in changes.values())
        return {"calls": (created, 0)}

    return Pipeline(
        source="callrail",
        tap_config={
            "api_key": "sandbox-callrail-key",
            "api_url": f"{server.url}/v3",
            "start_date": (server.now - datetime.timedelta(days=120)).isoformat(),
            "requests_per_hour": 10_000_000,
            "backoff_base_seconds": 0.05,
        },
        env={
            "SANDBOX_CALLRAIL_URL": server.url,
            "SANDBOX_CALLRAIL_API_KEY": "sandbox-callrail-key",
        },
        checks=[
            Check("calls", "id", "note", listed("calls", "note")),
            Check("companies", "id", "status", listed("companies", "status")),
        ],
        mutate=mutate,
    )


def genius_pipeline(engine: sa.Engine, url: str) -> Pipeline:
    def selected(sql: str) -> t.Callable[[], dict[str, str]]:
        def truth() -> dict[str, str]:
            with engine.connect() as connection:
                return {str(key): canon(value) for key, value in connection.exec_driver_sql(sql)}

        return truth

    def mutate() -> dict[str, tuple[int, int]]:
        changes = genius.mutate(engine, round_number=2)
        appointment = changes["appointment"]
        return {"appointments": (len(appointment["created"]), len(appointment["updated"]))}

    return Pipeline(
        source="genius",
        env={"SANDBOX_GENIUS_URL": url},
        tap_config={"sqlalchemy_url": url},
        checks=[
            Check("appointments", "id", "notes", selected("SELECT id, notes FROM appointment")),
            Check("quotes", "id", "amount", selected("SELECT id, amount FROM quote")),
            Check(
                "appointment_services",
                "appointment_id || '.' || service_id",
                "NULL",
                selected(
                    "SELECT CONCAT(appointment_id, '.', service_id), NULL "
                    "FROM appointment_to_service"
                ),
            ),
        ],
        mutate=mutate,
    )
