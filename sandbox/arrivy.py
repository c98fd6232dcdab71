"""A local stand-in for the Arrivy API, quirks included (see docs/sources/arrivy.md).

- `X-Auth-Key` and `X-Auth-Token` on every request; anything else is 401.
- Lists are bare JSON arrays (or `{"results": …, "has_next": …}` with `wrap_lists=True`, as
  some deployments do), paged by `page` (1-based) and `items_per_page` (tasks default 500,
  statuses and groups 100); `page_size` is ignored.
- `/tasks` selects on the scheduled start with `from`/`to`; unscheduled tasks come only with
  `unscheduled=true`. `updated_after` is honoured only when `honour_updated_after` is on, so
  a tap that relies on it blindly can be caught.
- Datetimes are UTC, some written without an offset and some with microseconds; the local
  original and its zone sit in `*_original_iso_str` and `*_timezone`. Ids are large integers.
- Datetime parameters (`from`, `to`, `updated_after`, `time`) are read in the form the old
  production client sent (`Shahram4wd/Data-Warehouse`, ingestion/sync/arrivy/clients):
  whole seconds with `+00:00` or `Z`. Whether Arrivy accepts fractions is not known: here
  it refuses them (400 INVALID_INPUT).
- A page holds at most `max_items_per_page` records, whatever `items_per_page` asks (the old
  client found the server ignoring its page size): a short page is not the last.
- Values as the old client met them: an entity's `phone` is a JSON integer (when set), a
  reading's `meta` may be `""`, a task's `mileage` an array.
- Errors are JSON with a code and a message (`404 NOT_FOUND`, `400 INVALID_INPUT_JSON`).
"""

from __future__ import annotations

import datetime
import math
import re
import typing as t
from zoneinfo import ZoneInfo

from sandbox import fake_data as fake
from sandbox import story
from sandbox.collection import Collection, Record
from sandbox.server import HTTPError, Request, Response, StandIn

ID_BASE = 5_348_024_557_502_464
OWNER = 5_100_000_000_000_001
ZONE = ZoneInfo("America/Chicago")
STATUS_TYPES = ["NOTSTARTED", "CONFIRMED", "ENROUTE", "STARTED", "COMPLETE"]
READING_SPACING = datetime.timedelta(minutes=30)
MAX_ITEMS_PER_PAGE = 200
_WHOLE_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def arrivy_id(kind: int, index: int) -> int:
    """Large integer ids below 2**53, distinct per kind."""
    return ID_BASE + kind * 10_000_000 + index


