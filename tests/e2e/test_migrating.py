"""docs/migrating.md: each old Django command and flag, and its equivalent here, run as the
page writes it (a shell line in the Meltano project, `sandbox` environment) against the
stand-ins, with what it loaded checked: which streams ran, which rows landed.

The page and this test move together: a row without an expectation here, or an expectation
without its row, fails. Every old command the issue of the migration named is on the page.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import typing as t
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox import genius
from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from sandbox.legacy_erp import LegacyErpStandIn
from tests.support.meltano_project import Project
from tests.support.pipelines import (
    Pipeline,
    arrivy_pipeline,
    callrail_pipeline,
    erp_pipeline,
    genius_pipeline,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "migrating.md"
NOW = datetime.datetime.now(datetime.timezone.utc)

ARRIVY = {"groups", "statuses", "customers", "entities", "entity_readings", "tasks"}
ARRIVY |= {"task_statuses"}
CALLRAIL = {"accounts", "companies", "calls", "trackers", "form_submissions"}
CALLRAIL |= {"text_messages", "tags", "users"}
GENIUS = {
    "appointments", "appointment_outcomes", "appointment_outcome_types", "appointment_services",
    "appointment_types", "divisions", "division_groups", "leads", "marketing_sources",
    "marketing_source_types", "marketsharp_marketing_source_maps", "marketsharp_sources",
    "prospects", "prospect_sources", "quotes", "services", "users", "user_titles",
}  # fmt: skip
ERP = {"artikel_familie", "artikel_variante", "kunden", "adressen", "belege", "belege_pos"}
ERP |= {"stamm_lagerorte", "artikel_lagerorte"}

NAMED_IN_THE_ISSUE = [
    "sync_arrivy_customers", "sync_arrivy_team_members", "sync_arrivy_bookings",
    "sync_arrivy_all", "--skip-customers", "--skip-team-members", "--skip-bookings",
    "sync_arrivy --entity-type=entities", "--entity-type=tasks", "--entity-type=groups",
    "--entity-type=all", "test_arrivy", "--endpoint", "--limit", "--output",
    "CallRail_sync", "--account-id", "--entities calls companies", "--full-sync", "--dry-run",
    "--parallel", "--company-id", "CallRail_calls_sync", "--start-date", "--end-date",
    "CallRail_trackers_sync", "db_genius_", "run_sync --entity-type=product --full",
    "`--full`", "`--force-overwrite`", "`--since", "`--lastmodifieddate", "`--max-records",
    "`--pages", "`--batch-size", "`--debug`",
]  # fmt: skip


# The page ---------------------------------------------------------------------------------


@dataclass
class Row:
    old: str
    here: str | None
    """The command, or None where the page says there is no equivalent (and why)."""
    why: str


def rows() -> list[Row]:
    """Every table row of the page whose first cell names an old command."""
    found = []
    for line in PAGE.read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        old = ", ".join(re.findall(r"`([^`]+)`", cells[0]))
        here = cells[1][1:-1] if cells[1].startswith("`") else None
        found.append(Row(old, here, cells[2]))
    return found


# What each equivalent must do ---------------------------------------------------------------


@dataclass
class Done:
    """One row's command, run: its output and the warehouse it loaded."""

    source: str
    db: t.Any
    schema: str
    folder: Path
    stderr: str
    values: dict[str, str]
    server: t.Any
    project: Project

    def bookmarks(self) -> set[str]:
        """The streams Meltano keeps a bookmark for after the run."""
        return set(self.project.state()["singer_state"]["bookmarks"])

    def streams(self) -> set[str]:
        """The streams the last run loaded, from its sync history."""
        history = f"{self.schema}_history"
        return set(
            self.query(
                f'SELECT sync_type FROM "{history}".sync_history WHERE run_id = '
                f'(SELECT run_id FROM "{history}".sync_history ORDER BY start_time DESC LIMIT 1)'
            )
        )

    def query(self, sql: str) -> list[t.Any]:
        with self.db.cursor() as cursor:
            cursor.execute(sql)
            return [row[0] if len(row) == 1 else row for row in cursor.fetchall()]

    def count(self, table: str, where: str = "TRUE") -> int:
        return self.query(f'SELECT count(*) FROM "{self.schema}"."{table}" WHERE {where}')[0]

    def tables(self) -> set[str]:
        return set(
            self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                f"'{self.schema}'"
            )
        )


@dataclass
class Expect:
    source: str
    streams: set[str] | None = None
    """The streams the run loaded, exactly."""
    check: t.Callable[[Done], None] | None = None
    before: str | None = None
    """A command run first (a delta that leaves state and rows behind)."""
    env: dict[str, str] = field(default_factory=dict)


