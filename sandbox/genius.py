"""The Genius CRM database stand-in: the 18 source tables of docs/sources/genius.md.

`seed(engine)` creates the tables with realistic MySQL column types (INT and SMALLINT keys,
DECIMAL money, TIME, DATETIME change columns, a composite key, the reserved table name
`lead`) and fills them deterministically, in batches, at any scale. The quirks of old MySQL
data are there on purpose: zero dates (`0000-00-00`), NULL change columns (leads fall back to
`added_on`), many rows sharing one `updated_at` (a LIMIT/OFFSET pager skips rows at page
edges; a keyset pager does not), utf8mb4 text, and credential columns in `division_group`.
The joins are the real ones, as the old production SQL reads them (`Shahram4wd/Data-Warehouse`,
`ingestion/sync/genius/clients/appointments.py`, `prospects.py`, `users.py`): an appointment
or a prospect points at its `third_party_source` (`third_party_source_id`), whose type says
whether it is HubSpot's; a user points at its `users_userassociations` row
(`user_associations_id`). Column types follow the old system's Django models.
The same data goes into SQLite for the demo (without zero dates, which SQLite cannot hold).
`mutate(engine)` updates, inserts and deletes rows with change stamps after all earlier ones.

On top of the generated rows, the story's people (`sandbox.story`) are prospects with leads,
appointments and quotes, their ids from `story.FIRST_GENIUS_ID`; generated rows never point
at them, and `mutate` leaves them alone, so the funnel they make stays as the story says.
"""

from __future__ import annotations

import datetime
import typing as t
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from sandbox import fake_data as fake
from sandbox import story as story_module

metadata = sa.MetaData()
BATCH = 5000
ZERO_DATETIME = "0000-00-00 00:00:00"
ZERO_DATE = "0000-00-00"
SMALL = sa.SmallInteger().with_variant(mysql.SMALLINT(unsigned=True), "mysql")
FLAG = sa.Boolean().with_variant(mysql.TINYINT(1), "mysql")


