"""The people the stand-ins share: a caller in CallRail becomes a prospect in Genius, gets an
appointment and maybe a quote, and an Arrivy crew does the job.

Each stand-in makes its own noise; on top of it, the story places the same people in all
three, their numbers written the way each system writes them (`+13035550199` in CallRail,
`(303) 555-0199` in Genius, `303.555.0199` in Arrivy) and their e-mail addresses in mixed
case with stray spaces. Every case of the warehouse's matching rules has people in it: a
phone match, a match on the second phone, an e-mail match through a web form, a call long
before the prospect existed, a call from a prospect created long before, two prospects with
one phone (the nearer in time wins, then the lower id), near misses (one digit off, seven
digits), a prospect without an appointment, and a repeat customer with two appointments and
two jobs.

Noise cannot match a story person: the generators never write exchange 555 (and the story
writes nothing else), nor this module's e-mail domain; the noise prospects in Genius are
older than any call. So the funnel the warehouse must show is known here, row by row:
`expected_funnel`.

Times hang on `now` rounded down to the hour, so stand-ins started seconds apart (`python -m
sandbox up`) agree. Ids in Genius start at `FIRST_GENIUS_ID`, past any generated row.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

from sandbox import fake_data as fake

DOMAIN = "story.example.net"
"""RFC 2606 reserves it; the noise generators use example.com and mail.example.org."""
DEFAULT_PEOPLE = 40
FIRST_GENIUS_ID = 900_000_001
AREA_CODES = (303, 720, 512, 813)
SOURCES = (
    ("Google Ads", "cpc", "spring-roofing"),
    ("Direct", "direct", None),
    ("Bing Organic", "organic", None),
    ("Yard sign", "offline", "storm-2026"),
)
CASES = (
    "phone",
    "phone2",
    "email",
    "early",
    "late",
    "twins",
    "tie",
    "near_miss",
    "no_appointment",
    "repeat",
)
CALL_WINDOW_DAYS = (85, 55)
"""Story calls fall between 85 and 55 days before now: room before for prospects created
long before, after for appointments and jobs that follow, all in every stand-in's range."""
SOLD_OUTCOME = 1
OPEN_OUTCOME = None


def callrail_spelling(digits: str) -> str:
    return f"+1{digits}"


