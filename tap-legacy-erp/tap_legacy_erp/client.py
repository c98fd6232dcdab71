"""4D REST client: one session per run, `$top`/`$skip` paging, retries, exact values.

Sessions: `GET /rest/$info` opens one and answers with the `WASID4D` cookie (or
`4DSID_WSZ-DB`). The server fails when a request carries two such cookies and refuses new
sessions with 402 once its maximum is reached, and logout is unreliable, so the tap opens
one session for the whole run, shares it between streams and threads, and sends it as the
request's only session cookie (the requests cookie jar is kept out of it).

A session expires. 4D's REST documentation says a request without a valid session cookie
opens a new session, using another licence, and the answer carries its new cookie: the tap
adopts that cookie at once, so the following requests use the new session instead of each
opening one more (which filled the server's slots, then 402). When a server answers 401
instead, the request is retried after `$info` confirms the session or opens a new one; a
401 from `$info` itself means the username and password are wrong. 402 is retried with
growing waits, then ends in one line.

Query parameters are percent-encoded, spaces as `%20`: the old production client
(`louisepaul75/py-erp`) encodes `$filter` by hand that way after other encodings failed
against the live server, and form encoding (`+`) is not what 4D's URL parser reads.
"""

from __future__ import annotations

import dataclasses
import functools
import http.cookiejar
import logging
import threading
import typing as t
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams.rest import HTTPRequest
from suite_common.http import TransientError, with_retries
from suite_common.paging import OffsetPaginator, PageTotals, number_or_none
from suite_common.request_errors import (
    CredentialsError,
    UnreachableError,
    name_not_resolved,
    tls_error,
    unreachable,
)
from suite_common.response_body import json_body
from suite_common.sdk_adapter import tap_of
from suite_common.state import SkipNullBookmarks
from suite_common.streams import SuiteRESTStream

from tap_legacy_erp.values import decode_body, may_hold_non_finite, without_non_finite

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

SESSION_COOKIES = ("WASID4D", "4DSID_WSZ-DB")


class TooManySessionsError(FatalAPIError):
    """The 4D server kept answering 402: its maximum number of sessions is reached."""


class ErpUnreachableError(UnreachableError):
    """The 4D server could not be reached to open a session."""