def only_account(done: Done) -> None:
    assert set(done.query(f'SELECT DISTINCT account_id FROM "{done.schema}".calls')) == {
        done.values["<account id>"]
    }


def each_account_in_its_own_run(done: Done) -> None:
    """The backfill's runs, one per account, end successfully and load every account."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(done.folder / "dagster"))
    deadline = time.monotonic() + 300
    while True:
        runs = instance.get_runs()
        if len(runs) == 2 and all(run.is_finished for run in runs):
            break
        assert time.monotonic() < deadline, [run.status for run in runs]
        time.sleep(1)
    assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert {run.tags["dagster/partition"] for run in runs} == {
        done.values["<account id>"],
        done.values["<other account id>"],
    }
    accounts = set(done.query(f'SELECT DISTINCT account_id FROM "{done.schema}".calls'))
    assert accounts == {done.values["<account id>"], done.values["<other account id>"]}


def only_company(done: Done) -> None:
    companies = done.query(f'SELECT DISTINCT company_id FROM "{done.schema}".calls')
    assert companies == [done.values["<company id>"]]


def calls_in_window(done: Done) -> None:
    start, end = done.values["<start date>"], done.values["<end date>"]
    assert done.count("calls") > 0
    assert done.count("calls", f"start_time < '{start}' OR start_time > '{end}'") == 0


def trackers_of_company(done: Done) -> None:
    companies = done.query(f"SELECT DISTINCT company->>'id' FROM \"{done.schema}\".trackers")
    assert companies == [done.values["<company id>"]]


def one_page_of_customers(done: Done) -> None:
    messages = [json.loads(line) for line in (done.folder / "out.jsonl").read_text().splitlines()]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert records and {m["stream"] for m in records} == {"customers"}
    assert len(records) <= 500, "one page"
    assert done.tables() == set(), "the tap alone loads nothing"


def nothing_written(done: Done) -> None:
    assert done.tables() == set()
    assert "Dry run" in done.stderr


def every_call_read_again(done: Done) -> None:
    assert processed(done, "calls") == done.count("calls") > 0


def every_appointment_read_again(done: Done) -> None:
    assert processed(done, "appointments") == done.count("appointments", "_sdc_valid_to IS NULL")


def every_row_rewritten(done: Done) -> None:
    before = done.values["before"]
    assert done.count("kunden") > 0
    assert done.count("kunden", f"_sdc_batched_at <= '{before}'") == 0


def processed(done: Done, stream: str) -> int:
    """How many records the last run read of `stream`, by its sync history."""
    return done.query(
        f'SELECT records_processed FROM "{done.schema}_history".sync_history '
        f"WHERE sync_type = '{stream}' ORDER BY start_time DESC LIMIT 1"
    )[0]


def other_bookmarks_kept(done: Done) -> None:
    """The products' full read merged its bookmarks into the others' (`merge`)."""
    assert {"kunden", "belege", "artikel_variante"} <= done.bookmarks()


def genius_since(done: Done) -> None:
    """The bookmarks of the run before were ignored: every appointment changed since then
    was read (and those without a change stamp, read once by key on a fresh state)."""
    assert processed(done, "appointments") == done.values["since rows"]


def arrivy_since(done: Done) -> None:
    since = done.values["<since>"]
    assert done.count("tasks", "NOT unscheduled") > 0
    assert done.count("tasks", f"NOT unscheduled AND start_datetime < '{since}'") == 0


def calls_until_end(done: Done) -> None:
    end = done.values["<end date>"]
    assert done.count("calls") > 0
    assert done.count("calls", f"start_time > '{end}'") == 0


def at_most_50_per_stream(done: Done) -> None:
    processed = dict(
        done.query(f'SELECT sync_type, records_processed FROM "{done.schema}_history".sync_history')
    )
    assert processed["appointments"] == 50
    assert all(count <= 50 for count in processed.values())


def one_page_of_20(done: Done) -> None:
    for table in ("kunden", "artikel_variante", "belege"):
        assert done.count(table) == 20, table


def pages_of_50(done: Done) -> None:
    paging = [r for r in done.server.requests if r.path.endswith("/Kunden") and "$skip" in r.query]
    assert {top for r in paging for top in r.query["$top"]} == {"50"}
    assert done.count("kunden") == done.values["kunden"]


def debug_lines(done: Done) -> None:
    assert re.search(r"\[debug +\] tap-arrivy", done.stderr)


def skipped(streams: set[str]) -> t.Callable[[Done], None]:
    def none_of(done: Done) -> None:
        assert not streams & done.tables()

    return none_of


EXPECTED: dict[str, Expect] = {
    "sync_arrivy_customers": Expect("arrivy", {"customers"}),
    "sync_arrivy_team_members": Expect("arrivy", {"entities"}),
    "sync_arrivy_bookings": Expect("arrivy", {"tasks", "task_statuses"}),
    "sync_arrivy_all": Expect("arrivy", ARRIVY),
    "sync_arrivy_all --skip-customers": Expect("arrivy", ARRIVY - {"customers"}),
    "sync_arrivy_all --skip-team-members": Expect(
        "arrivy", ARRIVY - {"entities", "entity_readings"}
    ),
    "sync_arrivy_all --skip-bookings": Expect("arrivy", ARRIVY - {"tasks", "task_statuses"}),
    "sync_arrivy --entity-type=entities": Expect("arrivy", {"entities"}),
    "sync_arrivy --entity-type=tasks": Expect("arrivy", {"tasks"}, skipped({"task_statuses"})),
    "sync_arrivy --entity-type=groups": Expect("arrivy", {"groups"}),
    "sync_arrivy --entity-type=all": Expect("arrivy", ARRIVY),
    "test_arrivy --endpoint customers --limit 10 --output out.json": Expect(
        "arrivy", check=one_page_of_customers
    ),
    "CallRail_sync": Expect("callrail", CALLRAIL),
    "CallRail_sync --account-id <account id>": Expect("callrail", CALLRAIL, only_account),
    "CallRail_sync --entities calls companies": Expect("callrail", {"calls", "companies"}),
    "CallRail_sync --full-sync": Expect(
        "callrail", CALLRAIL, every_call_read_again, before="meltano run callrail"
    ),
    "CallRail_sync --dry-run": Expect("callrail", check=nothing_written),
    "CallRail_sync --parallel": Expect("callrail", check=each_account_in_its_own_run),
    "CallRail_sync --company-id <company id>": Expect("callrail", CALLRAIL, only_company),
    "CallRail_calls_sync --start-date <start date> --end-date <end date>": Expect(
        "callrail", {"calls"}, calls_in_window
    ),
    "CallRail_trackers_sync --company-id <company id>": Expect(
        "callrail", {"trackers"}, trackers_of_company
    ),
    "db_genius_all": Expect("genius", GENIUS),
    **{
        f"db_genius_{stream}": Expect("genius", {stream})
        for stream in GENIUS - {"appointment_services"}
    },
    "db_genius_appointment_services": Expect("genius", {"appointment_services"}),
    "db_genius_prospects_new": Expect("genius", {"prospects"}),
    "run_sync --entity-type=product --full": Expect(
        "legacy-erp",
        {"artikel_familie", "artikel_variante"},
        other_bookmarks_kept,
        before="meltano run legacy-erp",
    ),
    "--full": Expect("genius", GENIUS, every_appointment_read_again, before="meltano run genius"),
    "--force-overwrite": Expect(
        "legacy-erp", ERP, every_row_rewritten, before="meltano run legacy-erp"
    ),
    "--since <since>": Expect("genius", GENIUS, genius_since, before="meltano run genius"),
    "--start-date <since>": Expect("arrivy", ARRIVY, arrivy_since),
    "--end-date <end date>": Expect("callrail", CALLRAIL, calls_until_end),
    "--lastmodifieddate <since>": Expect("arrivy", ARRIVY, arrivy_since),
    "--dry-run": Expect("genius", check=nothing_written),
    "--max-records 50": Expect("genius", GENIUS, at_most_50_per_stream),
    "--pages 1": Expect("legacy-erp", ERP, one_page_of_20),
    "--batch-size 50": Expect("legacy-erp", ERP, pages_of_50),
    "--debug": Expect("arrivy", ARRIVY, debug_lines),
}


def test_the_page_and_this_test_name_the_same_commands():
    with_equivalent = {row.old for row in rows() if row.here}
    assert with_equivalent == set(EXPECTED)


def test_every_old_command_the_migration_named_is_on_the_page():
    text = PAGE.read_text()
    assert [name for name in NAMED_IN_THE_ISSUE if name not in text] == []


def test_every_old_genius_command_is_on_the_page_with_its_equivalent_or_why_not():
    """The old repository's db_genius_* commands, each named on the page."""
    old = {
        "all", "appointment_outcome_types", "appointment_outcomes", "appointment_services",
        "appointment_types", "appointments", "division_groups", "division_regions",
        "divisions", "integration_field_definitions", "integration_fields",
        "job_change_order_items", "job_change_order_reasons", "job_change_order_statuses",
        "job_change_order_types", "job_change_orders", "job_financings", "job_statuses",
        "jobs", "leads", "marketing_source_types", "marketing_sources",
        "marketsharp_marketing_source_maps", "marketsharp_source_maps", "marketsharp_sources",
        "prospect_sources", "prospects", "prospects_new", "quotes", "services",
        "user_associations", "user_titles", "users",
    }  # fmt: skip
    named = {name for row in rows() for name in row.old.split(", ")}
    assert {f"db_genius_{name}" for name in old} <= named
    for row in rows():
        if row.here is None:
            assert len(row.why) > 20, f"{row.old}: the page says why there is no equivalent"