class ArrivyStandIn(StandIn):
    """Arrivy on loopback: tasks, statuses, customers, entities, readings, groups."""

    name = "arrivy"

    def __init__(
        self,
        *,
        auth_key: str = "sandbox-arrivy-key",
        auth_token: str = "sandbox-arrivy-token",  # noqa: S107 - the stand-in's own credential
        tasks: int = 300,
        seed: int = 1,
        now: datetime.datetime | None = None,
        wrap_lists: bool = False,
        honour_updated_after: bool = True,
        people: int = story.DEFAULT_PEOPLE,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.auth = (auth_key, auth_token)
        self.seed = seed
        self.now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.wrap_lists = wrap_lists
        self.max_items_per_page = MAX_ITEMS_PER_PAGE
        self.honour_updated_after = honour_updated_after
        # Scheduled tasks span 120 days back to 30 days ahead, in start order.
        self.first_start = self.now - datetime.timedelta(days=120)
        self.task_spacing = datetime.timedelta(days=150) / max(tasks, 1)
        self.groups = Collection("groups", 3, self._group)
        self.entities = Collection("entities", 12, self._entity)
        self.customers = Collection("customers", max(tasks // 2, 5), self._customer)
        self.initial_customers = self.customers.size
        self.tasks = Collection("tasks", tasks, self._scheduled_task)
        self.unscheduled = Collection("unscheduled", max(tasks // 10, 2), self._unscheduled_task)
        self.story = story.Story(self.now, people=people)
        self.story_tasks = self._place(self.story)
        self.tasks.protected.update(self.story_tasks)
        self.extra_statuses: dict[int, list[Record]] = {}
        self.removed_status_reports: set[int] = set()
        """Ids of status reports taken out of their task's history (a correction)."""
        self.statuses = Collection("statuses", len(STATUS_TYPES) + 23, self._status_definition)
        self.born: dict[tuple[str, int], datetime.datetime] = {}
        self.clock = self.now
        self._mutations = 0
        self.route("GET", r"/api/users/profile", self.profile)
        self.route("GET", r"/api/tasks", self.list_tasks)
        self.route("GET", r"/api/tasks/(?P<id>\d+)/status", self.task_statuses)
        self.route("GET", r"/api/customers", self.list_plain(self.customers))
        self.route("GET", r"/api/entities", self.list_plain(self.entities))
        self.route("GET", r"/api/entities/(?P<id>\d+)/readings", self.readings)
        self.route("GET", r"/api/groups", self.list_plain(self.groups, default_per_page=100))
        self.route("GET", r"/api/statuses", self.status_definitions)

    # Auth and errors -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        given = (request.headers.get("x-auth-key"), request.headers.get("x-auth-token"))
        if given != self.auth:
            raise HTTPError(401, {"code": "UNAUTHORIZED", "message": "Invalid auth key or token"})
        return given[0] or ""

    def not_found(self, request: Request) -> HTTPError:
        return HTTPError(404, {"code": "NOT_FOUND", "message": f"{request.path} not found"})

    # Time ----------------------------------------------------------------------------------

    def rng(self, kind: str, index: int) -> fake.RecordRandom:
        return fake.rng_for(self.seed, kind, index)

    def stamp(
        self, moment: datetime.datetime, rng: fake.RecordRandom, *, exact: bool = False
    ) -> str:
        """UTC; a third without offset, some with microseconds, like Arrivy writes them."""
        if not exact and rng.random() < 0.3:
            moment = moment + datetime.timedelta(microseconds=rng.randint(1, 999_999))
        return fake.iso_utc(moment, with_offset=rng.random() >= 1 / 3)

    def task_start(self, index: int) -> datetime.datetime:
        return self.first_start + self.task_spacing * index

    def _place(self, tale: story.Story) -> dict[int, story.Task]:
        """The story's jobs, each over the first free scheduled task starting at or after
        its earliest moment (left out past the last)."""
        placed: dict[int, story.Task] = {}
        for task in sorted(tale.tasks, key=lambda task: task.not_before):
            index = max(0, math.ceil((task.not_before - self.first_start) / self.task_spacing))
            while index in placed:
                index += 1
            if index < self.tasks.size:
                placed[index] = task
        return placed

    def task_placements(self) -> dict[tuple[int, int], tuple[int, datetime.datetime]]:
        """Story job → (task id, start), for the expected funnel."""
        return {
            task.key: (arrivy_id(4, index), self.task_start(index))
            for index, task in self.story_tasks.items()
        }

    # Records -------------------------------------------------------------------------------

    def _group(self, index: int) -> Record:
        rng = self.rng("group", index)
        created = self.first_start - datetime.timedelta(days=300 + index)
        place = fake.address(rng)
        return {
            "id": arrivy_id(1, index),
            "owner": OWNER,
            "name": ["North crew", "South crew", "Installers"][index % 3],
            "description": "Crew group",
            "email": f"group{index}@example.com",
            "phone": fake.phone(rng),
            "address_line_1": place["street"],
            "city": place["city"],
            "state": place["state"],
            "zipcode": place["zip"],
            "timezone": str(ZONE),
            "extra_fields": {},
            "created": self.stamp(created, rng),
            "updated": self.stamp(created + datetime.timedelta(days=1), rng),
        }

    def _entity(self, index: int) -> Record:
        rng = self.rng("entity", index)
        first, last = fake.person(rng)
        created = self.first_start - datetime.timedelta(days=200 + index)
        return {
            "id": arrivy_id(2, index),
            "owner": OWNER,
            "name": f"{first} {last}",
            "type": "PERSON",
            "email": fake.email(rng, first, last),
            "phone": int(f"1{rng.randint(2012000000, 9899999999)}") if index % 3 == 0 else None,
            "color": rng.choice(["#ff0000", "#00aa00", "#0000ff"]),
            "details": None,
            "extra_fields": {"truck": f"T{index % 4}"},
            "group_id": arrivy_id(1, index % self.groups.size),
            "additional_group_ids": [],
            "skill_ids": [],
            "external_id": f"EMP-{index}",
            "is_disabled": False,
            "permission": rng.choice(["ADMIN", "SCHEDULER", "FIELDCREW", "LIMITEDACCESS"]),
            "joined_datetime": self.stamp(created, rng),
            "lastreading": self._reading(index, self._last_reading_number()),
            "created": self.stamp(created, rng),
            "updated": self.stamp(created + datetime.timedelta(days=2), rng),
        }

    def _customer(self, index: int) -> Record:
        rng = self.rng("customer", index)
        first, last = fake.person(rng)
        place = fake.address(rng)
        created = self.born.get(("customer", index)) or (
            self.first_start - datetime.timedelta(hours=index + 1)
        )
        return {
            "id": arrivy_id(3, index),
            "owner": OWNER,
            "first_name": first,
            "last_name": last,
            "company_name": None,
            "email": fake.email(rng, first, last),
            "phone": fake.phone(rng),
            "mobile_number": fake.phone(rng) if rng.random() < 0.5 else None,
            "address_line_1": place["street"],
            "address_line_2": None,
            "city": place["city"],
            "state": place["state"],
            "country": "USA",
            "zipcode": place["zip"],
            "exact_location": {"lat": 30 + rng.random(), "lng": -97 - rng.random()},
            "notes": rng.choice([None, 'Gate code "1234", dog in yard']),
            "extra_fields": {},
            "external_id": f"CUST-{index}",
            "group_id": None,
            "timezone": str(ZONE),
            "is_active": True,
            "created": self.stamp(created, rng),
            "updated": self.stamp(created + datetime.timedelta(minutes=5), rng),
        }

    def _edited(self, created: datetime.datetime, rng: fake.RecordRandom) -> datetime.datetime:
        """When a generated record was last edited: after creation, before `now`."""
        edited = created + datetime.timedelta(minutes=rng.randint(1, 600))
        return min(edited, self.now - datetime.timedelta(minutes=1))

    def tick(self) -> datetime.datetime:
        """The stand-in's clock: every change is stamped later than the one before."""
        self.clock += datetime.timedelta(seconds=1)
        return self.clock

    def _task(self, index: int, kind: int, start: datetime.datetime | None) -> Record:
        rng = self.rng(f"task{kind}", index)
        # Drawn among the customers the stand-in started with: a task keeps its customer when
        # new customers are created later.
        customer = rng.randrange(self.initial_customers)
        crew = [arrivy_id(2, rng.randrange(self.entities.size)) for _ in range(rng.randint(1, 3))]
        created = (start or self.now) - datetime.timedelta(days=rng.randint(1, 20))
        created = min(created, self.now - datetime.timedelta(hours=1))
        born = self.born.get((f"task{kind}", index))
        end = start + datetime.timedelta(hours=rng.randint(1, 4)) if start else None
        status = rng.choice(STATUS_TYPES) if start and start < self.now else "NOTSTARTED"
        place = fake.address(rng)
        record = {
            "id": arrivy_id(kind, index),
            "url_safe_id": f"ag{kind}x{index:08d}",
            "owner": OWNER,
            "title": f"{rng.choice(fake.SERVICES)} #{index}",
            "details": "Bring the 28ft ladder, client wants a quote, too",
            "template": None,
            "template_type": "TASK",
            "template_extra_fields": [],
            "start_datetime": self.stamp(start, rng, exact=True) if start else None,
            "start_datetime_original_iso_str": start.astimezone(ZONE).isoformat()
            if start
            else None,
            "start_datetime_timezone": str(ZONE) if start else None,
            "end_datetime": self.stamp(end, rng, exact=True) if end else None,
            "end_datetime_original_iso_str": end.astimezone(ZONE).isoformat() if end else None,
            "end_datetime_timezone": str(ZONE) if end else None,
            "due_datetime": None,
            "duration": 60 * rng.randint(1, 4),
            "all_day": False,
            "unscheduled": start is None,
            "entity_ids": crew,
            "resource_ids": [],
            "worker_ids": crew,
            "crew_ids": [],
            "customer_id": arrivy_id(3, customer),
            "customer_name": self._customer(customer)["first_name"],
            "customer_email": None,
            "customer_phone": fake.phone(rng),
            "customer_address_line_1": place["street"],
            "customer_city": place["city"],
            "customer_state": place["state"],
            "customer_country": "USA",
            "customer_zipcode": place["zip"],
            "customer_exact_location": {"lat": 30 + rng.random(), "lng": -97 - rng.random()},
            "additional_addresses": [],
            "extra_fields": {"estimate": fake.money(rng, 30000)},
            "external_id": f"JOB-{kind}-{index}",
            "group_id": arrivy_id(1, index % self.groups.size),
            "status": status,
            "status_title": status.title(),
            "is_booking": rng.random() < 0.2,
            "mileage": [{"distance": round(rng.random() * 40, 1), "unit": "mi"}]
            if rng.random() < 0.6
            else [],
            "rating": None,
            "created_by": arrivy_id(2, 0),
            "created": self.stamp(born or created, rng),
            "updated": self.stamp(born or self._edited(created, rng), rng),
        }
        return record

    def _scheduled_task(self, index: int) -> Record:
        record = self._task(index, 4, self.task_start(index))
        told = self.story_tasks.get(index)
        if told is not None:
            first, last = self.story.name(told.person)
            status = "COMPLETE" if told.complete else "CONFIRMED"
            record.update(
                customer_name=f"{first} {last}",
                customer_phone=told.phone,
                customer_email=told.email,
                status=status,
                status_title=status.title(),
            )
        return record

    def _unscheduled_task(self, index: int) -> Record:
        return self._task(index, 5, None)

    def statuses_of(self, task: Record) -> list[Record]:
        """A task's status history: generated from its id, plus any added by `mutate`."""
        task_id = task["id"]
        rng = fake.rng_for(self.seed, "statuses", task_id)
        created = datetime.datetime.fromisoformat(task["created"].replace("Z", "+00:00"))
        created = created if created.tzinfo else created.replace(tzinfo=datetime.timezone.utc)
        history = []
        for number in range(rng.randint(0, 4)):
            moment = created + datetime.timedelta(hours=number + 1)
            history.append(
                {
                    "id": task_id * 10 + number,
                    "task_id": task_id,
                    "type": STATUS_TYPES[number],
                    "time": self.stamp(moment, rng),
                    "reporter_name": "Dispatcher",
                    "reporter_id": arrivy_id(2, 0),
                    "extra_fields": {
                        "notes": "on the way",
                        "files": [],
                        "visible_to_customer": True,
                    },
                    "source": rng.choice(["web", "app", "sms"]),
                }
            )
        history += self.extra_statuses.get(task_id, [])
        return [status for status in history if status["id"] not in self.removed_status_reports]

    def _reading(self, entity_index: int, number: int) -> Record:
        """Location report `number` of an entity: every 30 minutes over the last week."""
        rng = fake.rng_for(self.seed, f"reading{entity_index}", number)
        moment = self.now - datetime.timedelta(days=7) + READING_SPACING * number
        return {
            "entity": arrivy_id(2, entity_index),
            "lat": 30 + rng.random(),
            "lng": -97 - rng.random(),
            "time": fake.iso_utc(moment, with_offset=rng.random() < 0.5),
            "city": rng.choice(fake.CITIES)[0],
            "street": rng.choice(fake.STREETS),
            "country": "USA",
            "meta": {"speed": rng.randint(0, 70)} if number % 3 else "",
        }

    def _last_reading_number(self) -> int:
        return int(datetime.timedelta(days=7) / READING_SPACING) - 1

    # Handlers ------------------------------------------------------------------------------

    def _paging(self, request: Request, default: int) -> tuple[int, int]:
        try:
            page = int(request.arg("page") or 1)
            per_page = int(request.arg("items_per_page") or default)
        except ValueError:
            raise HTTPError(400, {"code": "INVALID_INPUT", "message": "bad paging value"}) from None
        if page < 1 or per_page < 1:
            raise HTTPError(400, {"code": "INVALID_INPUT", "message": "bad paging value"})
        return page, min(per_page, self.max_items_per_page)

    def _list(self, records: list[Record], page: int, per_page: int, total: int) -> Response:
        if self.wrap_lists:
            return Response(200, {"results": records, "has_next": page * per_page < total})
        return Response(200, records)

    def _parse_time(self, request: Request, name: str) -> datetime.datetime | None:
        text = request.arg(name)
        if text is None:
            return None
        text = text.replace(" ", "+")
        if not _WHOLE_SECONDS.match(text):
            raise HTTPError(
                400,
                {"code": "INVALID_INPUT", "message": f"{name} must be YYYY-MM-DDTHH:MM:SS+00:00"},
            )
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)

    def _updated_filter(self, request: Request) -> t.Callable[[Record], bool] | None:
        """The `updated_after` filter when sent and honoured, else None."""
        since = self._parse_time(request, "updated_after") if self.honour_updated_after else None
        if since is None:
            return None

        def updated_after(record: Record) -> bool:
            updated = datetime.datetime.fromisoformat(record["updated"])
            updated = updated if updated.tzinfo else updated.replace(tzinfo=datetime.timezone.utc)
            return updated > since

        return updated_after

    def status_definitions(self, request: Request, match: re.Match[str]) -> Response:
        """Every status definition at once, whatever the paging (Data-Warehouse
        clients/status.py, processors/status.py: 28 of them in the warehouse copy)."""
        return Response(200, list(self.statuses.live_records()))

    def _status_definition(self, index: int) -> Record:
        kind = STATUS_TYPES[index] if index < len(STATUS_TYPES) else "CUSTOM"
        created = fake.iso_utc(self.first_start - datetime.timedelta(days=500))
        return {
            "id": arrivy_id(5, index),
            "title": kind.title() if index < len(STATUS_TYPES) else f"Custom {index}",
            "description": None,
            "is_active": index != 27,
            "type": kind,
            "type_id": index,
            "order": index,
            "visible_to_customer": index % 2 == 0,
            "require_signature": kind == "COMPLETE",
            "require_rating": False,
            "color": "#3366ff",
            "created": created,
            "updated": created,
        }

    def profile(self, request: Request, match: re.Match[str]) -> Response:
        return Response(
            200, {"id": OWNER, "company_name": "Home Services Co", "email": "ops@example.com"}
        )

    def list_tasks(self, request: Request, match: re.Match[str]) -> Response:
        page, per_page = self._paging(request, 500)
        keep = self._updated_filter(request)
        if request.arg("unscheduled") == "true":
            return self._page_of(self.unscheduled, 0, None, keep, page, per_page)
        start = self._parse_time(request, "from")
        end = self._parse_time(request, "to")
        first = 0
        if start is not None:
            first = max(0, math.ceil((start - self.first_start) / self.task_spacing))
        last = self.tasks.size
        if end is not None:
            last = min(last, math.floor((end - self.first_start) / self.task_spacing) + 1)
        return self._page_of(self.tasks, first, last, keep, page, per_page)

    def list_plain(self, collection: Collection, default_per_page: int = 500) -> t.Callable:
        def handler(request: Request, match: re.Match[str]) -> Response:
            page, per_page = self._paging(request, default_per_page)
            keep = self._updated_filter(request)
            return self._page_of(collection, 0, None, keep, page, per_page)

        return handler

    def _page_of(
        self,
        collection: Collection,
        first: int,
        last: int | None,
        keep: t.Callable[[Record], bool] | None,
        page: int,
        per_page: int,
    ) -> Response:
        """One page of [first, last): made on demand, or filtered by a scan when asked to."""
        offset = (page - 1) * per_page
        if keep is None:
            total = collection.live_count(first, last)
            return self._list(collection.page(first, last, offset, per_page), page, per_page, total)
        matching = [
            record
            for record in (collection.record(i) for i in collection.live_indices(first, last))
            if record is not None and keep(record)
        ]
        return self._list(matching[offset : offset + per_page], page, per_page, len(matching))

    def find_task(self, task_id: int) -> Record | None:
        """The scheduled or unscheduled task with this id."""
        for kind, collection in ((4, self.tasks), (5, self.unscheduled)):
            index = task_id - arrivy_id(kind, 0)
            if 0 <= index < collection.size:
                return collection.record(index)
        return None

    def task_statuses(self, request: Request, match: re.Match[str]) -> Response:
        task = self.find_task(int(match.group("id")))
        if task is None:
            raise self.not_found(request)
        page, per_page = self._paging(request, 100)
        history = self.statuses_of(task)
        return self._list(
            history[(page - 1) * per_page : page * per_page], page, per_page, len(history)
        )

    def readings(self, request: Request, match: re.Match[str]) -> Response:
        index = int(match.group("id")) - arrivy_id(2, 0)
        if not 0 <= index < self.entities.size:
            raise self.not_found(request)
        since = self._parse_time(request, "time") or (self.now - datetime.timedelta(days=7))
        first = max(
            0, math.floor((since - (self.now - datetime.timedelta(days=7))) / READING_SPACING) + 1
        )
        page, per_page = self._paging(request, 500)
        numbers = range(first, self._last_reading_number() + 1)
        window = numbers[(page - 1) * per_page : page * per_page]
        return self._list([self._reading(index, n) for n in window], page, per_page, len(numbers))

    # Change --------------------------------------------------------------------------------

    def mutate(self, options: dict[str, t.Any]) -> dict[str, t.Any]:
        """Progress tasks (a new status each), add and remove tasks, touch customers."""
        self._mutations += 1
        rng = fake.rng_for(self.seed, "mutate", self._mutations)

        def progress(record: Record, rng: fake.RecordRandom) -> Record:
            moment = self.tick()
            record["status"] = "COMPLETE"
            record["status_title"] = "Complete"
            record["updated"] = fake.iso_utc(moment, with_offset=rng.random() < 0.5)
            self.extra_statuses.setdefault(record["id"], []).append(
                {
                    "id": record["id"] * 10 + 9,
                    "task_id": record["id"],
                    "type": "COMPLETE",
                    "time": fake.iso_utc(moment),
                    "reporter_name": "Crew",
                    "reporter_id": arrivy_id(2, 1),
                    "extra_fields": {"notes": "done", "files": [], "visible_to_customer": True},
                    "source": "app",
                }
            )
            return record

        def touch(record: Record, rng: fake.RecordRandom) -> Record:
            record["notes"] = f"Updated {self._mutations}"
            record["updated"] = fake.iso_utc(self.tick())
            return record

        counts = {
            "updates": int(options.get("updates", 10)),
            "deletes": int(options.get("deletes", 2)),
            "creates": int(options.get("creates", 5)),
        }
        changes = {
            "tasks": self.tasks.mutate(rng, progress, **counts),
            "unscheduled": self.unscheduled.mutate(rng, progress, updates=1, deletes=0, creates=1),
            "customers": self.customers.mutate(rng, touch, updates=3, deletes=0, creates=2),
        }
        for kind, name in (("task4", "tasks"), ("task5", "unscheduled"), ("customer", "customers")):
            for index in changes[name]["created"]:
                self.born[(kind, index)] = self.tick()
        return changes