class _RefuseAll(http.cookiejar.DefaultCookiePolicy):
    """Keeps a cookie jar empty: the session cookie is sent by `ErpSession` (a request's
    Cookie header is set last, by the authenticator, so other jars cannot add a second)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: t.Any) -> bool:
        return False


class ErpSession:
    """The run's one 4D session, shared by every stream (thread-safe)."""

    def __init__(
        self,
        rest_url: str,
        *,
        auth: tuple[str, str] | None,
        timeout: float,
        tries: int,
        base_wait: float,
        logger: logging.Logger,
        session_file: Path | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.rest_url = rest_url
        self.session_file = session_file
        self.timeout = timeout
        self.tries = tries
        self.base_wait = base_wait
        self.logger = logger
        self.basic_auth = auth
        self.http = requests.Session()
        """For `$info` (and samples) only: the streams' own sessions send data requests."""
        self.http.cookies.set_policy(_RefuseAll())
        self.http.auth = auth
        self.verify: str | bool = ca_bundle or True
        """Passed with each request: requests prefers REQUESTS_CA_BUNDLE to a session's own."""
        self._cookie: str | None = self._saved_cookie()
        self._confirmed = False
        self._lock = threading.Lock()
        self.opened = 0
        """Sessions opened in this run (for the log and the tests)."""

    def cookie(self) -> str:
        """`WASID4D=…` of a session the server confirmed (opened on first use)."""
        with self._lock:
            if not self._confirmed:
                self._cookie = self._info()
                self._confirmed = True
                self._save_cookie()
            return t.cast(str, self._cookie)

    def _saved_cookie(self) -> str | None:
        """The session an earlier run left in `session_file`, to be confirmed by `$info`:
        with a run every few minutes and sessions that outlive a run (logout is unreliable),
        opening one per run would fill the server's session slots (402)."""
        if self.session_file is None:
            return None
        try:
            text = self.session_file.read_text().strip()
        except OSError:
            return None
        return text if text.split("=", 1)[0] in SESSION_COOKIES else None

    def _save_cookie(self) -> None:
        if self.session_file is None or not self._cookie:
            return
        try:
            self.session_file.parent.mkdir(parents=True, exist_ok=True)
            self.session_file.touch(mode=0o600)  # a session id is a credential: owner only
            self.session_file.write_text(self._cookie)
        except OSError as exc:
            self.logger.warning("Could not keep the 4D session in %s: %s", self.session_file, exc)

    def adopt(self, response: requests.Response, sent: str | None) -> None:
        """The server answered a request with a new session cookie: the session `sent`
        had expired and the server opened another for the request. Later requests use it.
        If another thread adopted one already, this one is left to expire."""
        fresh = _cookie_of(response)
        if fresh is None or fresh == sent:
            return
        with self._lock:
            if sent != self._cookie:
                return
            self._cookie, self._confirmed = fresh, True
            self.opened += 1
            self._save_cookie()
        self.logger.info(
            "The 4D session expired; the server opened a new one (%d in this run)", self.opened
        )

    def recheck(self, used: str | None) -> None:
        """The server refused `used`: the next request checks it with `$info` first (which
        opens a new session when it has expired). Another thread may already have."""
        with self._lock:
            if used == self._cookie:
                self._confirmed = False

    def _info(self) -> str:
        """`GET $info` with the current session cookie, if any: the server confirms it or
        opens a new one. Retries 402, 5xx and unreachable servers with growing waits."""
        url = f"{self.rest_url}/$info"
        sent = self._cookie
        try:
            return with_retries(
                lambda: self._info_once(url, sent), self.tries, self.base_wait, self.logger
            )
        except TransientError as exc:
            if exc.response is not None and exc.response.status_code == 402:
                raise TooManySessionsError(f"{exc}, {self.tries} times") from None
            raise ErpUnreachableError(f"{exc}, {self.tries} times") from None

    def _info_once(self, url: str, sent: str | None) -> str:
        """One try of `$info`: the session cookie, or `TransientError` for what may pass."""
        headers = {"Cookie": sent} if sent else {}
        try:
            response = self.get(url, headers=headers)
        except requests.exceptions.SSLError as exc:
            raise tls_error(exc, url) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            if name_not_resolved(exc):  # no retry makes a name resolve
                raise ErpUnreachableError(str(unreachable(exc, url, 1))) from None
            problem = f"cannot reach the ERP at {_where(url)} ({type(exc).__name__})"
            raise TransientError(problem) from None
        if response.status_code == 402:
            problem = "the ERP refused a new session: maximum number of sessions reached (402)"
            raise TransientError(problem, response)
        if response.status_code in (401, 403):
            raise CredentialsError(
                f"the ERP refused the username and password ({response.status_code} on "
                f"{_where(url)})"
            )
        if response.status_code >= 500:
            problem = f"the ERP answered {response.status_code} on {_where(url)}"
            raise TransientError(problem, response)
        if not response.ok:
            raise FatalAPIError(f"the ERP answered {response.status_code} on {_where(url)}")
        return self._session_cookie(response, sent)

    def get(self, url: str, **kwargs: t.Any) -> requests.Response:
        """A request outside the streams (`$info`, samples): timeout and TLS as configured."""
        return self.http.get(url, timeout=self.timeout, verify=self.verify, **kwargs)

    def _session_cookie(self, response: requests.Response, sent: str | None) -> str:
        cookie = _cookie_of(response)
        if cookie is not None and cookie != sent:
            self.opened += 1
            self.logger.info("Opened a 4D session (%d in this run)", self.opened)
            return cookie
        if sent:  # confirmed, with or without the cookie sent again
            self.logger.info("The 4D server confirmed the session of an earlier run")
            return sent
        self.logger.warning(  # as the old production client did, carry on
            "$info answered without a WASID4D cookie: going on without a session"
        )
        return ""


def _cookie_of(response: requests.Response) -> str | None:
    """`WASID4D=…` (or `4DSID_WSZ-DB=…`) when the answer sets a session cookie."""
    for name in SESSION_COOKIES:
        value = response.cookies.get(name)
        if value:
            return f"{name}={value}"
    return None


class ErpSessionAuthenticator(APIAuthenticatorBase):
    """Puts the run's session cookie (and basic auth, when set) on each request, retries
    included, so a session opened again is what a retried request carries."""

    def __init__(self, session: ErpSession) -> None:
        super().__init__()
        self.session = session

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        cookie = self.session.cookie()
        if cookie:
            request.headers["Cookie"] = cookie
        if self.session.basic_auth:
            request.prepare_auth(self.session.basic_auth)
        return request


@dataclasses.dataclass(slots=True)
class PercentEncodedRequest(HTTPRequest):
    """Query parameters percent-encoded, a space as `%20` (see the module docstring)."""

    def encode_params(self) -> str:
        pairs = [(k, v) for k, v in self.params.items() if v is not None]
        return urlencode(pairs, quote_via=quote, safe=self.safe_query_chars)


def entities(response: requests.Response) -> list[dict]:
    """The records of a page (`__ENTITIES`)."""
    body = json_body(response, decode_body)
    return t.cast(list, body.get("__ENTITIES") or [] if isinstance(body, dict) else [])


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"


@t.runtime_checkable
class ErpTap(t.Protocol):
    """What the ERP's streams need of their tap: the REST root and the one 4D session."""

    @property
    def rest_url(self) -> str: ...

    @property
    def erp_session(self) -> ErpSession: ...


def erp_tap(tap: object) -> ErpTap:
    """`tap` as the ERP's tap, or a TypeError naming what it lacks."""
    if not isinstance(tap, ErpTap):
        raise TypeError(f"{type(tap).__name__} lacks rest_url or erp_session: use TapLegacyErp")
    return tap


class ErpStream(SkipNullBookmarks, SuiteRESTStream):
    """Shared behaviour of every ERP stream."""

    service = "the ERP"
    credentials_name = "the username and password"
    credentials_refused_codes = (401, 403)  # 4D answers 403 to a failed authentication
    body_decoder = staticmethod(decode_body)

    @property
    def url_base(self) -> str:
        return erp_tap(tap_of(self)).rest_url

    @property
    def erp_session(self) -> ErpSession:
        return erp_tap(tap_of(self)).erp_session

    @functools.cached_property
    def authenticator(self) -> ErpSessionAuthenticator:
        return ErpSessionAuthenticator(self.erp_session)

    def page_totals(self, response: requests.Response) -> PageTotals:
        """4D's `__COUNT`: the records the whole (filtered) table holds."""
        body = self.parsed_body(response)
        count = number_or_none(body.get("__COUNT")) if isinstance(body, dict) else None
        return PageTotals(records=len(entities(response)), total_records=count)

    def get_new_paginator(self) -> OffsetPaginator:
        """`$skip` 0, then on by the records each page brought (a page may carry one stray
        extra record, so by at most `$top`), until `__COUNT` or an empty page."""
        return OffsetPaginator(self.page_totals, self.page_size, self.config.get("max_pages"))

    def filter_text(self, context: Context | None) -> str:
        """The `$filter` of a request; empty for none."""
        return ""

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        return PercentEncodedRequest(
            **{f.name: getattr(request, f.name) for f in dataclasses.fields(request)}
        )

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"$top": self.page_size, "$skip": next_page_token or 0}
        text = self.filter_text(context)
        if text:
            params["$filter"] = text
        return params

    @functools.cached_property
    def non_finite(self) -> Counter[str]:
        """NaN/±Infinity read as null, by field."""
        return Counter()

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        records = entities(response)
        if may_hold_non_finite(response.content):
            counts = self.non_finite
            records = [
                {k: without_non_finite(v, k, counts) for k, v in record.items()}
                for record in records
            ]
        return records

    def validate_response(self, response: requests.Response) -> None:
        """A 401 on a data request means the session is gone: check it and retry."""
        if response.status_code == 401:
            self.erp_session.recheck(response.request.headers.get("Cookie"))
            path = urlsplit(response.url).path
            raise RetriableAPIError(f"the ERP session was refused on {path}", response)
        if response.status_code == 402:
            raise RetriableAPIError("the ERP has no session left (402)", response)
        self.erp_session.adopt(response, response.request.headers.get("Cookie"))
        super().validate_response(response)

    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and 4D's own error messages (`__ERROR`)."""
        try:
            errors = decode_body(response.content).get("__ERROR") or []
            detail = "; ".join(str(e.get("message", "")) for e in errors)
        except (ValueError, AttributeError):
            detail = response.text[:200]
        return f"{response.status_code} from the ERP on {urlsplit(response.url).path}: {detail}"