def _table(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(name, metadata, *columns, mysql_charset="utf8mb4")


DATETIME = sa.DateTime().with_variant(mysql.DATETIME(), "mysql", "mariadb")
"""DATETIME without fractions, as Genius declares it. Spelled in MySQL's own type: a library
may change how the generic `sa.DateTime` compiles for MySQL process-wide (importing Dagster
makes it DATETIME(6)), and the stand-in must not follow."""


def _col(name: str, kind: t.Any = sa.Integer, **options: t.Any) -> sa.Column:
    return sa.Column(name, kind, **options)


def _text(name: str, length: int = 255) -> sa.Column:
    return sa.Column(name, sa.String(length))


def _stamps(*names: str) -> list[sa.Column]:
    return [sa.Column(name, DATETIME, nullable=True) for name in names]


TABLES = {
    "appointment": _table(
        "appointment",
        _col("id", primary_key=True, autoincrement=False),
        _col("prospect_id"),
        _col("prospect_source_id"),
        _col("user_id"),
        _col("type_id"),
        _col("date", sa.Date),
        _col("time", sa.Time),
        _col("duration", sa.Time),
        _text("address1"),
        _text("address2"),
        _text("city", 100),
        _text("state", 2),
        _text("zip", 10),
        _text("email"),
        _col("notes", sa.Text),
        _col("add_user_id"),
        *_stamps("add_date", "assign_date"),
        _col("confirm_user_id"),
        *_stamps("confirm_date"),
        _text("confirm_with", 50),
        _col("spouses_present", FLAG),
        _col("is_complete", FLAG),
        _col("complete_outcome_id"),
        _col("complete_user_id"),
        *_stamps("complete_date"),
        sa.Column("updated_at", DATETIME, nullable=True, index=True),
        _text("marketsharp_id", 50),
        _text("marketsharp_appt_type", 50),
        _text("leap_estimate_id", 50),
        _col("third_party_source_id"),
    ),
    "third_party_source_type": _table(
        "third_party_source_type",
        _col("id", primary_key=True, autoincrement=False),
        _text("label", 50),
    ),
    "third_party_source": _table(
        "third_party_source",
        _col("id", primary_key=True, autoincrement=False),
        _col("third_party_source_type_id"),
        _text("third_party_id", 64),
    ),
    "division": _table(
        "division",
        _col("id", primary_key=True, autoincrement=False),
        _col("group_id", SMALL),
        _col("region_id"),
        _text("label", 100),
        _text("abbreviation", 10),
        _col("is_utility", FLAG),
        _col("is_corp", FLAG),
        _col("is_omniscient", FLAG),
        _col("is_inactive", FLAG),
        _col("account_scheduler_id"),
        *_stamps("created_at", "updated_at"),
    ),
    "user_data": _table(
        "user_data",
        _col("user_id", primary_key=True, autoincrement=False),
        _col("division_id"),
        _col("title_id", SMALL),
        _col("manager_user_id"),
        _text("first_name", 100),
        _text("first_name_alt", 100),
        _text("last_name", 100),
        _text("email"),
        _text("personal_email"),
        _col("birth_date", sa.Date),
        _col("gender_id"),
        _col("marital_status_id"),
        _text("time_zone_name", 64),
        _col("hired_on", DATETIME),
        _col("start_date", DATETIME),
        _col("add_user_id"),
        *_stamps("add_datetime", "updated_at"),
        _col("is_inactive", FLAG),
        _col("inactive_on", DATETIME),
        _col("inactive_reason_id"),
        _text("inactive_reason_other"),
        _col("inactive_transfer_division_id"),
        _col("user_associations_id"),
        # The real table has many more columns, among them an SSN and Google-calendar
        # tokens (docs/sources/genius.md), which must never be read.
        _text("ssn", 11),
        _text("google_calendar_token"),
    ),
    "users_userassociations": _table(
        "users_userassociations",
        _col("id", primary_key=True, autoincrement=False),
        _col("primary_user_id"),
        *_stamps("created_at", "updated_at"),
    ),
    "prospect": _table(
        "prospect",
        _col("id", primary_key=True, autoincrement=False),
        _col("division_id"),
        _col("user_id"),
        _text("first_name", 100),
        _text("last_name", 100),
        _text("alt_first_name", 100),
        _text("alt_last_name", 100),
        _text("address1"),
        _text("address2"),
        _text("city", 100),
        _text("county", 100),
        _text("state", 2),
        _text("zip", 10),
        _col("year_built", SMALL),
        _text("phone1", 32),
        _text("phone2", 32),
        _text("email"),
        _col("notes", sa.Text),
        _col("add_user_id"),
        *_stamps("add_date"),
        _text("marketsharp_id", 50),
        _text("leap_customer_id", 50),
        _col("third_party_source_id"),
        *_stamps("updated_at"),
    ),
    "lead": _table(
        "lead",
        _col("lead_id", primary_key=True, autoincrement=False),
        _text("first_name", 100),
        _text("last_name", 100),
        _text("email"),
        _text("phone1", 32),
        _text("address1"),
        _text("city", 100),
        _text("state", 2),
        _text("zip", 10),
        _col("source", SMALL),
        _col("added_by"),
        _col("division"),
        _col("notes", sa.Text),
        _col("status", SMALL),
        _col("copied_to_id"),
        *_stamps("added_on", "updated_at"),
    ),
    "quote": _table(
        "quote",
        _col("id", primary_key=True, autoincrement=False),
        _col("prospect_id"),
        _col("appointment_id"),
        _col("job_id"),
        _col("client_cid"),
        _col("service_id", SMALL),
        _text("label"),
        _col("description", sa.Text),
        _col("amount", sa.Numeric(10, 2)),
        _col("expire_date", sa.Date),
        _col("status_id"),
        _col("contract_file_id"),
        _col("estimate_file_id"),
        _col("add_user_id"),
        *_stamps("add_date", "updated_at"),
    ),
    "service": _table(
        "service",
        _col("id", SMALL, primary_key=True, autoincrement=False),
        _text("label", 100),
        _col("is_active", FLAG),
        _col("is_lead_required", FLAG),
        _col("order_number"),
        *_stamps("created_at", "updated_at"),
    ),
    "prospect_source": _table(
        "prospect_source",
        _col("id", primary_key=True, autoincrement=False),
        _col("prospect_id"),
        _col("marketing_source_id"),
        _col("source_date", DATETIME),
        _col("notes", sa.Text),
        _col("add_user_id"),
        *_stamps("add_date", "updated_at"),
        _col("source_user_id"),
    ),
    "appointment_type": _table(
        "appointment_type",
        _col("id", primary_key=True, autoincrement=False),
        _text("label", 100),
        _col("is_active", FLAG),
    ),
    "appointment_outcome": _table(
        "appointment_outcome",
        _col("id", primary_key=True, autoincrement=False),
        _col("type_id"),
        _text("label", 100),
        _col("is_active", FLAG),
        *_stamps("created_at", "updated_at"),
    ),
    "appointment_to_service": _table(
        "appointment_to_service",
        _col("appointment_id", primary_key=True, autoincrement=False),
        _col("service_id", SMALL, primary_key=True, autoincrement=False),
        *_stamps("created_at", "updated_at"),
    ),
    "appointment_outcome_type": _table(
        "appointment_outcome_type",
        _col("id", primary_key=True, autoincrement=False),
        _text("label", 100),
        _col("sort_idx"),
        _col("is_active", FLAG),
        *_stamps("created_at", "updated_at"),
    ),
    "division_group": _table(
        "division_group",
        _col("id", SMALL, primary_key=True, autoincrement=False),
        _text("group_label", 100),
        _col("region"),
        _text("default_time_zone_name", 64),
        _col("intern_payroll_start"),
        _col("painter_payroll_start"),
        _col("is_active", FLAG),
        _text("cc_profile_id", 32),
        _text("mes_profile_id", 25),
        _text("mes_profile_key", 128),
        _text("docusign_acct_id", 64),
        _text("paysimple_username", 64),
        _text("paysimple_secret", 128),
        _col("hub_account_id"),
        *_stamps("created_at", "updated_at"),
    ),
    "marketing_source": _table(
        "marketing_source",
        _col("id", primary_key=True, autoincrement=False),
        _col("type_id"),
        _text("label", 100),
        _col("description", sa.Text),
        _col("start_date", sa.Date),
        _col("end_date", sa.Date),
        _col("add_user_id"),
        *_stamps("add_date"),
        _col("is_active", FLAG),
        _col("is_allow_lead_modification", FLAG),
        *_stamps("updated_at"),
    ),
    "marketing_source_type": _table(
        "marketing_source_type",
        _col("id", primary_key=True, autoincrement=False),
        _text("label", 100),
        _col("description", sa.Text),
        _col("is_active", FLAG),
        _col("list_order"),
        *_stamps("created_at", "updated_at"),
    ),
    "marketsharp_source": _table(
        "marketsharp_source",
        _col("id", primary_key=True, autoincrement=False),
        _text("marketsharp_id", 64),
        _text("source_name", 100),
        _col("inactive", FLAG),
        *_stamps("created_at", "updated_at"),
    ),
    "marketsharp_marketing_source_map": _table(
        "marketsharp_marketing_source_map",
        _text("marketsharp_id", 64).copy(),
        _col("marketing_source_id"),
        *_stamps("created_at", "updated_at"),
        sa.PrimaryKeyConstraint("marketsharp_id"),
    ),
    "user_title": _table(
        "user_title",
        _col("id", SMALL, primary_key=True, autoincrement=False),
        _text("title", 100),
        _text("abbreviation", 10),
        _text("roles"),
        _col("type_id"),
        _col("section_id"),
        _col("sort"),
        _col("pay_component_group_id"),
        _col("is_active", FLAG),
        _col("is_unique_per_division", FLAG),
        *_stamps("created_at", "updated_at"),
    ),
}


class Sizes:
    """Row counts per table for a given number of appointments."""

    def __init__(self, appointments: int) -> None:
        self.appointments = appointments
        self.prospects = max(appointments * 2 // 3, 10)
        self.leads = max(appointments // 2, 10)
        self.quotes = max(appointments * 2 // 3, 10)
        self.prospect_sources = self.prospects
        self.users = 25
        self.divisions = 6
        self.division_groups = 3
        self.services = 8
        self.marketing_sources = 20
        self.appointment_sources = (appointments + 9) // 10
        """Every tenth appointment has a third-party source (2.5 % in the real copy)."""
        self.user_associations = (self.users + 2) // 3

    def of(self, table: str) -> int:
        """How many rows `table` gets."""
        return {
            "appointment": self.appointments,
            "third_party_source_type": 2,
            "third_party_source": self.appointment_sources + self.prospects,
            "division": self.divisions,
            "user_data": self.users,
            "users_userassociations": self.user_associations,
            "prospect": self.prospects,
            "lead": self.leads,
            "quote": self.quotes,
            "service": self.services,
            "prospect_source": self.prospect_sources,
            "appointment_type": 5,
            "appointment_outcome": 7,
            "appointment_to_service": self.appointments,
            "appointment_outcome_type": 3,
            "division_group": self.division_groups,
            "marketing_source": self.marketing_sources,
            "marketing_source_type": 4,
            "marketsharp_source": 10,
            "marketsharp_marketing_source_map": 10,
            "user_title": 6,
        }[table]


class Rows:
    """Deterministic rows; `index` is 0-based, ids start at 1."""

    def __init__(
        self, seed: int, now: datetime.datetime, sizes: Sizes, *, zero_dates: bool
    ) -> None:
        self.seed = seed
        self.now = now.replace(tzinfo=None, microsecond=0)
        self.sizes = sizes
        self.zero_dates = zero_dates

    def rng(self, table: str, index: int) -> fake.RecordRandom:
        return fake.rng_for(self.seed, f"genius:{table}", index)

    def stamp(self, index: int, *, group: int = 7) -> datetime.datetime:
        """Change stamps that several rows share (keyset pagers must cope), older for lower ids."""
        return (
            self.now
            - datetime.timedelta(days=200)
            + datetime.timedelta(minutes=5 * (index // group))
        )

    def maybe_zero(self, rng: fake.RecordRandom, value: datetime.datetime | datetime.date) -> t.Any:
        """About one value in forty is MySQL's zero date (SQLite gets NULL instead)."""
        if rng.random() < 1 / 40:
            if not self.zero_dates:
                return None
            return ZERO_DATETIME if isinstance(value, datetime.datetime) else ZERO_DATE
        return value

    def updated(self, rng: fake.RecordRandom, index: int) -> datetime.datetime | None:
        return None if rng.random() < 0.05 else self.stamp(index)

    def rows(self, table: str, start: int, stop: int) -> Iterator[dict[str, t.Any]]:
        make: Callable[[int], dict[str, t.Any]] = getattr(self, f"_{table}")
        for index in range(start, stop):
            yield make(index)

    def _appointment(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("appointment", i)
        first, last = fake.person(rng)
        place = fake.address(rng)
        added = self.stamp(i) - datetime.timedelta(days=rng.randint(1, 30))
        complete = rng.random() < 0.6
        return {
            "id": i + 1,
            "prospect_id": rng.randint(1, self.sizes.prospects),
            "prospect_source_id": rng.randint(1, self.sizes.prospect_sources),
            "user_id": rng.randint(1, self.sizes.users),
            "type_id": rng.randint(1, 5),
            "date": (added + datetime.timedelta(days=rng.randint(1, 14))).date(),
            "time": datetime.time(rng.randint(8, 18), rng.choice([0, 15, 30, 45])),
            "duration": rng.choice([datetime.time(1), datetime.time(1, 30), datetime.time(2)]),
            "address1": place["street"],
            "address2": None,
            "city": place["city"],
            "state": place["state"],
            "zip": place["zip"],
            "email": fake.email(rng, first, last),
            "notes": rng.choice([None, "Dog in yard 🐕, use side gate", "Spouse works nights"]),
            "add_user_id": rng.randint(1, self.sizes.users),
            "add_date": self.maybe_zero(rng, added),
            "assign_date": added + datetime.timedelta(hours=2),
            "confirm_user_id": None,
            "confirm_date": None,
            "confirm_with": rng.choice(["homeowner", "spouse", None]),
            "spouses_present": rng.random() < 0.5,
            "is_complete": complete,
            "complete_outcome_id": rng.randint(1, 7) if complete else None,
            "complete_user_id": rng.randint(1, self.sizes.users) if complete else None,
            "complete_date": added + datetime.timedelta(days=3) if complete else None,
            "updated_at": self.updated(rng, i),
            "marketsharp_id": f"MS-{i}" if rng.random() < 0.3 else None,
            "marketsharp_appt_type": None,
            "leap_estimate_id": None,
            "third_party_source_id": i // 10 + 1 if i % 10 == 0 else None,
        }

    def _third_party_source_type(self, i: int) -> dict[str, t.Any]:
        return {"id": i + 1, "label": ["hubspot", "leap"][i]}

    def _third_party_source(self, i: int) -> dict[str, t.Any]:
        """Sources of appointments first, then one per prospect. Some are not HubSpot's
        (type 2): the old SQL's join leaked their ids as HubSpot ids."""
        first_prospect = self.sizes.appointment_sources
        hubspot = i % 4 != 3 if i < first_prospect else (i - first_prospect) % 7 != 6
        return {
            "id": i + 1,
            "third_party_source_type_id": 1 if hubspot else 2,
            "third_party_id": str(9_000_000_000 + i) if hubspot else f"LEAP-{i}",
        }

    def _division(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("division", i)
        return {
            "id": i + 1,
            "group_id": 1 + i % self.sizes.division_groups,
            "region_id": 1 + i % 2,
            "label": f"{fake.CITIES[i % 5][0]} Division",
            "abbreviation": fake.CITIES[i % 5][1],
            "is_utility": False,
            "is_corp": i == 0,
            "is_omniscient": False,
            "is_inactive": i == 5,
            "account_scheduler_id": rng.randint(1, 25),
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _user_data(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("user", i)
        first, last = fake.person(rng)
        return {
            "user_id": i + 1,
            "division_id": 1 + i % self.sizes.divisions,
            "title_id": 1 + i % 6,
            "manager_user_id": None if i < 3 else 1 + i % 3,
            "first_name": first,
            "first_name_alt": None,
            "last_name": last,
            "email": fake.email(rng, first, last),
            "personal_email": None,
            "birth_date": self.maybe_zero(
                rng, datetime.date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
            ),
            "gender_id": rng.randint(1, 2),
            "marital_status_id": rng.randint(1, 3),
            "time_zone_name": "America/Chicago",
            "hired_on": datetime.datetime(2015 + i % 8, 3, 1),
            "start_date": datetime.datetime(2015 + i % 8, 3, 15),
            "add_user_id": 1,
            "add_datetime": self.stamp(i) - datetime.timedelta(days=400),
            "updated_at": self.updated(rng, i),
            "is_inactive": i % 9 == 8,
            "inactive_on": None,
            "inactive_reason_id": None,
            "inactive_reason_other": None,
            "inactive_transfer_division_id": None,
            "user_associations_id": None if i % 7 == 6 else 1 + i // 3,
        }

    def _users_userassociations(self, i: int) -> dict[str, t.Any]:
        """Groups of three users sharing a primary user, linked from `user_data`."""
        return {
            "id": i + 1,
            "primary_user_id": 1 + i * 3,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _prospect(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("prospect", i)
        first, last = fake.person(rng)
        place = fake.address(rng)
        return {
            "id": i + 1,
            "division_id": 1 + i % self.sizes.divisions,
            "user_id": rng.randint(1, self.sizes.users),
            "first_name": first,
            "last_name": last,
            "alt_first_name": None,
            "alt_last_name": None,
            "address1": place["street"],
            "address2": None,
            "city": place["city"],
            "county": None,
            "state": place["state"],
            "zip": place["zip"],
            "year_built": rng.randint(1920, 2020),
            "phone1": fake.phone(rng),
            "phone2": fake.phone(rng) if rng.random() < 0.3 else None,
            "email": fake.email(rng, first, last),
            "notes": "Prefers text, not calls — “after 5”",
            "add_user_id": 1,
            "add_date": self.maybe_zero(rng, self.stamp(i) - datetime.timedelta(days=10)),
            "marketsharp_id": None,
            "leap_customer_id": None,
            "third_party_source_id": (
                None if i % 10 == 9 else self.sizes.appointment_sources + i + 1
            ),
            "updated_at": self.updated(rng, i),
        }

    def _lead(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("lead", i)
        first, last = fake.person(rng)
        place = fake.address(rng)
        added = self.stamp(i) - datetime.timedelta(hours=3)
        return {
            "lead_id": i + 1,
            "first_name": first,
            "last_name": last,
            "email": fake.email(rng, first, last),
            "phone1": fake.phone(rng),
            "address1": place["street"],
            "city": place["city"],
            "state": place["state"],
            "zip": place["zip"],
            "source": rng.randint(1, self.sizes.marketing_sources),
            "added_by": 1,
            "division": 1 + i % self.sizes.divisions,
            "notes": None,
            "status": rng.randint(1, 3),
            "copied_to_id": None,
            "added_on": added,
            "updated_at": None if rng.random() < 0.3 else self.stamp(i),
        }

    def _quote(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("quote", i)
        return {
            "id": i + 1,
            "prospect_id": rng.randint(1, self.sizes.prospects),
            "appointment_id": rng.randint(1, max(self.sizes.appointments, 1)),
            "job_id": None,
            "client_cid": rng.randint(10_000, 99_999) if rng.random() < 0.5 else None,
            "service_id": rng.randint(1, self.sizes.services),
            "label": f"{rng.choice(fake.SERVICES)} quote",
            "description": "Tear-off, 30 yr shingles",
            "amount": fake.money(rng, 40000),
            "expire_date": (self.stamp(i) + datetime.timedelta(days=30)).date(),
            "status_id": rng.randint(1, 4),
            "contract_file_id": None,
            "estimate_file_id": None,
            "add_user_id": 1,
            "add_date": self.stamp(i),
            "updated_at": self.updated(rng, i),
        }

    def _service(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "label": ([*fake.SERVICES, "Decks", "Doors", "Insulation"])[i],
            "is_active": True,
            "is_lead_required": i % 2 == 0,
            "order_number": i,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _prospect_source(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("prospect_source", i)
        added = self.stamp(i)
        return {
            "id": i + 1,
            "prospect_id": i + 1,
            "marketing_source_id": rng.randint(1, self.sizes.marketing_sources),
            "source_date": added,
            "notes": None,
            "add_user_id": 1,
            "add_date": added,
            "updated_at": None if rng.random() < 0.2 else added,
            "source_user_id": None,
        }

    def _appointment_type(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "label": ["Estimate", "Inspection", "Install", "Follow-up", "Warranty"][i],
            "is_active": True,
        }

    def _appointment_outcome(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "type_id": 1 + i % 3,
            "label": f"Outcome {i + 1}",
            "is_active": True,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _appointment_to_service(self, i: int) -> dict[str, t.Any]:
        return {
            "appointment_id": i + 1,
            "service_id": 1 + i % self.sizes.services,
            "created_at": self.stamp(i),
            "updated_at": self.stamp(i),
        }

    def _appointment_outcome_type(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "label": ["Sold", "Not sold", "Reschedule"][i],
            "sort_idx": i,
            "is_active": True,
            "created_at": self.stamp(0),
            "updated_at": None,
        }

    def _division_group(self, i: int) -> dict[str, t.Any]:
        rng = self.rng("division_group", i)
        return {
            "id": i + 1,
            "group_label": f"Group {i + 1}",
            "region": 1 + i % 2,
            "default_time_zone_name": "US/Pacific",
            "intern_payroll_start": 1 + i,
            "painter_payroll_start": None,
            "is_active": True,
            "cc_profile_id": f"cc-{i:04d}",
            "mes_profile_id": f"mes-{i:04d}",
            "mes_profile_key": f"mes-key-{rng.getrandbits(64):x}",
            "docusign_acct_id": None,
            "paysimple_username": f"ps-user-{i}",
            "paysimple_secret": f"ps-secret-{rng.getrandbits(64):x}",
            "hub_account_id": 4000 + i if i else None,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _marketing_source(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "type_id": 1 + i % 4,
            "label": f"Source {i + 1}",
            "description": None,
            "start_date": datetime.date(2024, 1, 1),
            "end_date": None,
            "add_user_id": 1,
            "add_date": self.stamp(0),
            "is_active": True,
            "is_allow_lead_modification": False,
            "updated_at": self.stamp(i),
        }

    def _marketing_source_type(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "label": ["TV", "Radio", "Web", "Canvass"][i],
            "description": None,
            "is_active": True,
            "list_order": i,
            "created_at": self.stamp(i),
            "updated_at": None if i % 2 else self.stamp(i),
        }

    def _marketsharp_source(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "marketsharp_id": f"ms-{i:04d}",
            "source_name": f"MS source {i}",
            "inactive": False,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _marketsharp_marketing_source_map(self, i: int) -> dict[str, t.Any]:
        return {
            "marketsharp_id": f"ms-{i:04d}",
            "marketing_source_id": 1 + i % self.sizes.marketing_sources,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }

    def _user_title(self, i: int) -> dict[str, t.Any]:
        return {
            "id": i + 1,
            "title": ["Rep", "Manager", "Installer", "Canvasser", "Admin", "Owner"][i],
            "abbreviation": "T",
            "roles": "sales",
            "type_id": 1,
            "section_id": 1,
            "sort": i,
            "pay_component_group_id": None,
            "is_active": True,
            "is_unique_per_division": False,
            "created_at": self.stamp(0),
            "updated_at": self.stamp(i),
        }


def _prepare(engine: sa.Engine, connection: sa.Connection) -> None:
    if engine.dialect.name == "mysql":
        connection.execute(sa.text("SET SESSION sql_mode = ''"))  # allow zero dates


def seed(
    engine: sa.Engine,
    *,
    appointments: int = 300,
    seed_value: int = 1,
    now: datetime.datetime | None = None,
    only: t.Collection[str] | None = None,
    people: int = story_module.DEFAULT_PEOPLE,
) -> dict[str, int]:
    """Drop, create and fill every table (or the tables in `only`), the story's `people`
    included; returns the row count per table."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    sizes = Sizes(appointments)
    rows = Rows(seed_value, now, sizes, zero_dates=engine.dialect.name == "mysql")
    story_rows = StoryRows(story_module.Story(now, people=people), rows)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    counts = {}
    for name, table in TABLES.items():
        if only is not None and name not in only:
            continue
        total = sizes.of(name)
        told = story_rows.of(name)
        with engine.begin() as connection:
            _prepare(engine, connection)
            for start in range(0, total, BATCH):
                batch = list(rows.rows(name, start, min(start + BATCH, total)))
                connection.execute(table.insert(), batch)
            if told:
                connection.execute(table.insert(), told)
        counts[name] = total + len(told)
    return counts


class StoryRows:
    """The story's rows, each a generated row (for the columns the story does not care
    about) with the story's values over it."""

    def __init__(self, story: story_module.Story, rows: Rows) -> None:
        self.story = story
        self.rows = rows

    def of(self, table: str) -> list[dict[str, t.Any]]:
        make = getattr(self, f"_{table}s", None)
        return make() if make else []

    def _prospects(self) -> list[dict[str, t.Any]]:
        made = []
        for index, prospect in enumerate(self.story.prospects):
            created = _naive(prospect.created_at)
            made.append(
                {
                    **self.rows._prospect(index),
                    "id": prospect.id,
                    "first_name": prospect.first,
                    "last_name": prospect.last,
                    "phone1": prospect.phone1,
                    "phone2": prospect.phone2,
                    "email": prospect.email,
                    "add_date": created,
                    "updated_at": created,
                    "third_party_source_id": None,
                }
            )
        return made

    def _prospect_sources(self) -> list[dict[str, t.Any]]:
        made = []
        for index, prospect in enumerate(self.story.prospects):
            created = _naive(prospect.created_at)
            made.append(
                {
                    **self.rows._prospect_source(index),
                    "id": prospect.prospect_source_id,
                    "prospect_id": prospect.id,
                    "marketing_source_id": prospect.marketing_source_id,
                    "source_date": created,
                    "add_date": created,
                    "updated_at": created,
                }
            )
        return made

    def _leads(self) -> list[dict[str, t.Any]]:
        made = []
        for index, lead in enumerate(self.story.leads):
            added = _naive(lead.added_on)
            made.append(
                {
                    **self.rows._lead(index),
                    "lead_id": lead.id,
                    "first_name": lead.first,
                    "last_name": lead.last,
                    "email": lead.email,
                    "phone1": lead.phone,
                    "source": lead.marketing_source_id,
                    "copied_to_id": lead.prospect_id,
                    "added_on": added,
                    "updated_at": added,
                }
            )
        return made

    def _appointments(self) -> list[dict[str, t.Any]]:
        made = []
        for index, appointment in enumerate(self.story.appointments):
            moment = _naive(appointment.at)
            booked = moment - datetime.timedelta(days=1)
            complete = appointment.outcome_id is not None
            made.append(
                {
                    **self.rows._appointment(index),
                    "id": appointment.id,
                    "prospect_id": appointment.prospect_id,
                    "prospect_source_id": appointment.prospect_source_id,
                    "date": moment.date(),
                    "time": moment.time(),
                    "email": None,
                    "add_date": booked,
                    "assign_date": booked,
                    "is_complete": complete,
                    "complete_outcome_id": appointment.outcome_id,
                    "complete_date": moment + datetime.timedelta(hours=2) if complete else None,
                    "updated_at": booked,
                    "third_party_source_id": None,
                }
            )
        return made

    def _quotes(self) -> list[dict[str, t.Any]]:
        made = []
        for index, quote in enumerate(self.story.quotes):
            added = _naive(quote.added_at)
            made.append(
                {
                    **self.rows._quote(index),
                    "id": quote.id,
                    "prospect_id": quote.prospect_id,
                    "appointment_id": quote.appointment_id,
                    "amount": quote.amount,
                    "expire_date": (added + datetime.timedelta(days=30)).date(),
                    "add_date": added,
                    "updated_at": added,
                }
            )
        return made


def _naive(moment: datetime.datetime) -> datetime.datetime:
    """A moment as the Genius database writes it: naive, in UTC."""
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def mutate(engine: sa.Engine, *, round_number: int = 1, seed_value: int = 1) -> dict[str, t.Any]:
    """Update, insert and delete rows; every new change stamp is later than all before it."""
    rng = fake.rng_for(seed_value, "genius:mutate", round_number)
    with engine.begin() as connection:
        _prepare(engine, connection)
        latest = max(
            (
                connection.execute(sa.select(sa.func.max(TABLES[name].c.updated_at))).scalar()
                for name in ("appointment", "prospect", "quote")
            ),
            key=lambda stamp: stamp or datetime.datetime.min,
        )
        moment = (latest or datetime.datetime(2026, 1, 1)) + datetime.timedelta(minutes=1)
        summary: dict[str, t.Any] = {}
        for name, key in (("appointment", "id"), ("prospect", "id"), ("quote", "id")):
            table = TABLES[name]
            top = _highest_generated_id(connection, table.c[key])
            changed = sorted({rng.randint(1, top) for _ in range(5)})
            for row_id in changed:
                values: dict[str, t.Any] = {"updated_at": moment}
                if name == "quote":
                    values["amount"] = f"{rng.randint(1000, 9999)}.{rng.randint(0, 99):02d}"
                elif name == "appointment":
                    values["notes"] = f"Rescheduled ({round_number}) ✓"
                else:
                    values["phone1"] = fake.phone(rng)
                connection.execute(table.update().where(table.c[key] == row_id).values(**values))
            summary[name] = {"updated": changed}
        appointment = TABLES["appointment"]
        top = _highest_generated_id(connection, appointment.c.id)
        sizes = Sizes(top)
        rows = Rows(
            seed_value + round_number, moment, sizes, zero_dates=engine.dialect.name == "mysql"
        )
        new_rows = []
        for offset in range(3):
            row = rows._appointment(top + offset)
            row["updated_at"] = moment
            row["third_party_source_id"] = None
            new_rows.append(row)
        connection.execute(appointment.insert(), new_rows)
        summary["appointment"]["created"] = [row["id"] for row in new_rows]
    return summary


def _highest_generated_id(connection: sa.Connection, key: sa.Column) -> int:
    """The highest id below the story's: what `mutate` may change, and where it adds."""
    below_story = key < story_module.FIRST_GENIUS_ID
    return connection.execute(sa.select(sa.func.max(key)).where(below_story)).scalar() or 0


@dataclass
class TableDrift:
    """Changes made to one table behind a stamp-based delta's back."""

    deleted: list[t.Any] = field(default_factory=list)
    """Keys deleted (a delta never sees a row that is gone)."""
    changed: list[t.Any] = field(default_factory=list)
    """Keys whose row changed while its change stamp did not (an admin's SQL fix), or that
    were deleted and inserted again under their old stamp, or none."""
    inserted: list[t.Any] = field(default_factory=list)
    """Keys of rows inserted without a stamp past every other key: a delta reads these."""


def drift(
    engine: sa.Engine, *, round_number: int = 1, seed_value: int = 1
) -> dict[str, TableDrift]:
    """Deletes and changes a stamp-based delta cannot see, per table (`TableDrift`):
    deleted rows (in a composite-key table, the reserved-name `lead` table and a table
    keyed by text too), rows changed without touching their stamp, keys deleted and
    inserted again (under their old stamp, and without one), and a row inserted without a
    stamp past every key. The story's rows are left alone."""
    rng = fake.rng_for(seed_value, "genius:drift", round_number)
    planted = {name: TableDrift() for name in DRIFT_PLAN}
    with engine.begin() as connection:
        _prepare(engine, connection)
        for name, (deletes, changes, column) in DRIFT_PLAN.items():
            table = TABLES[name]
            keys = _generated_keys(connection, table)
            picked = rng.sample(keys, deletes + changes)
            for key in picked[:deletes]:
                connection.execute(table.delete().where(_key_is(table, key)))
                planted[name].deleted.append(key)
            for key in picked[deletes:]:
                value: t.Any = rng.randint(1000, 9999)
                if not isinstance(table.c[column].type, sa.Integer):
                    value = f"drift {round_number}: {value}"
                update = table.update().where(_key_is(table, key)).values({column: value})
                connection.execute(update)
                planted[name].changed.append(key)
        touched = set(planted["appointment"].deleted) | set(planted["appointment"].changed)
        planted["appointment"].changed += _reinsert(connection, rng, round_number, touched)
        planted["appointment"].inserted.append(_insert_unstamped(connection, round_number))
    return planted


DRIFT_PLAN = {
    "appointment": (3, 2, "notes"),
    "appointment_to_service": (2, 0, "updated_at"),
    "lead": (2, 1, "notes"),
    "prospect": (0, 1, "notes"),
    "marketsharp_marketing_source_map": (1, 1, "marketing_source_id"),
}
"""Per table: rows deleted, rows changed without their stamp, and the column changed."""


def _generated_keys(connection: sa.Connection, table: sa.Table) -> list[t.Any]:
    """The keys of generated rows (not the story's), in key order."""
    key = list(table.primary_key.columns)
    rows = connection.execute(sa.select(*key).order_by(*key)).all()
    values = [row[0] if len(key) == 1 else tuple(row) for row in rows]
    return [v for v in values if not _is_the_storys(v)]


def _is_the_storys(key: t.Any) -> bool:
    """A key of the story's rows (or, composite, one that leads with such a key)."""
    first = key[0] if isinstance(key, tuple) else key
    return isinstance(first, int) and first >= story_module.FIRST_GENIUS_ID


def _key_is(table: sa.Table, key: t.Any) -> sa.ColumnElement:
    columns = list(table.primary_key.columns)
    values = key if isinstance(key, tuple) else (key,)
    return sa.and_(*(column == value for column, value in zip(columns, values, strict=True)))


def _reinsert(
    connection: sa.Connection, rng: fake.RecordRandom, round_number: int, touched: set[int]
) -> list[int]:
    """Two appointments deleted and inserted again with another city: one under its old
    stamp, one without a stamp (its key lies below every unstamped key a delta read)."""
    table = TABLES["appointment"]
    stamped = [
        row
        for row in connection.execute(
            sa.select(table)
            .where(table.c.updated_at.is_not(None), table.c.id < 100)
            .order_by(table.c.id)
        ).all()
        if row.id not in touched
    ]
    again = []
    for position, stamp in ((0, "old"), (1, None)):
        row = dict(rng.choice(stamped[position::2])._mapping)
        connection.execute(table.delete().where(table.c.id == row["id"]))
        row["city"] = f"Moved {round_number}"
        row["updated_at"] = row["updated_at"] if stamp == "old" else None
        connection.execute(table.insert().values(row))
        again.append(row["id"])
    return again


def _insert_unstamped(connection: sa.Connection, round_number: int) -> int:
    """An appointment without a stamp past every generated key: the delta's pass over
    unstamped rows reads it."""
    table = TABLES["appointment"]
    key = _highest_generated_id(connection, table.c.id) + 1
    connection.execute(table.insert().values(id=key, city=f"Unstamped {round_number}"))
    return key