# Running a row --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stand_ins(mariadb_server) -> t.Iterator[dict[str, t.Any]]:
    """One stand-in per source for the module; Genius seeded once."""
    arrivy = ArrivyStandIn(tasks=60).start()
    callrail = CallRailStandIn(calls_per_account=60).start()
    erp = LegacyErpStandIn(documents=60).start()
    engine = sa.create_engine(mariadb_server.url)
    genius.seed(engine, appointments=100)
    yield {"arrivy": arrivy, "callrail": callrail, "legacy-erp": erp, "genius": engine}
    for server in (arrivy, callrail, erp):
        server.stop()
    engine.dispose()


def pipeline_for(source: str, stand_ins: dict[str, t.Any], mariadb_url: str) -> Pipeline:
    if source == "arrivy":
        return arrivy_pipeline(stand_ins["arrivy"])
    if source == "callrail":
        return callrail_pipeline(stand_ins["callrail"])
    if source == "legacy-erp":
        return erp_pipeline(stand_ins["legacy-erp"])
    return genius_pipeline(stand_ins["genius"], mariadb_url)


def values_for(source: str, stand_ins: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the page's placeholders stand for, for this source's stand-in."""
    if source == "callrail":
        server = stand_ins["callrail"]
        account, other = sorted(server.accounts)[:2]
        return {
            "<account id>": account,
            "<other account id>": other,
            "<company id>": server.accounts[account].company_id(0),
            "<start date>": (NOW - datetime.timedelta(days=30)).date().isoformat(),
            "<end date>": (NOW - datetime.timedelta(days=10)).date().isoformat(),
        }
    if source == "genius":
        with stand_ins["genius"].connect() as connection:
            low, high = connection.execute(
                sa.text("SELECT min(updated_at), max(updated_at) FROM appointment")
            ).one()
            since = (low + (high - low) / 2).replace(microsecond=0)
            since_rows = connection.execute(
                sa.text(
                    "SELECT count(*) FROM appointment "
                    "WHERE updated_at >= :since OR updated_at IS NULL"
                ),
                {"since": since},
            ).scalar()
        return {"<since>": f"{since:%Y-%m-%dT%H:%M:%S}Z", "since rows": since_rows}
    if source == "legacy-erp":
        kunden = sum(1 for _ in stand_ins["legacy-erp"].tables["Kunden"].live_records())
        return {"kunden": kunden}
    return {"<since>": (NOW - datetime.timedelta(days=30)).date().isoformat()}


def with_values(command: str, values: dict[str, t.Any]) -> str:
    for placeholder, value in values.items():
        if placeholder.startswith("<"):
            command = command.replace(placeholder, str(value))
    return command


@pytest.mark.parametrize("row", [row for row in rows() if row.here], ids=lambda row: row.old)
def test_the_equivalent_does_what_the_old_command_did(
    row, stand_ins, mariadb_server, meltano_installed, warehouse_url, db, tmp_path
):
    expect = EXPECTED[row.old]
    pipeline = pipeline_for(expect.source, stand_ins, mariadb_server.url)
    pipeline.schema = f"m_{uuid.uuid4().hex[:8]}"
    values = values_for(expect.source, stand_ins)
    project = Project(meltano_installed, tmp_path, pipeline, warehouse_url)
    if "callrail_by_account" in row.here:
        project.env["TAP_CALLRAIL_ACCOUNT_IDS"] = json.dumps(sorted(stand_ins["callrail"].accounts))
        # An instance that launches each run at once (production's queue waits for the
        # daemon, which this test does not start).
        project.env["DAGSTER_HOME"] = str(tmp_path / "dagster")
        (tmp_path / "dagster").mkdir()
        (tmp_path / "dagster" / "dagster.yaml").write_text(
            "run_coordinator:\n  module: dagster.core.run_coordinator\n"
            "  class: DefaultRunCoordinator\n"
        )
    server = stand_ins[expect.source]
    if hasattr(server, "requests"):
        server.requests.clear()
    try:
        if expect.before:
            project.shell(expect.before, tmp_path)
            values["before"] = db_now(db)
        done = project.shell(with_values(row.here, values), tmp_path)
        result = Done(
            expect.source, db, pipeline.schema, tmp_path, done.stderr, values, server, project
        )
        if expect.streams is not None:
            assert result.streams() == expect.streams, done.stderr[-3000:]
        if expect.check:
            expect.check(result)
    finally:
        with db.cursor() as cursor:
            for schema in (pipeline.schema, f"{pipeline.schema}_history"):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def db_now(db: t.Any) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT now()::text")
        return cursor.fetchone()[0]