def genius_spelling(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def arrivy_spelling(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"


def dashed_spelling(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


@dataclasses.dataclass(frozen=True)
class Call:
    """A story call: placed by the CallRail stand-in at exactly `at` in account `account`."""

    person: int
    account: int
    at: datetime.datetime
    phone: str
    person_id: str
    name: str
    source: str
    medium: str
    campaign: str | None


@dataclasses.dataclass(frozen=True)
class Form:
    """A web form the caller sent too (same CallRail `person_id`): how e-mail matches."""

    person: int
    account: int
    at: datetime.datetime
    person_id: str
    name: str
    email: str


@dataclasses.dataclass(frozen=True)
class Prospect:
    id: int
    person: int
    first: str
    last: str
    phone1: str | None
    phone2: str | None
    email: str | None
    created_at: datetime.datetime
    prospect_source_id: int
    marketing_source_id: int


@dataclasses.dataclass(frozen=True)
class Lead:
    id: int
    prospect_id: int
    first: str
    last: str
    phone: str | None
    email: str | None
    marketing_source_id: int
    added_on: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Appointment:
    id: int
    prospect_id: int
    prospect_source_id: int
    at: datetime.datetime
    outcome_id: int | None


@dataclasses.dataclass(frozen=True)
class Quote:
    id: int
    prospect_id: int
    appointment_id: int
    amount: str
    added_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Task:
    """A crew job: the Arrivy stand-in places it in the first free slot starting at or after
    `not_before`, so its start is the slot's."""

    key: tuple[int, int]
    person: int
    not_before: datetime.datetime
    phone: str | None
    email: str | None
    complete: bool


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the funnel must say about one story call."""

    person: int
    case: str
    prospect_id: int | None = None
    matched_on: str | None = None
    lead_id: int | None = None
    appointment_id: int | None = None
    appointment_at: datetime.datetime | None = None
    outcome_id: int | None = None
    sold: bool = False
    task_keys: tuple[tuple[int, int], ...] = ()
    """The person's tasks; the funnel's is the first placed one starting after the call."""


class Ids:
    """Consecutive Genius ids per table, from `FIRST_GENIUS_ID`."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self._next.get(table, FIRST_GENIUS_ID)
        self._next[table] = value + 1
        return value


class Story:
    """The story's people and what each system holds of them."""

    def __init__(
        self, now: datetime.datetime, *, people: int = DEFAULT_PEOPLE, accounts: int = 2
    ) -> None:
        now = now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)
        self.anchor = now.astimezone(datetime.timezone.utc).replace(
            minute=0, second=0, microsecond=0
        )
        self.people = people
        self.accounts = max(accounts, 1)
        self.calls: list[Call] = []
        self.forms: list[Form] = []
        self.prospects: list[Prospect] = []
        self.leads: list[Lead] = []
        self.appointments: list[Appointment] = []
        self.quotes: list[Quote] = []
        self.tasks: list[Task] = []
        self.outcomes: dict[int, Outcome] = {}
        self._ids = Ids()
        for number in range(people):
            self._tell(number)

    # The people ---------------------------------------------------------------------------

    def digits(self, number: int, variant: int = 0) -> str:
        """Person `number`'s phone (variant 0), or another of the story's (1-4), 10 digits."""
        area = AREA_CODES[number % len(AREA_CODES)]
        return f"{area}555{variant}{number % 1000:03d}"

    def email(self, number: int) -> str:
        first, last = self.name(number)
        return f"{first}.{last}.{number}@{DOMAIN}".replace("'", "").replace(" ", "")

    def name(self, number: int) -> tuple[str, str]:
        return fake.person(fake.rng_for(0, "story", number))

    def called_at(self, number: int) -> datetime.datetime:
        earliest, latest = CALL_WINDOW_DAYS
        span = datetime.timedelta(days=earliest - latest)
        return (
            self.anchor
            - datetime.timedelta(days=earliest)
            + span * number / max(self.people, 1)
            + datetime.timedelta(minutes=17)
        )

    # What the systems hold ---------------------------------------------------------------

    def _tell(self, number: int) -> None:
        case = CASES[number % len(CASES)]
        first, last = self.name(number)
        at = self.called_at(number)
        caller = self.digits(number, 4 if case == "email" else 0)
        source, medium, campaign = SOURCES[number % len(SOURCES)]
        account = number % self.accounts
        person_id = f"PERSTORY{number:06d}"
        self.calls.append(
            Call(
                number,
                account,
                at,
                callrail_spelling(caller),
                person_id,
                f"{first} {last}",
                source,
                medium,
                campaign,
            )
        )
        getattr(self, f"_case_{case}")(number, at)

    def _prospect(
        self,
        number: int,
        created: datetime.datetime,
        *,
        phone1: str | None,
        phone2: str | None = None,
        email: str | None = None,
    ) -> Prospect:
        first, last = self.name(number)
        prospect = Prospect(
            id=self._ids.take("prospect"),
            person=number,
            first=first,
            last=last,
            phone1=phone1,
            phone2=phone2,
            email=email,
            created_at=created,
            prospect_source_id=self._ids.take("prospect_source"),
            marketing_source_id=1 + number % 20,
        )
        self.prospects.append(prospect)
        return prospect

    def _lead(self, prospect: Prospect) -> Lead:
        lead = Lead(
            id=self._ids.take("lead"),
            prospect_id=prospect.id,
            first=prospect.first,
            last=prospect.last,
            phone=prospect.phone1,
            email=prospect.email,
            marketing_source_id=prospect.marketing_source_id,
            added_on=prospect.created_at - datetime.timedelta(minutes=30),
        )
        self.leads.append(lead)
        return lead

    def _appointment(
        self, prospect: Prospect, days_after: int, *, outcome_id: int | None, sold: bool
    ) -> Appointment:
        moment = (prospect.created_at + datetime.timedelta(days=days_after)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        appointment = Appointment(
            self._ids.take("appointment"),
            prospect.id,
            prospect.prospect_source_id,
            moment,
            outcome_id,
        )
        self.appointments.append(appointment)
        if sold:
            self.quotes.append(
                Quote(
                    self._ids.take("quote"),
                    prospect.id,
                    appointment.id,
                    f"{4000 + 137 * prospect.person}.{prospect.person % 100:02d}",
                    moment,
                )
            )
        return appointment

    def _task(
        self,
        number: int,
        serial: int,
        not_before: datetime.datetime,
        *,
        by_email: bool = False,
        complete: bool,
    ) -> Task:
        task = Task(
            key=(number, serial),
            person=number,
            not_before=not_before,
            phone=None if by_email else arrivy_spelling(self.digits(number)),
            email=self.email(number).lower() if by_email else None,
            complete=complete,
        )
        self.tasks.append(task)
        return task

    def _matched(
        self,
        number: int,
        prospect: Prospect,
        matched_on: str,
        *,
        lead: Lead | None = None,
        appointment: Appointment | None = None,
        tasks: tuple[Task, ...] = (),
    ) -> None:
        self.outcomes[number] = Outcome(
            person=number,
            case=CASES[number % len(CASES)],
            prospect_id=prospect.id,
            matched_on=matched_on,
            lead_id=lead.id if lead else None,
            appointment_id=appointment.id if appointment else None,
            appointment_at=appointment.at if appointment else None,
            outcome_id=appointment.outcome_id if appointment else None,
            sold=appointment is not None
            and any(q.appointment_id == appointment.id for q in self.quotes),
            task_keys=tuple(task.key for task in tasks),
        )

    def _unmatched(self, number: int) -> None:
        self.outcomes[number] = Outcome(person=number, case=CASES[number % len(CASES)])

    # The cases ----------------------------------------------------------------------------

    def _case_phone(self, number: int, at: datetime.datetime) -> None:
        """Called, became a prospect two hours later; sold on every other one, job done."""
        prospect = self._prospect(
            number, at + datetime.timedelta(hours=2), phone1=genius_spelling(self.digits(number))
        )
        lead = self._lead(prospect)
        sold = number % 2 == 0
        appointment = self._appointment(
            prospect, 3, outcome_id=SOLD_OUTCOME if sold else 2, sold=sold
        )
        task = self._task(number, 0, appointment.at + datetime.timedelta(days=5), complete=sold)
        self._matched(number, prospect, "phone", lead=lead, appointment=appointment, tasks=(task,))

    def _case_phone2(self, number: int, at: datetime.datetime) -> None:
        """The caller's number is the prospect's second phone; the appointment is open."""
        prospect = self._prospect(
            number,
            at + datetime.timedelta(hours=3),
            phone1=genius_spelling(self.digits(number, 2)),
            phone2=dashed_spelling(self.digits(number)),
        )
        appointment = self._appointment(prospect, 4, outcome_id=OPEN_OUTCOME, sold=False)
        self._matched(number, prospect, "phone", appointment=appointment)

    def _case_email(self, number: int, at: datetime.datetime) -> None:
        """Called from a number Genius lacks, but sent a web form whose e-mail, trimmed and
        lower-cased, is the prospect's; the crew has the e-mail only."""
        first, last = self.name(number)
        address = self.email(number)
        self.forms.append(
            Form(
                number,
                number % self.accounts,
                at - datetime.timedelta(hours=1),
                f"PERSTORY{number:06d}",
                f"{first} {last}",
                address.replace(DOMAIN, DOMAIN.title()),
            )
        )
        prospect = self._prospect(
            number,
            at + datetime.timedelta(hours=5),
            phone1=genius_spelling(self.digits(number)),
            email=f"  {address.upper()} ",
        )
        lead = self._lead(prospect)
        appointment = self._appointment(prospect, 2, outcome_id=SOLD_OUTCOME, sold=True)
        task = self._task(
            number, 0, appointment.at + datetime.timedelta(days=3), by_email=True, complete=True
        )
        self._matched(number, prospect, "email", lead=lead, appointment=appointment, tasks=(task,))

    def _case_early(self, number: int, at: datetime.datetime) -> None:
        """The prospect came 45 days after the call: outside the 30-day window, no match."""
        prospect = self._prospect(
            number, at + datetime.timedelta(days=45), phone1=genius_spelling(self.digits(number))
        )
        self._appointment(prospect, 3, outcome_id=SOLD_OUTCOME, sold=True)
        self._unmatched(number)

    def _case_late(self, number: int, at: datetime.datetime) -> None:
        """The prospect existed three days before the call: the call did not produce it."""
        prospect = self._prospect(
            number, at - datetime.timedelta(days=3), phone1=arrivy_spelling(self.digits(number))
        )
        self._appointment(prospect, 5, outcome_id=2, sold=False)
        self._unmatched(number)

    def _case_twins(self, number: int, at: datetime.datetime) -> None:
        """Two prospects share the phone; the nearer in time wins over the lower id."""
        far = self._prospect(
            number, at + datetime.timedelta(days=20), phone1=genius_spelling(self.digits(number))
        )
        self._appointment(far, 2, outcome_id=SOLD_OUTCOME, sold=True)
        near = self._prospect(
            number, at + datetime.timedelta(hours=4), phone1=dashed_spelling(self.digits(number))
        )
        appointment = self._appointment(near, 6, outcome_id=2, sold=False)
        self._matched(number, near, "phone", appointment=appointment)

    def _case_tie(self, number: int, at: datetime.datetime) -> None:
        """Two prospects with the phone, created at the same moment: the lower id wins."""
        created = at + datetime.timedelta(hours=6)
        first = self._prospect(number, created, phone1=genius_spelling(self.digits(number)))
        second = self._prospect(
            number, created, phone2=genius_spelling(self.digits(number)), phone1=None
        )
        appointment = self._appointment(first, 3, outcome_id=SOLD_OUTCOME, sold=True)
        self._appointment(second, 4, outcome_id=2, sold=False)
        task = self._task(number, 0, appointment.at + datetime.timedelta(days=4), complete=False)
        self._matched(number, first, "phone", appointment=appointment, tasks=(task,))

    def _case_near_miss(self, number: int, at: datetime.datetime) -> None:
        """Prospects one digit off the caller's number, or without its area code: no match."""
        digits = self.digits(number)
        off_by_one = digits[:-1] + str((int(digits[-1]) + 1) % 10)
        self._prospect(number, at + datetime.timedelta(hours=2), phone1=genius_spelling(off_by_one))
        self._prospect(
            number, at + datetime.timedelta(hours=3), phone1=f"{digits[3:6]}-{digits[6:]}"
        )
        self._unmatched(number)

    def _case_no_appointment(self, number: int, at: datetime.datetime) -> None:
        """Matched, with a lead, but never booked."""
        prospect = self._prospect(
            number, at + datetime.timedelta(hours=1), phone1=genius_spelling(self.digits(number))
        )
        lead = self._lead(prospect)
        self._matched(number, prospect, "phone", lead=lead)

    def _case_repeat(self, number: int, at: datetime.datetime) -> None:
        """A repeat customer: an earlier job before the call, two appointments after it (the
        funnel follows the first, unsold; the second was sold)."""
        prospect = self._prospect(
            number, at + datetime.timedelta(hours=2), phone1=genius_spelling(self.digits(number))
        )
        lead = self._lead(prospect)
        first = self._appointment(prospect, 2, outcome_id=2, sold=False)
        self._appointment(prospect, 9, outcome_id=SOLD_OUTCOME, sold=True)
        earlier = self._task(number, 0, at - datetime.timedelta(days=10), complete=True)
        later = self._task(number, 1, first.at + datetime.timedelta(days=12), complete=True)
        self._matched(
            number, prospect, "phone", lead=lead, appointment=first, tasks=(earlier, later)
        )

    # The expected funnel -------------------------------------------------------------------

    def expected_funnel(
        self,
        call_ids: t.Mapping[int, str],
        task_placements: t.Mapping[tuple[int, int], tuple[int, datetime.datetime]],
    ) -> dict[str, dict[str, t.Any]]:
        """The funnel row of each story call the CallRail stand-in placed (`call_ids`: person
        → call id), its task among those the Arrivy stand-in placed (`task_placements`: key
        → (task id, start)). A call not listed here matches nothing."""
        rows = {}
        calls = {call.person: call for call in self.calls}
        for person, call_id in call_ids.items():
            outcome = self.outcomes[person]
            call_at = calls[person].at
            placed = sorted(
                (task_placements[key][1], task_placements[key][0])
                for key in outcome.task_keys
                if key in task_placements and task_placements[key][1] >= call_at
            )
            task_start, task_id = placed[0] if placed else (None, None)
            rows[call_id] = {
                "person": person,
                "case": outcome.case,
                "prospect_id": outcome.prospect_id,
                "matched_on": outcome.matched_on,
                "lead_id": outcome.lead_id,
                "appointment_id": outcome.appointment_id,
                "appointment_outcome_id": outcome.outcome_id,
                "is_sold": outcome.sold,
                "arrivy_task_id": task_id,
                "seconds_to_appointment": _seconds(call_at, outcome.appointment_at),
                "seconds_to_task": _seconds(call_at, task_start) if outcome.prospect_id else None,
            }
        return rows


def _seconds(start: datetime.datetime, end: datetime.datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds())
