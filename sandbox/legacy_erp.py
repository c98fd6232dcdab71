"""A local stand-in for the legacy 4D ERP's REST server (see docs/sources/legacy-erp.md;
the facts come from 4D's REST documentation and the old production client,
`louisepaul75/py-erp`, "PE" below).

- `GET /rest/$info` opens a session and sets the `WASID4D` cookie. A request without a
  valid session cookie opens a new session, as 4D's REST documentation says, using another
  slot: it is answered with a new `WASID4D` cookie, not with a 401 (`refuse_dead_sessions`
  answers 401 instead, as some servers may). More than `max_sessions` open sessions give
  402; two WASID4D cookies at once make the server fail; idle sessions expire (and tests can
  expire them all at once).
- Optional basic auth when the stand-in is given a username and password.
- `GET /rest/{Table}?$top&$skip&$filter`: `{"__COUNT", "__ENTITIES"}`, records with `__KEY`,
  `__STAMP`, `__TIMESTAMP`; filters in 4D syntax (`'field >= "value"' and (… or …)`).
  A `$filter` whose spaces came as `+` is refused (PE encodes them as `%20` by hand after
  trying other encodings); strict `>`/`<` on a date field and any filter on `__TIMESTAMP`
  answer 500, as they did on the live server (PE `tests/test_legacy_erp_filters.py`).
  With `unreliable_filter_paging` (the default), filtered pages after the first also carry a
  record that does not match, as the real server's filtering did with paging.
- Values as the ERP writes them: `DD!MM!YYYY` dates (`0!0!0` for none, some two-digit
  years), some date fields as ISO dates, NaN and Infinity in numeric fields, money as plain
  JSON numbers, nested `Preise`; the tables and fields PE reads (documents' integer
  `PapierNr` and text `MWSt_Art`, the stock places keyed by `ID_Lagerort` and `UUID`).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import secrets
import threading
import time
import typing as t

from sandbox import fake_data as fake
from sandbox.collection import Collection, Record
from sandbox.server import HTTPError, Request, Response, StandIn

POSITIONS_PER_DOCUMENT = 3
PAPER_KINDS = ["R", "A", "L", "G", "B"]


def erp_date(day: datetime.date | None, rng: fake.RecordRandom | None = None) -> str:
    """`DD!MM!YYYY`, `0!0!0` for no date, sometimes with a two-digit year."""
    if day is None:
        return "0!0!0"
    year = day.year % 100 if rng is not None and rng.random() < 0.1 else day.year
    width = 2 if year < 100 else 4
    return f"{day.day:02d}!{day.month:02d}!{year:0{width}d}"


def parse_erp_date(text: str) -> datetime.date | None:
    """The date of a `DD!MM!YYYY` value (two-digit years pivot at 50)."""
    day, month, year = (int(part) for part in text.split("!"))
    if day == 0 or month == 0:
        return None
    if year < 100:
        year += 2000 if year < 50 else 1900
    return datetime.date(year, month, day)


def error(status: int, message: str, code: int) -> HTTPError:
    """An error in 4D's shape."""
    return HTTPError(
        status, {"__ERROR": [{"message": message, "componentSignature": "dbmg", "errCode": code}]}
    )


# Filters ----------------------------------------------------------------------------------

_ABS_NR = re.compile(r"'AbsNr = \"(\d+)\"'")
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(and\b|or\b)|'((?:[^'\\]|\\.)*)')", re.IGNORECASE)
_CONDITION = re.compile(r'\s*(\w+)\s*(>=|<=|!=|=|>|<)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')


