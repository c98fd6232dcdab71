"""A local stand-in for the CallRail API v3, quirks included (see docs/sources/callrail.md;
the facts are CallRail's published API v3 documentation, "DOC" below).

- `Authorization: Token token="KEY"` (quoted or not); anything else is 401.
- `/v3/a.json` lists accounts; `/v3/a/{account}/{list}.json` the account's lists, each under
  its envelope key (text-messages → `conversations`), with page/per_page, total_pages and
  total_records. `per_page` is capped at 250, and lower on some lists (`PER_PAGE_CAPS`:
  DOC says "most endpoints" support 250), so a page shorter than asked for is not the last.
- calls: relative pagination (`relative_pagination=true`; `offset` is the 0-based *page*
  index; `has_next_page`; `next_page` a full URL in DOC's form: numeric account id, no
  `.json`, the sort as `api_sort[][start_time]=…`), newest first unless `sort`/`order` say
  otherwise, `fields` for optional fields (`agent_email` is one), `answer_status`,
  `company_id`.
- Dates: inclusive `start_date`/`end_date` read in `time_zone` (an IANA name) or else the
  account's zone. Whether an offset in them is honoured is undocumented: here it is not
  (the unfavourable answer), so only a zone-free date with `time_zone` is unambiguous.
  Without a date the window is `recent`, the last 7 days including today. Data older than
  25 months is refused.
- Text conversations come newest first (by last message); DOC lists no sort for them, and
  `sort`/`order` are ignored.
- Fields as DOC describes them: users' `companies` objects, tags' `tag_level` and
  `background_color`, calls' `zip_code` array and integer `value`, accounts' `numeric_id`
  and form submissions' extras only through `fields`.
- Unknown parameters are ignored, as the real API does (`answered=true` returns all calls).
- Rate limits count per account.

Calls are generated in start_time order, so a date window maps to an index range and a
million calls are served without being held in memory.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import math
import re
import typing as t
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sandbox import fake_data as fake
from sandbox import story
from sandbox.collection import Collection, Record
from sandbox.server import HTTPError, Request, Response, StandIn

MAX_PER_PAGE = 250
DEFAULT_PER_PAGE = 100
PER_PAGE_CAPS = {"form_submissions": 50, "text-messages": 25, "trackers": 5}
"""Lists whose server caps `per_page` below 250 (DOC: "most endpoints support 250")."""
RECENT_DAYS = 7
"""DOC: with no date parameter the window is `recent`, the previous 7 days incl. today."""
ACCOUNT_ZONES = ["America/New_York", "America/Denver"]
CALL_FIELDS_ALWAYS_SENT = [
    "id",
    "answered",
    "business_phone_number",
    "customer_city",
    "customer_country",
    "customer_name",
    "customer_phone_number",
    "customer_state",
    "direction",
    "duration",
    "recording",
    "recording_duration",
    "recording_player",
    "start_time",
    "tracking_phone_number",
    "voicemail",
]
"""DOC: the call fields every list answer carries; the others come only when `fields`
names them. (tap-callrail's DEFAULT_CALL_FIELDS is what it asks for through `fields`.)"""
OPTIONAL_FORM_FIELDS = (
    "company_name", "lead_status", "value", "note", "tags", "utm_source", "utm_medium",
    "utm_campaign", "form_name", "timeline_url", "milestones",
)  # fmt: skip
"""Form-submission fields sent only when `fields` asks for them."""
LIST_KEYS = {
    "companies": "companies",
    "calls": "calls",
    "trackers": "trackers",
    "form_submissions": "form_submissions",
    "text-messages": "conversations",
    "tags": "tags",
    "users": "users",
}
TIME_FILTERED = {
    "calls": "start_time",
    "form_submissions": "submitted_at",
    "text-messages": "last_message_at",
}


TAG_NAMES = ["booked", "quote sent", "spam", "existing customer", "warranty", "urgent"]


def _tag_name(index: int) -> str:
    """Tag `index`'s name: the usual ones first, numbered ones after."""
    base = TAG_NAMES[index % len(TAG_NAMES)]
    return base if index < len(TAG_NAMES) else f"{base} {index}"


class Timeline:
    """When record `index` of a time-ordered list happened: evenly spread over the 90 days
    before `now` for the generated records, at the moment of the mutation for created ones,
    at the story's moment for the story's (`place`). Times grow with the index, so a date
    window is an index range found by bisection."""

    def __init__(self, now: datetime.datetime, count: int) -> None:
        self.first = now - datetime.timedelta(days=90)
        self.spacing = datetime.timedelta(days=90) / max(count, 1)
        self.base = count
        self.created: dict[int, datetime.datetime] = {}
        self.placed: dict[int, datetime.datetime] = {}

    def time(self, index: int) -> datetime.datetime:
        """When record `index` happened."""
        if index in self.placed:
            return self.placed[index]
        if index < self.base:
            return self.first + self.spacing * index
        return self.created[index]

    def place(self, moment: datetime.datetime) -> int | None:
        """The generated record nearest `moment`, moved to exactly `moment` (None when that
        record is taken, or moving it would break the order of times)."""
        index = round((moment - self.first) / self.spacing)
        if not 0 <= index < self.base or index in self.placed:
            return None
        before = self.time(index - 1) if index > 0 else None
        after = self.time(index + 1) if index + 1 < self.base else None
        if (before is not None and before >= moment) or (after is not None and after <= moment):
            return None
        self.placed[index] = moment
        return index

    def index_range(
        self, start: datetime.datetime, end: datetime.datetime, size: int
    ) -> tuple[int, int]:
        """Indices [first, last) of the records that happened within [start, end]."""
        indices = range(size)
        return (
            bisect.bisect_left(indices, start, key=self.time),
            bisect.bisect_right(indices, end, key=self.time),
        )

    def add(self, indices: list[int]) -> None:
        """New records happened in the last seconds, after all before them, never later."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for position, index in enumerate(indices):
            moment = now - datetime.timedelta(seconds=len(indices) - position)
            previous = self.time(index - 1) if index > 0 else moment
            self.created[index] = max(moment, previous + datetime.timedelta(seconds=1))


class Account:
    """One CallRail account and its lists."""

    def __init__(
        self,
        number: int,
        seed: int,
        calls: int,
        now: datetime.datetime,
        tale: story.Story | None = None,
    ) -> None:
        self.number = number
        self.seed = seed
        self.id = f"ACC{seed % 1000:03d}{number:06d}"
        self.zone = ZoneInfo(ACCOUNT_ZONES[number % len(ACCOUNT_ZONES)])
        self.now = now
        self.first_call_at = now - datetime.timedelta(days=90)
        self.companies = Collection("companies", 4, self._company)
        self.initial_companies = self.companies.size
        """Trackers, users and calls refer to these: a company created later changes none."""
        self.trackers = Collection("trackers", 8, self._tracker)
        self.tags = Collection("tags", 6, self._tag)
        self.users = Collection("users", 5, self._user)
        self.calls = Collection("calls", calls, self._call)
        self.forms = Collection("form_submissions", max(calls // 5, 1), self._form)
        self.conversations = Collection("conversations", max(calls // 10, 1), self._conversation)
        self.timelines = {
            "calls": Timeline(now, self.calls.size),
            "form_submissions": Timeline(now, self.forms.size),
            "text-messages": Timeline(now, self.conversations.size),
        }
        self.story_calls: dict[int, story.Call] = {}
        self.story_forms: dict[int, story.Form] = {}
        if tale is not None:
            self._place(tale)

    def _place(self, tale: story.Story) -> None:
        """The story's calls and forms of this account, each over the generated record
        nearest its moment; `mutate` leaves them alone."""
        for call in tale.calls:
            index = self.timelines["calls"].place(call.at) if call.account == self.number else None
            if index is not None:
                self.story_calls[index] = call
        for form in tale.forms:
            timeline = self.timelines["form_submissions"]
            index = timeline.place(form.at) if form.account == self.number else None
            if index is not None:
                self.story_forms[index] = form
        self.calls.protected.update(self.story_calls)
        self.forms.protected.update(self.story_forms)

    def call_id(self, index: int) -> str:
        return f"CAL{self.number:02d}{index:010d}"

    def collection(self, name: str) -> Collection:
        """The collection behind list `name` (URL spelling)."""
        return {
            "companies": self.companies,
            "calls": self.calls,
            "trackers": self.trackers,
            "form_submissions": self.forms,
            "text-messages": self.conversations,
            "tags": self.tags,
            "users": self.users,
        }[name]

    def rng(self, kind: str, index: int) -> fake.RecordRandom:
        return fake.rng_for(self.seed, f"{self.id}:{kind}", index)

    def local(self, moment: datetime.datetime) -> str:
        """A timestamp as CallRail writes it: account offset, milliseconds."""
        return moment.astimezone(self.zone).isoformat(timespec="milliseconds")

    def call_time(self, index: int) -> datetime.datetime:
        """Start time of call `index`."""
        return self.timelines["calls"].time(index)

    def company_id(self, index: int) -> str:
        return f"COM{self.number:02d}{index:06d}"

    def _company(self, index: int) -> Record:
        rng = self.rng("company", index)
        created = self.first_call_at - datetime.timedelta(days=400 + index)
        return {
            "id": self.company_id(index),
            "name": f"{rng.choice(fake.LAST_NAMES)} Home Services {index}",
            "time_zone": str(self.zone),
            "created_at": self.local(created),
            "disabled_at": None,
            "status": "active",
            "dni_active": rng.random() < 0.8,
            "script_url": f"//cdn.callrail.com/companies/{index}/swap.js",
            "callscore_enabled": False,
            "lead_scoring_enabled": True,
            "callscribe_enabled": False,
            "keyword_spotting_enabled": False,
            "form_capture": True,
            "swap_exclude_jquery": None,
            "swap_ppc_override": None,
            "swap_landing_override": None,
            "swap_cookie_duration": 6,
            "swap_cookie_duration_unit": "months",
        }

    def _tracker(self, index: int) -> Record:
        rng = self.rng("tracker", index)
        company = index % self.initial_companies
        return {
            "id": f"TRK{self.number:02d}{index:06d}",
            "name": rng.choice(["Website pool", "Google Ads", "Yard sign", "Direct mail"]),
            "type": rng.choice(["source", "session"]),
            "status": "active",
            "destination_number": "+1" + f"{rng.randint(2012000000, 9899999999)}",
            "tracking_numbers": ["+1" + f"{rng.randint(2012000000, 9899999999)}"],
            "company": {"id": self.company_id(company), "name": f"Company {company}"},
            "call_flow": {"type": "basic", "recording_enabled": True},
            "source": {"type": rng.choice(["all", "google_paid", "direct"])},
            "sms_enabled": rng.random() < 0.5,
            "sms_supported": True,
            "whisper_message": None,
            "created_at": self.local(self.first_call_at - datetime.timedelta(days=30 + index)),
            "disabled_at": None,
        }

    def _tag(self, index: int) -> Record:
        return {
            "id": 1000 * self.number + index,
            "name": _tag_name(index),
            "tag_level": "company" if index % 2 else "account",
            "color": ["red1", "blue1", "green1"][index % 3],
            "background_color": ["gray1", "white", "yellow1"][index % 3],
            "status": "enabled",
            "company_id": self.company_id(index % self.initial_companies),
            "created_at": self.local(self.first_call_at - datetime.timedelta(days=10 + index)),
        }

    def _user(self, index: int) -> Record:
        rng = self.rng("user", index)
        first, last = fake.person(rng)
        return {
            "id": f"USR{self.number:02d}{index:06d}",
            "email": fake.email(rng, first, last),
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "role": rng.choice(["admin", "manager", "reporting"]),
            "created_at": self.local(self.first_call_at - datetime.timedelta(days=50 + index)),
            "accepted": rng.random() < 0.9,
            "companies": [
                {"id": self.company_id(i), "name": f"Company {i}"}
                for i in range(self.initial_companies)
                if rng.random() < 0.6
            ],
        }

    @functools.cached_property
    def _call_profiles(self) -> list[Record]:
        """Who called and how it went, in 1,024 variants: most call fields are drawn from
        these, so a page of 250 calls is made in a fraction of the time a tap needs for it."""
        return [self._call_profile(number) for number in range(1024)]

    def _call_profile(self, number: int) -> Record:
        rng = self.rng("call-profile", number)
        first, last = fake.person(rng)
        place = fake.address(rng)
        company = rng.randrange(self.initial_companies)
        answered = rng.random() < 0.7
        voicemail = not answered and rng.random() < 0.5
        tags = [
            {"id": 1000 * self.number + t_index, "name": _tag_name(t_index)}
            for t_index in range(self.tags.size)
            if rng.random() < 0.15
        ]
        if tags and rng.random() < 0.1:
            tags = [tag["name"] for tag in tags]  # older calls carry plain strings
        return {
            "answered": answered,
            "business_phone_number": f"+1512340{company:04d}",
            "customer_city": place["city"],
            "customer_country": "US",
            "customer_name": f"{first} {last}",
            "customer_state": place["state"],
            "direction": "inbound" if rng.random() < 0.85 else "outbound",
            "voicemail": voicemail,
            "agent_email": None if not answered else f"agent{rng.randint(1, 9)}@example.com",
            "call_type": "voicemail" if voicemail else ("answered" if answered else "missed"),
            "company_id": self.company_id(company),
            "company_name": f"Company {company}",
            "company_time_zone": str(self.zone),
            "device_type": rng.choice(["mobile", "desktop", None]),
            "first_call": rng.random() < 0.4,
            "lead_status": rng.choice(["good_lead", "not_a_lead", None]),
            "note": rng.choice([None, 'Wants a quote, call back "after 5"', "Roof, gutters"]),
            "source": rng.choice(["Google Ads", "Direct", "Bing Organic", "Yard sign"]),
            "source_name": rng.choice(["Google Paid", "Direct", "Yard sign"]),
            "tags": tags,
            "keywords": rng.choice([None, "roof repair near me", "gutter guards"]),
            "medium": rng.choice(["cpc", "organic", "direct"]),
            "campaign": rng.choice([None, "spring-roofing", "storm-2026"]),
            "referring_url": rng.choice([None, "https://www.google.com/"]),
            "utm_source": rng.choice([None, "google"]),
            "utm_medium": rng.choice([None, "cpc"]),
            "utm_campaign": rng.choice([None, "spring"]),
            "gclid": None,
            "fbclid": None,
            "sentiment": rng.choice([None, "positive", "neutral"]),
            "transcription": None,
            "zip_code": [place["zip"]],
            "call_summary": None,
        }

    def _call(self, index: int) -> Record:
        rng = self.rng("call", index)
        profile = self._call_profiles[rng.randrange(len(self._call_profiles))]
        answered = profile["answered"]
        started = self.call_time(index)
        start_time = self.local(started)
        call_id = self.call_id(index)
        record = {
            "id": call_id,
            **profile,
            "customer_phone_number": fake.phone(rng),
            "duration": rng.randint(0, 1800) if answered else rng.randint(0, 30),
            "recording": f"https://api.callrail.com/v3/a/{self.id}/calls/{call_id}/recording.json",
            "recording_duration": str(rng.randint(0, 1800)) if answered else None,
            "recording_player": f"https://app.callrail.com/calls/{call_id}/recording",
            "start_time": start_time,
            "tracking_phone_number": f"+1303720{index % 8:04d}",
            "created_at": self.local(started + datetime.timedelta(seconds=rng.randint(1, 90))),
            "value": rng.randint(0, 5000) if rng.random() < 0.3 else None,
            "tracker_id": f"TRK{self.number:02d}{index % self.trackers.size:06d}",
            "landing_page_url": f"https://example.com/landing/{index % 7}",
            "milestones": {"first_touch": {"event_date": start_time, "source": "Direct"}},
            "timeline_url": f"https://app.callrail.com/calls/{call_id}/timeline",
            "person_id": f"PER{self.number:02d}{index % 5000:08d}",
        }
        told = self.story_calls.get(index)
        if told is not None:
            record.update(
                customer_phone_number=told.phone,
                customer_name=told.name,
                person_id=told.person_id,
                source=told.source,
                medium=told.medium,
                campaign=told.campaign,
                direction="inbound",
            )
        return record

    def _form(self, index: int) -> Record:
        rng = self.rng("form", index)
        first, last = fake.person(rng)
        submitted = self.timelines["form_submissions"].time(index)
        record = {
            "id": f"FOR{self.number:02d}{index:010d}",
            "company_id": self.company_id(rng.randrange(self.initial_companies)),
            "person_id": f"PER{self.number:02d}{index:08d}",
            "form_data": {"name": f"{first} {last}", "message": "Need a quote, please"},
            "form_url": "https://example.com/contact",
            "landing_page_url": "https://example.com/",
            "referrer": rng.choice(["google", "direct"]),
            "referring_url": None,
            "submitted_at": self.local(submitted),
            "first_form": rng.random() < 0.5,
            "customer_name": f"{first} {last}",
            "customer_email": fake.email(rng, first, last),
            "customer_phone_number": fake.phone(rng),
            "source": "Google Organic",
            "medium": "organic",
            "campaign": None,
            "keywords": None,
            "milestones": {},
            "timeline_url": f"https://app.callrail.com/forms/{index}/timeline",
            "company_name": f"Company {index % self.initial_companies}",
            "lead_status": rng.choice(["good_lead", "not_a_lead", None]),
            "value": rng.randint(100, 9000) if rng.random() < 0.2 else None,
            "note": rng.choice([None, "Asked for a callback"]),
            "tags": [{"id": 1000 * self.number, "name": _tag_name(0)}] if index % 4 == 0 else [],
            "utm_source": rng.choice([None, "google"]),
            "utm_medium": rng.choice([None, "organic"]),
            "utm_campaign": None,
            "form_name": rng.choice(["Contact us", "Free estimate"]),
        }
        told = self.story_forms.get(index)
        if told is not None:
            record.update(
                person_id=told.person_id,
                customer_name=told.name,
                customer_email=told.email,
                form_data={"name": told.name, "message": "Need a quote, please"},
            )
        return record

    def _conversation(self, index: int) -> Record:
        rng = self.rng("conversation", index)
        first, last = fake.person(rng)
        last_at = self.timelines["text-messages"].time(index)
        tracker = index % self.trackers.size
        return {
            "id": f"SCI{self.number:02d}{index:010d}",
            "company_id": self.company_id(rng.randrange(self.initial_companies)),
            "initial_tracker_id": f"TRK{self.number:02d}{tracker:06d}",
            "current_tracker_id": f"TRK{self.number:02d}{tracker:06d}",
            "customer_name": f"{first} {last}",
            "customer_phone_number": fake.phone(rng),
            "initial_tracking_number": "+15550200001",
            "current_tracking_number": "+15550200001",
            "last_message_at": self.local(last_at),
            "state": rng.choice(["active", "archived"]),
            "company_time_zone": str(self.zone),
            "formatted_customer_phone_number": None,
            "recent_messages": [
                {
                    "direction": "incoming",
                    "content": "Hi, can you come Tuesday?",
                    "created_at": self.local(last_at),
                    "type": "sms",
                    "media_urls": [],
                },
            ],
        }

    @property
    def numeric_id(self) -> int:
        return 100000000 + self.number

    def record(self) -> Record:
        return {
            "id": self.id,
            "name": f"Home Services Account {self.number}",
            "outbound_recording_enabled": True,
            "hipaa_account": False,
            "numeric_id": self.numeric_id,
        }


class CallRailStandIn(StandIn):
    """CallRail API v3 on loopback."""

    name = "callrail"

    def __init__(
        self,
        *,
        api_key: str = "sandbox-callrail-key",
        accounts: int = 2,
        calls_per_account: int = 300,
        seed: int = 1,
        now: datetime.datetime | None = None,
        people: int = story.DEFAULT_PEOPLE,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key
        self.seed = seed
        self.now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.story = story.Story(self.now, people=people, accounts=accounts)
        self.accounts = {
            account.id: account
            for account in (
                Account(n, seed, calls_per_account, self.now, self.story) for n in range(accounts)
            )
        }
        self.by_numeric_id = {str(a.numeric_id): a for a in self.accounts.values()}
        self.per_page_caps = dict(PER_PAGE_CAPS)
        self.honour_sort = True
        """False: an ascending sort is ignored (untested upstream under relative paging)."""
        self._mutations = 0
        self.route("GET", r"/v3/a\.json", self.list_accounts)
        self.route(
            "GET", r"/v3/a/(?P<account>[^/]+)/(?P<list>[a-z_-]+)(?:\.json)?", self.list_items
        )

    def story_call_ids(self) -> dict[int, str]:
        """Story person → the id of the call they made (people without a free slot are left
        out, on a short timeline)."""
        return {
            told.person: account.call_id(index)
            for account in self.accounts.values()
            for index, told in account.story_calls.items()
        }

    # Errors and auth -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        """Token auth; rate limits count per account, as CallRail's do."""
        header = request.headers.get("authorization", "")
        match = re.fullmatch(r'Token token="?([^"]*)"?', header.strip())
        if not match or match.group(1) != self.api_key:
            raise HTTPError(401, {"error": "HTTP Token: Access denied."})
        account = re.match(r"/v3/a/([^/.]+)/", request.path)
        return account.group(1) if account else "accounts"

    def not_found(self, request: Request) -> HTTPError:
        return HTTPError(404, {"error": "Not Found"})

    # Lists ---------------------------------------------------------------------------------

    def list_accounts(self, request: Request, match: re.Match[str]) -> Response:
        asked = self._fields(request)
        records = [
            {k: v for k, v in account.record().items() if k != "numeric_id" or k in asked}
            for account in self.accounts.values()
        ]
        page, per_page = self._paging(request, "accounts")
        return Response(200, self._envelope("accounts", records, len(records), page, per_page))

    def list_items(self, request: Request, match: re.Match[str]) -> Response:
        account = self.accounts.get(match.group("account")) or self.by_numeric_id.get(
            match.group("account")
        )
        name = match.group("list")
        if account is None or name not in LIST_KEYS:
            raise self.not_found(request)
        collection = account.collection(name)
        if name in TIME_FILTERED:
            return self._time_ordered(request, account, name)
        records = [r for r in collection.live_records() if self._matches(request, r)]
        if name == "companies" and not request.arg("status"):
            # Undocumented whether disabled companies are listed unasked: here they are not.
            records = [r for r in records if r["status"] == "active"]
        records = self._sorted(request, records)
        page, per_page = self._paging(request, name)
        window = records[(page - 1) * per_page : page * per_page]
        return Response(200, self._envelope(LIST_KEYS[name], window, len(records), page, per_page))

    def _time_ordered(self, request: Request, account: Account, name: str) -> Response:
        """Calls, forms, texts: the date window as an index range, then filters, sort,
        paging (relative pagination on calls only) and optional fields."""
        collection = account.collection(name)
        start, end = self._window(request, account)
        first, last = account.timelines[name].index_range(start, end, collection.size)
        descending = self._newest_first(request, name)
        if self._has_call_filters(request):
            indices = [
                i
                for i in collection.live_indices(first, last)
                if self._matches(request, t.cast(Record, collection.record(i)))
            ]
            total = len(indices)
        else:
            indices = None
            total = collection.live_count(first, last)
        per_page = self._per_page(request, name)
        relative = name == "calls" and request.arg("relative_pagination") == "true"
        if relative:
            page_index = self._number(request, "offset", 0, minimum=0)
            offset = page_index * per_page
        else:
            offset = (self._page(request) - 1) * per_page
        picked = self._pick(collection, first, indices, total, offset, per_page, descending)
        records = self._with_fields(request, name, picked)
        if relative:
            body: dict[str, t.Any] = {"per_page": per_page, "calls": records}
            body["has_next_page"] = offset + per_page < total
            body["next_page"] = (
                self._next_page(request, account, page_index + 1, per_page, descending)
                if body["has_next_page"]
                else None
            )
            return Response(200, body)
        return Response(
            200, self._envelope(LIST_KEYS[name], records, total, self._page(request), per_page)
        )

    def _pick(
        self,
        collection: Collection,
        first: int,
        indices: list[int] | None,
        total: int,
        offset: int,
        limit: int,
        descending: bool,
    ) -> list[Record]:
        if offset >= total:
            return []
        count = min(limit, total - offset)
        if descending:
            positions = range(total - 1 - offset, total - 1 - offset - count, -1)
        else:
            positions = range(offset, offset + count)
        if indices is not None:
            return [t.cast(Record, collection.record(indices[p])) for p in positions]
        return [t.cast(Record, collection.record(collection.nth_live(first, p))) for p in positions]

    def _next_page(
        self, request: Request, account: Account, page_index: int, per_page: int, newest: bool
    ) -> str:
        """DOC's next_page: `/v3/a/{numeric id}/calls?…api_sort[][start_time]=desc…&offset=1
        &page=1&per_page=100&relative_pagination=true`, the filters kept."""
        kept = {
            k: v[0]
            for k, v in request.query.items()
            if k not in ("sort", "order", "offset", "page", "per_page", "relative_pagination")
            and not k.startswith("api_sort")
        }
        field = self._sort_field(request) or "start_time"
        query = {
            f"api_sort[][{field}]": "desc" if newest else "asc",
            **kept,
            "offset": str(page_index),
            "page": "1",
            "per_page": str(per_page),
            "relative_pagination": "true",
        }
        return f"{self.url}/v3/a/{account.numeric_id}/calls?{urlencode(query)}"

    # Parameters ----------------------------------------------------------------------------

    def _number(self, request: Request, name: str, default: int, *, minimum: int = 1) -> int:
        value = request.arg(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < minimum:
            raise HTTPError(400, {"error": f"{name} must be an integer of at least {minimum}"})
        return int(value)

    def _per_page(self, request: Request, name: str) -> int:
        cap = self.per_page_caps.get(name, MAX_PER_PAGE)
        return min(self._number(request, "per_page", DEFAULT_PER_PAGE), cap)

    def _page(self, request: Request) -> int:
        return self._number(request, "page", 1)

    def _paging(self, request: Request, name: str) -> tuple[int, int]:
        return self._page(request), self._per_page(request, name)

    def _sort_field(self, request: Request) -> str | None:
        """`sort=…`, or the `api_sort[][field]=…` of a next_page URL."""
        for key in request.query:
            if key.startswith("api_sort[]["):
                return key[len("api_sort[][") : -1]
        return request.arg("sort")

    def _newest_first(self, request: Request, name: str) -> bool:
        """Time-ordered lists come newest first. Calls and forms honour an ascending sort on
        their time; conversations have no sort (DOC) and ignore one."""
        if name == "text-messages" or self._sort_field(request) != TIME_FILTERED[name]:
            return True
        if not self.honour_sort:
            return True
        for key, values in request.query.items():
            if key.startswith("api_sort[]["):
                return values[0].lower() != "asc"
        return (request.arg("order") or "desc").lower() != "asc"

    def _fields(self, request: Request) -> set[str]:
        return {name.strip() for name in (request.arg("fields") or "").split(",") if name}

    def _with_fields(self, request: Request, name: str, records: list[Record]) -> list[Record]:
        """Optional fields only when `fields` asks for them."""
        asked = self._fields(request)
        if name == "calls":
            keep = set(CALL_FIELDS_ALWAYS_SENT) | asked
            return [{k: v for k, v in r.items() if k in keep} for r in records]
        if name == "form_submissions":
            drop = set(OPTIONAL_FORM_FIELDS) - asked
            return [{k: v for k, v in r.items() if k not in drop} for r in records]
        return records

    def _envelope(
        self, key: str, records: list[Record], total: int, page: int, per_page: int
    ) -> dict[str, t.Any]:
        return {
            "page": page,
            "per_page": per_page,
            "total_pages": math.ceil(total / per_page) if total else 0,
            "total_records": total,
            key: records,
        }

    def _window(
        self, request: Request, account: Account
    ) -> tuple[datetime.datetime, datetime.datetime]:
        """The inclusive date window, read in `time_zone` or the account's zone; `recent`
        (the last 7 days, today included) when no date is sent."""
        zone = self._zone(request, account)
        start_text, end_text = request.arg("start_date"), request.arg("end_date")
        now = self.now + datetime.timedelta(days=3650)  # new records may lie past `now`
        start = self._parse_date(start_text, zone, end_of_day=False) if start_text else None
        end = self._parse_date(end_text, zone, end_of_day=True) if end_text else now
        if start is None:
            today = datetime.datetime.now(zone).date()
            first_day = today - datetime.timedelta(days=RECENT_DAYS - 1)
            start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)
        if start < self.now - datetime.timedelta(days=25 * 31):
            raise HTTPError(400, {"error": "start_date cannot be more than 25 months in the past"})
        return start, end

    def _zone(self, request: Request, account: Account) -> datetime.tzinfo:
        name = request.arg("time_zone")
        if not name or name == "user":
            return account.zone
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):
            raise HTTPError(400, {"error": f"Invalid time_zone: {name}"}) from None

    def _parse_date(
        self, text: str, zone: datetime.tzinfo, *, end_of_day: bool
    ) -> datetime.datetime:
        try:
            if len(text) == 10:
                day = datetime.date.fromisoformat(text)
                moment = datetime.datetime.combine(
                    day, datetime.time.max if end_of_day else datetime.time.min
                )
            else:
                moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise HTTPError(400, {"error": f"Invalid date: {text}"}) from None
        return moment.replace(tzinfo=zone)  # an offset in the text is not honoured

    def _has_call_filters(self, request: Request) -> bool:
        return any(
            request.arg(name)
            for name in (
                "company_id",
                "tracker_id",
                "direction",
                "answer_status",
                "lead_status",
                "call_type",
            )
        )

    def _matches(self, request: Request, record: Record) -> bool:
        """The documented filters; unknown parameters are ignored like the real API does."""
        for name in ("tracker_id", "direction", "lead_status", "call_type", "status"):
            wanted = request.arg(name)
            if wanted and name in record and str(record[name]) != wanted:
                return False
        company = request.arg("company_id")
        if company and not self._of_company(record, company):
            return False
        answer_status = request.arg("answer_status")
        if answer_status and "answered" in record:
            kind = record.get("call_type")
            if answer_status == "answered" and not record["answered"]:
                return False
            if answer_status == "missed" and (record["answered"] or kind == "voicemail"):
                return False
            if answer_status == "voicemail" and kind != "voicemail":
                return False
        return True

    @staticmethod
    def _of_company(record: Record, company: str) -> bool:
        """DOC: calls, forms, texts, trackers, tags and users filter by `company_id`, though
        a tracker names its company in `company` and a user lists its `companies`."""
        if "company_id" in record:
            return str(record["company_id"]) == company
        if isinstance(record.get("company"), dict):
            return str(record["company"].get("id")) == company
        if isinstance(record.get("companies"), list):
            return any(str(c.get("id")) == company for c in record["companies"])
        return True

    def _sorted(self, request: Request, records: list[Record]) -> list[Record]:
        field = request.arg("sort")
        if not field or not records or field not in records[0]:
            return records
        descending = (request.arg("order") or "asc").lower() == "desc"
        return sorted(records, key=lambda r: (r[field] is None, r[field]), reverse=descending)

    # Truth and change ----------------------------------------------------------------------

    def mutate(self, options: dict[str, t.Any]) -> dict[str, t.Any]:
        """Late changes to recent calls, spam removals, new calls; and company changes."""
        self._mutations += 1
        rng = fake.rng_for(self.seed, "mutate", self._mutations)
        touched: dict[str, t.Any] = {}
        for account in self.accounts.values():
            touched[account.id] = {
                "calls": account.calls.mutate(
                    rng,
                    _update_call,
                    updates=int(options.get("updates", 10)),
                    deletes=int(options.get("deletes", 2)),
                    creates=int(options.get("creates", 5)),
                ),
                "companies": account.companies.mutate(
                    rng, _disable_company, updates=1, deletes=0, creates=1
                ),
            }
            account.timelines["calls"].add(touched[account.id]["calls"]["created"])
        return touched


def _update_call(record: Record, rng: fake.RecordRandom) -> Record:
    """What changes on a call after it happened: tags, lead status, note, value."""
    record["lead_status"] = rng.choice(["good_lead", "not_a_lead"])
    record["note"] = f"Updated note {rng.randint(1, 9999)}"
    record["value"] = fake.money(rng, 9000)
    record["tags"] = [*record.get("tags", []), {"id": 1, "name": "booked"}]
    return record


def _disable_company(record: Record, rng: fake.RecordRandom) -> Record:
    record["status"] = "disabled"
    record["disabled_at"] = record["created_at"]
    return record