def parse_filter(text: str) -> t.Callable[[Record], bool]:
    """A predicate for a 4D `$filter`; raises ValueError when it cannot be read."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read the filter at: {text[position : position + 30]}")
        opening, closing, keyword, condition = match.groups()
        kind = "(" if opening else ")" if closing else "op" if keyword else "cond"
        tokens.append((kind, (keyword or condition or "").lower() if keyword else condition or ""))
        position = match.end()
    predicate, rest = _parse_or(tokens)
    if rest:
        raise ValueError("unbalanced filter")
    return predicate


def _parse_or(tokens: list[tuple[str, str]]) -> tuple[t.Callable[[Record], bool], list]:
    left, tokens = _parse_and(tokens)
    while tokens and tokens[0] == ("op", "or"):
        right, tokens = _parse_and(tokens[1:])
        left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
    return left, tokens


def _parse_and(tokens: list[tuple[str, str]]) -> tuple[t.Callable[[Record], bool], list]:
    left, tokens = _parse_atom(tokens)
    while tokens and tokens[0] == ("op", "and"):
        right, tokens = _parse_atom(tokens[1:])
        left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
    return left, tokens


def _parse_atom(tokens: list[tuple[str, str]]) -> tuple[t.Callable[[Record], bool], list]:
    if not tokens:
        raise ValueError("the filter ends too early")
    kind, value = tokens[0]
    if kind == "(":
        inner, rest = _parse_or(tokens[1:])
        if not rest or rest[0][0] != ")":
            raise ValueError("missing closing parenthesis")
        return inner, rest[1:]
    if kind != "cond":
        raise ValueError(f"unexpected {value or kind}")
    return _condition(value), tokens[1:]


def _condition(text: str) -> t.Callable[[Record], bool]:
    match = _CONDITION.match(text.replace("\\'", "'"))
    if not match:
        raise ValueError(f"cannot read the condition {text!r}")
    field, operator, quoted, bare = match.groups()
    wanted = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    compare = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }[operator]

    def check(record: Record) -> bool:
        if field not in record:
            raise KeyError(field)
        left, right = _comparable(record[field], wanted)
        if left is None or right is None:
            return False
        try:
            return compare(left, right)
        except TypeError:
            return False

    return check


def _comparable(value: t.Any, wanted: str) -> tuple[t.Any, t.Any]:
    """Both sides in one type: dates, numbers, booleans or text."""
    if isinstance(value, bool):
        return value, wanted.lower() == "true"
    if isinstance(value, (int, float)):
        try:
            return value, float(wanted)
        except ValueError:
            return str(value), wanted
    if isinstance(value, str) and value.count("!") == 2:
        try:
            day = parse_erp_date(value)
            return day, datetime.date.fromisoformat(wanted[:10])
        except ValueError:
            return value, wanted
    if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\dT", value):
        return value[:19], wanted[:19]
    return value, wanted


# The server -------------------------------------------------------------------------------


class LegacyErpStandIn(StandIn):
    """The 4D REST server on loopback."""

    name = "legacy-erp"

    def encode(self, body: t.Any) -> bytes:
        """4D writes NaN and Infinity as bare tokens, which only the json module reproduces."""
        return json.dumps(body).encode()

    def __init__(
        self,
        *,
        documents: int = 300,
        seed: int = 1,
        now: datetime.datetime | None = None,
        max_sessions: int = 4,
        session_timeout: float = 3600.0,
        username: str | None = None,
        password: str | None = None,
        unreliable_filter_paging: bool = True,
        refuse_dead_sessions: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.seed = seed
        self.now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.today = self.now.date()
        self.max_sessions = max_sessions
        self.session_timeout = session_timeout
        self.basic_auth = (username, password) if username else None
        self.unreliable_filter_paging = unreliable_filter_paging
        self.refuse_dead_sessions = refuse_dead_sessions
        self.opened = 0
        """Sessions opened since the start (each one a licence while it lives)."""
        self.sessions: dict[str, float] = {}
        self.expire_every = 0
        """When set, every N-th data request finds all sessions expired (tests of re-login)."""
        self._data_requests = 0
        self._session_lock = threading.Lock()
        self.clock = self.now
        self.born: dict[tuple[str, int], datetime.datetime] = {}
        self._mutations = 0
        self.tables: dict[str, Collection] = {
            "Artikel_Familie": Collection("Artikel_Familie", 40, self._family),
            "Artikel_Variante": Collection("Artikel_Variante", 200, self._variant),
            "Kunden": Collection("Kunden", 150, self._customer),
            "Adressen": Collection("Adressen", 200, self._address),
            "Belege": Collection("Belege", documents, self._document),
            "Belege_Pos": Collection(
                "Belege_Pos", documents * POSITIONS_PER_DOCUMENT, self._position
            ),
            "Lagerbestand": Collection("Lagerbestand", 200, self._stock),
            "Stamm_Lagerorte": Collection("Stamm_Lagerorte", 5, self._warehouse_place),
            "Artikel_Lagerorte": Collection("Artikel_Lagerorte", 200, self._article_place),
            # Not one of the tap's built-in tables: added through its `tables` setting.
            "Versandarten": Collection("Versandarten", 6, self._shipping_method),
        }
        self.route("GET", r"/rest/\$info", self.info)
        self.route("GET", r"/rest/(?P<table>\w+)", self.list_table)

    # Sessions and auth ---------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        if self.basic_auth:
            expected = base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                raise error(401, "Unauthorized", 1)
        return "erp"

    def _cookies(self, request: Request) -> list[str]:
        header = request.headers.get("cookie", "")
        return [
            part.split("=", 1)[1].strip()
            for part in header.split(";")
            if part.strip().startswith("WASID4D=")
        ]

    def _expire_idle(self) -> None:
        limit = time.monotonic() - self.session_timeout
        for session, used in list(self.sessions.items()):
            if used < limit:
                del self.sessions[session]

    def info(self, request: Request, match: re.Match[str]) -> Response:
        """Open a session (or confirm the one the cookie names)."""
        with self._session_lock:
            self._expire_idle()
            cookies = self._cookies(request)
            if len(cookies) > 1:
                raise error(500, "Internal server error", 0)
            if cookies and cookies[0] in self.sessions:
                self.sessions[cookies[0]] = time.monotonic()
                session = cookies[0]
            else:
                session = self._open_session()
        body = {
            "cacheSize": 209715200,
            "usedCache": 1048576,
            "entitySetCount": 0,
            "sessionInfo": [
                {
                    "sessionID": session,
                    "userName": "default guest",
                    "lifeTime": int(self.session_timeout),
                }
            ],
        }
        return Response(200, body, {"Set-Cookie": f"WASID4D={session}; path=/; HttpOnly"})

    def _open_session(self) -> str:
        """A new session, if a slot is free (caller holds the lock)."""
        if len(self.sessions) >= self.max_sessions:
            raise error(402, "Maximum number of sessions reached", 0)
        session = secrets.token_hex(16).upper()
        self.sessions[session] = time.monotonic()
        self.opened += 1
        return session

    def _require_session(self, request: Request) -> str | None:
        """The request's session. Without a valid one, 4D opens a new session for the
        request (4D's REST documentation), whose id the answer sets as its cookie."""
        with self._session_lock:
            self._expire_idle()
            cookies = self._cookies(request)
            if len(cookies) > 1:
                raise error(500, "Internal server error", 0)
            self._data_requests += 1
            if self.expire_every and self._data_requests % self.expire_every == 0:
                self.sessions.clear()
            if cookies and cookies[0] in self.sessions:
                self.sessions[cookies[0]] = time.monotonic()
                return None
            if self.refuse_dead_sessions:
                raise error(401, "No session or session expired", 1820)
            return self._open_session()

    def admin(self, request: Request) -> Response:
        if request.path == "/_sandbox/expire-sessions":
            with self._session_lock:
                expired = len(self.sessions)
                self.sessions.clear()
            return Response(200, {"expired": expired})
        return super().admin(request)

    def not_found(self, request: Request) -> HTTPError:
        return error(404, "Dataclass not found", 1800)

    # Listing -------------------------------------------------------------------------------

    def list_table(self, request: Request, match: re.Match[str]) -> Response:
        new_session = self._require_session(request)
        headers = {"Set-Cookie": f"WASID4D={new_session}; path=/; HttpOnly"} if new_session else {}
        table = self.tables.get(match.group("table"))
        if table is None:
            raise self.not_found(request)
        try:
            top = int(request.arg("$top") or 100_000)
            skip = int(request.arg("$skip") or 0)
        except ValueError:
            raise error(400, "$top and $skip must be integers", 1279) from None
        text = request.arg("$filter")
        if text:
            self._check_filter_text(request, table, text)
        try:
            keep = parse_filter(text) if text else None
            if keep is None:
                count, page = len(table), table.page(0, None, skip, top)
            else:
                count, page = self._filtered_page(table, text, keep, skip, top)
        except (ValueError, KeyError) as exc:
            raise error(400, f"Error while parsing the filter: {exc}", 1279) from None
        return Response(
            200,
            {
                "__entityModel": match.group("table"),
                "__COUNT": count,
                "__SENT": len(page),
                "__FIRST": skip,
                "__ENTITIES": page,
            },
            headers,
        )

    def _check_filter_text(self, request: Request, table: Collection, text: str) -> None:
        """What the live server refused (PE's encoding history and its live filter tests):
        spaces sent as `+`, strict `>`/`<` on a date field, a filter on `__TIMESTAMP`."""
        raw = next(
            (part for part in request.raw_query.split("&") if part.split("=")[0] in
             ("$filter", "%24filter")),
            "",
        )  # fmt: skip
        if "+" in raw:
            raise error(400, "Error while parsing the filter: unexpected '+'", 1279)
        if "__TIMESTAMP" in text:
            raise error(500, "Internal server error", 0)
        sample = table.record(0) or {}
        for field, operator in re.findall(r"(\w+)\s*(>=|<=|!=|=|>|<)", text):
            value = sample.get(field)
            if operator in (">", "<") and isinstance(value, str) and value.count("!") == 2:
                raise error(500, "Internal server error", 0)

    def _filtered_page(
        self, table: Collection, text: str, keep: t.Callable[[Record], bool], skip: int, top: int
    ) -> tuple[int, list[Record]]:
        """Matches `skip`..`skip+top` and the number of matches, in one pass (constant memory).
        With `unreliable_filter_paging`, pages after the first also carry a non-matching
        record, as the real server's did."""
        by_document = self._lines_by_document(table, text)
        if by_document is not None:  # every one matches: no need to test them
            return len(by_document), by_document[skip : skip + top]
        count, page, stray = 0, [], None
        for record in table.live_records():
            if keep(record):
                if skip <= count < skip + top:
                    page.append(record)
                count += 1
            elif stray is None:
                stray = record
        if skip > 0 and self.unreliable_filter_paging and page and stray is not None:
            page = [stray, *page]
        return count, page

    def _lines_by_document(self, table: Collection, text: str) -> list[Record] | None:
        """For document lines asked for by document (`('AbsNr = "…"' or …)`, how the tap
        reads them), those documents' lines, found as an index on AbsNr would; else None."""
        wanted = _ABS_NR.findall(text)
        if table.name != "Belege_Pos" or not wanted or _ABS_NR.sub("", text).strip("() or"):
            return None
        indices = sorted(
            (int(number) - 700000) * POSITIONS_PER_DOCUMENT + line
            for number in set(wanted)
            for line in range(POSITIONS_PER_DOCUMENT)
        )
        found = (table.record(index) for index in indices if index >= 0)
        return [record for record in found if record is not None]

    # Records -------------------------------------------------------------------------------

    def rng(self, table: str, index: int) -> fake.RecordRandom:
        return fake.rng_for(self.seed, table, index)

    def _meta(self, table: str, index: int, key: str, rng: fake.RecordRandom) -> Record:
        changed = self.born.get((table, index)) or (
            self.now - datetime.timedelta(days=rng.randint(1, 400), minutes=rng.randint(0, 1440))
        )
        return {
            "__KEY": key,
            "__STAMP": rng.randint(1, 50),
            "__TIMESTAMP": changed.astimezone(datetime.timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "_changed": changed,
        }

    def _finish(self, record: Record, change_field: str) -> Record:
        changed = record.pop("_changed")
        record[change_field] = erp_date(changed.date())
        return record

    def _price(self, rng: fake.RecordRandom) -> float:
        value = rng.choice([rng.randint(100, 99999) / 100, rng.randint(1, 500)])
        return float("nan") if rng.random() < 0.03 else value

    def _family(self, index: int) -> Record:
        rng = self.rng("Artikel_Familie", index)
        record = self._meta("Artikel_Familie", index, str(1000 + index), rng)
        record.update(
            {
                "Nummer": f"F{1000 + index}",
                "Bezeichnung": f"Grußkarte Serie {index}",
                "Bezeichnung_ENG": f"Greeting card series {index}",
                "Beschreibung": 'Karte, "Premium"',
                "Beschreibung_ENG": 'Card, "premium"',
                "Beschreibung_kurz": "Karte",
                "Beschreibung_kurz_ENG": "Card",
                "Gewicht": rng.randint(5, 80) / 10,
                "ArtGr": rng.randint(1, 9),
                "Haengend": rng.random() < 0.3,
                "Einseitig": rng.random() < 0.5,
                "Release_date": erp_date(
                    self.today - datetime.timedelta(days=rng.randint(0, 900))
                    if rng.random() < 0.8
                    else None,
                    rng,
                ),
                "Neu": rng.random() < 0.1,
                "aktiv": rng.random() < 0.9,
            }
        )
        return self._finish(record, "modified_date")

    def _variant(self, index: int) -> Record:
        rng = self.rng("Artikel_Variante", index)
        record = self._meta("Artikel_Variante", index, str(5000 + index), rng)
        prices = [
            {"Art": art, "Preis": self._price(rng), "VE": rng.choice([1, 6, 12])}
            for art in ("Laden", "Handel")
        ]
        record.update(
            {
                "Nummer": f"V{5000 + index}",
                "alteNummer": f"A{index}",
                "refOld": None,
                "Familie_": str(1000 + index % 40),
                "ArtikelArt": rng.choice(["K", "B", "P"]),
                "Bezeichnung": f"Variante {index}",
                "Bezeichnung_ENG": f"Variant {index}",
                "Beschreibung": "Klappkarte mit Umschlag",
                "Beschreibung_ENG": "Folded card with envelope",
                "Beschreibung_kurz": "Klappkarte",
                "Beschreibung_kurz_ENG": "Folded card",
                "Gewicht": rng.randint(5, 80) / 10,
                "Release_date": erp_date(self.today - datetime.timedelta(days=rng.randint(0, 900))),
                "created_date": (self.today - datetime.timedelta(days=900 + index)).isoformat(),
                "Farbe": rng.choice(["rot", "blau", "grün"]),
                "Groesse": rng.choice(["A5", "A6", "DL"]),
                "Verkaufsartikel": True,
                "Auslaufdatum": erp_date(None),
                "Aktiv": rng.random() < 0.9,
                "Preise": {rng.choice(["__ENTITIES", "Coll"]): prices},
            }
        )
        return self._finish(record, "modified_date")

    def _customer(self, index: int) -> Record:
        rng = self.rng("Kunden", index)
        record = self._meta("Kunden", index, str(20000 + index), rng)
        record.update(
            {
                "KundenNr": 20000 + index,
                "AdrNr": 30000 + index,
                "Kundengr": rng.choice(["H", "E"]),
                "Liefersperre": rng.random() < 0.05,
                "Preisgru": rng.randint(1, 4),
                "USt_IdNr": f"DE{rng.randint(100000000, 999999999)}",
                "Zahlungsart": "RE",
                "Versandart": "DHL",
                "Kreditlimit": rng.choice([5000, 10000, float("inf")])
                if rng.random() < 0.05
                else rng.randint(1, 50) * 500,
                "Rabatt": rng.choice([0, 2.5, 5, 10]),
                "SkontoTage": 10,
                "NettoTage": 30,
            }
        )
        return self._finish(record, "last_modified")

    def _address(self, index: int) -> Record:
        rng = self.rng("Adressen", index)
        record = self._meta("Adressen", index, str(40000 + index), rng)
        first, last = fake.person(rng)
        record.update(
            {
                "AdrNr": 30000 + index % 150,
                "KundenNr": 20000 + index % 150,
                "Firma": f"{last} Papeterie",
                "Strasse": f"Hauptstraße {rng.randint(1, 200)}",
                "PLZ": f"{rng.randint(10000, 99999)}",
                "Ort": rng.choice(["München", "Köln", "Hamburg"]),
                "Land": "DE",
                "Telefon": fake.phone(rng),
                "Email": fake.email(rng, first, last),
                "IstLieferadresse": rng.random() < 0.5,
                "IstRechnungsadresse": rng.random() < 0.5,
                "IstHauptadresse": index < 150,
            }
        )
        return self._finish(record, "modified_date")

    def _document(self, index: int) -> Record:
        rng = self.rng("Belege", index)
        record = self._meta("Belege", index, str(700000 + index), rng)
        changed = record.pop("_changed")
        net = rng.randint(1000, 500000) / 100
        tax = round(net * 0.19, 2)
        record.update(
            {
                "AbsNr": 700000 + index,
                "PapierNr": 100000 + index,
                "created_date": changed.date().isoformat(),
                "Datum": erp_date(changed.date()),
                "Papierart": rng.choice(PAPER_KINDS),
                "KundenNr": 20000 + rng.randrange(150),
                "Netto": net,
                "MWST_EUR": tax,
                "Frachtkosten": rng.choice([0, 4.9, 6.5]),
                "Bearbeitungskos": 0,
                "Endbetrag": round(net + tax, 2) if rng.random() > 0.02 else float("nan"),
                "bezahlt": rng.random() < 0.7,
                "ZahlungsDat": erp_date(
                    changed.date() + datetime.timedelta(days=14) if rng.random() < 0.7 else None,
                    rng,
                ),
                "Währung": rng.choice(["EUR", "DM"]),
                "MWSt_Art": rng.choice(["JA", "JA", "NEIN"]),
                "Text": "Vielen Dank für Ihren Auftrag!",
                "NettoTage": 30,
                "SkontoTage": 10,
                "Skonto_G": rng.choice([0, 2, 3]),
                "Zahlungsart_A": "auf Rechnung",
                "Versandart": "DHL",
                "Bearbeiter": rng.choice(["MK", "SB", "AL"]),
                "Preisgruppe": rng.randint(1, 4),
                "Rabatt": rng.choice([0, 5]),
                "Lief_Adr": 40000 + rng.randrange(200),
                "Rech_Adr": 40000 + rng.randrange(200),
                "ZahlungBetrag": round(net + tax, 2) if rng.random() < 0.7 else 0,
                "Mahnstufe": rng.randint(0, 2),
                "ZahlungWaehr": "EUR",
            }
        )
        return record

    def _document_stamp(self, document: int) -> str:
        """The `__TIMESTAMP` the document was made with (a line keeps it when the document
        changes later), without making the whole document: its first draws."""
        rng = self.rng("Belege", document)
        return self._meta("Belege", document, str(700000 + document), rng)["__TIMESTAMP"]

    def _position(self, index: int) -> Record:
        document, number = divmod(index, POSITIONS_PER_DOCUMENT)
        rng = self.rng("Belege_Pos", index)
        quantity = rng.randint(1, 50)
        price = rng.randint(50, 2000) / 100
        return {
            "__KEY": f"{700000 + document}.{number + 1}",
            "__STAMP": 1,
            "__TIMESTAMP": self._document_stamp(document),
            "AbsNr": 700000 + document,
            "PosNr": number + 1,
            "ArtNr": f"V{5000 + rng.randrange(200)}",
            "Bezeichnung": f"Artikel {rng.randrange(200)}",
            "Menge": quantity,
            "Preis": price,
            "Rabatt": rng.choice([0, 5]),
            "Pos_Betrag": round(quantity * price, 2),
            "Pick_Menge": quantity,
            "Picking_ok": rng.random() < 0.8,
            "PreOrder": rng.random() < 0.05,
            "Art": rng.choice(["L", "L", "S", "T", "D"]),
        }

    def _stock(self, index: int) -> Record:
        rng = self.rng("Lagerbestand", index)
        record = self._meta("Lagerbestand", index, str(80000 + index), rng)
        record.update(
            {
                "ArtikelNr": f"V{5000 + index}",
                "Lagerort": f"L{index % 5}",
                "Bestand": rng.randint(-5, 900),
            }
        )
        return self._finish(record, "modified_date")

    def place_uuid(self, index: int) -> str:
        return f"5F3C0000-0000-4000-8000-{index:012d}"

    def _warehouse_place(self, index: int) -> Record:
        """Fields as PE's `config/inventory_sync.yaml` reads them; keyed by ID_Lagerort."""
        rng = self.rng("Stamm_Lagerorte", index)
        record = self._meta("Stamm_Lagerorte", index, self.place_uuid(index), rng)
        record.update(
            {
                "ID_Lagerort": 1 + index,
                "UUID": self.place_uuid(index),
                "Lagerort": f"L{index}",
                "Land_LKZ": "DE",
                "Ort_Gebaeude": rng.choice(["Halle 1", "Halle 2"]),
                "Abverkauf": index == 4,
                "Sonderlager": False,
                "Regal": 1 + index,
                "Fach": rng.randint(1, 9),
                "Boden": rng.randint(1, 5),
            }
        )
        return self._finish(record, "modified_date")

    def _article_place(self, index: int) -> Record:
        """Fields as PE's `transformers/product_storage.py` reads them; keyed by UUID."""
        rng = self.rng("Artikel_Lagerorte", index)
        uuid = f"9A1B0000-0000-4000-8000-{index:012d}"
        record = self._meta("Artikel_Lagerorte", index, uuid, rng)
        record.update(
            {
                "UUID": uuid,
                "ID_Artikel_Stamm": 5000 + index,
                "UUID_Stamm_Lagerorte": self.place_uuid(index % 5),
                "Bestand": rng.randint(0, 400),
                "Auftrags_Nr": rng.choice([None, 700000 + index]),
            }
        )
        return self._finish(record, "modified_date")

    def _shipping_method(self, index: int) -> Record:
        rng = self.rng("Versandarten", index)
        record = self._meta("Versandarten", index, f"S{index}", rng)
        record.update(
            {
                "Code": ["DHL", "UPS", "DPD", "GLS", "Abholung", "Spedition"][index],
                "Preis": [4.9, 6.5, 5.25, 4.75, 0, 89.99][index],
                "aktiv": index != 5,
            }
        )
        return self._finish(record, "modified_date")

    # Change --------------------------------------------------------------------------------

    def tick(self) -> datetime.datetime:
        """The stand-in's clock: each change lands on a later moment than the one before."""
        self.clock += datetime.timedelta(minutes=1)
        return self.clock

    def _delete_some(self, rng: fake.RecordRandom, counts: dict[str, int]) -> dict[str, t.Any]:
        deleted: dict[str, list[t.Any]] = {}
        for table, count in counts.items():
            live = list(self.tables[table].live_indices())
            for index in rng.sample(live, min(int(count), len(live))):
                for name, record in self.delete(table, index):
                    deleted.setdefault(name, []).append(record.get("__KEY"))
        return {"deleted": deleted}

    def delete(self, table: str, index: int) -> list[tuple[str, Record]]:
        """Delete a record as 4D does; a document takes its positions with it (the old
        sync's documents and positions are one sales record). Returns (table, record) of
        everything deleted."""
        gone = [(table, self.tables[table].delete(index))]
        if table == "Belege":
            positions = self.tables["Belege_Pos"]
            first = index * POSITIONS_PER_DOCUMENT
            for position in range(first, first + POSITIONS_PER_DOCUMENT):
                if positions.record(position) is not None:
                    gone.append(("Belege_Pos", positions.delete(position)))
        return gone

    def mutate(self, options: dict[str, t.Any]) -> dict[str, t.Any]:
        """New and changed products, customers and documents; stamps advance to today.
        `{"delete": {"Kunden": 3, "Belege": 2}}` deletes that many (only), as 4D does."""
        self._mutations += 1
        rng = fake.rng_for(self.seed, "mutate", self._mutations)
        if options.get("delete"):
            return self._delete_some(rng, options["delete"])
        changes: dict[str, t.Any] = {}
        for name in ("Artikel_Variante", "Kunden", "Belege"):
            table = self.tables[name]

            def update(record: Record, rng: fake.RecordRandom, name: str = name) -> Record:
                moment = self.tick()
                record["__STAMP"] += 1
                record["__TIMESTAMP"] = moment.isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"
                )
                field = {"Kunden": "last_modified", "Belege": "Datum"}.get(name, "modified_date")
                record[field] = erp_date(moment.date())
                if name == "Kunden":
                    record["Rabatt"] = 7.5
                elif name == "Belege":
                    record["bezahlt"] = True
                else:
                    record["Bezeichnung"] = f"{record['Bezeichnung']} (neu)"
                return record

            changes[name] = table.mutate(
                rng,
                update,
                updates=int(options.get("updates", 5)),
                deletes=0,
                creates=int(options.get("creates", 3)),
            )
            for index in changes[name]["created"]:
                self.born[(name, index)] = self.tick()
        created_documents = len(changes["Belege"]["created"])
        self.tables["Belege_Pos"].size += created_documents * POSITIONS_PER_DOCUMENT
        return changes
