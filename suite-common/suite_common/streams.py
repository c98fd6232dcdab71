"""The REST stream behaviour every tap of the suite shares, written once.

- Each request first waits for the tap's shared `RateLimiter` (the key is per account or
  per credential, as the API counts), so the tap does not run into 429s.
- 401 raises `CredentialsError` (one line, naming the setting, never the secret), which
  stops the run; 403 (a key without the permission for one list) fails that stream; 429
  and bodies that are not JSON are retried like 5xx, timeouts and dropped connections,
  waiting for `Retry-After` when the answer carries one, else exponentially.
- JSON is parsed once per response, numbers with a fraction as exact Decimals.
- Records keep the schema's properties as columns; a field the API adds that the schema does
  not declare lands in `_sdc_extra` (a JSON object, jsonb in the warehouse), named once per
  run in the log, unless `keep_new_fields` is off (`suite_common.new_fields`). The SDK's
  per-value type conformance, the costliest part of a tap's per-record work, is off because
  `post_process` normalises.
- Pages are requested one ahead on a thread (`suite_common.prefetch`) while the current
  page's records are processed, so a sync takes the longer of API time and tap time, not
  their sum; `prefetch_pages = False` on a stream turns it off.
- RECORD messages skip the SDK's per-record selection walk (`LeanRecordMessages`).
- A list ends, with a warning, when the server sends the very same page again: a server
  that ignores the paging parameter would otherwise be read forever when it sends no totals.
- A child stream that fails under a parent without a bookmark fails alone (`sync_child`).
"""

from __future__ import annotations

import decimal
import functools
import hashlib
import re
import typing as t
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.streams import RESTStream, Stream
from singer_sdk.streams.rest import PageContext

from suite_common.http import retry_waits
from suite_common.messages import LeanRecordMessages
from suite_common.new_fields import EXTRA_FIELDS, NewFields, keeps_new_fields, with_extra_property
from suite_common.paging import PageTotals, Verdict, empty_page_verdict
from suite_common.prefetch import prefetched
from suite_common.schemas import SchemaOverCatalog
from suite_common.sdk_adapter import StreamHooks, sdk_request, tap_of

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class CredentialsError(FatalAPIError):
    """The API refused the credentials: retrying cannot help."""


class AccessDeniedError(FatalAPIError):
    """The API refused one request's resource to valid credentials (403): that stream
    fails, the others go on."""


class TlsVerificationError(FatalAPIError):
    """The server's certificate could not be verified: retrying cannot help."""


class UnreachableError(FatalAPIError):
    """The API's host cannot be found, or kept refusing connections through every retry."""


UNREACHABLE_FIX = (
    UnreachableError,
    "check the API's URL setting (api_url or base_url), and this machine's DNS and network",
)
"""The `run_cli` entry every REST tap lists for a host it cannot reach."""


def unreachable(exc: requests.exceptions.ConnectionError, url: str, tries: int) -> UnreachableError:
    """One line: which host, and why (name not found, refused, …), without the URL's query."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    if name_not_resolved(exc):
        return UnreachableError(f"cannot resolve the host {parts.hostname} (no such name)")
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    said = reason.group(1).strip() if reason else type(exc).__name__
    return UnreachableError(f"cannot reach {where} ({said}), {tries} tries")


def name_not_resolved(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve: not transient.
    requests wraps urllib3's NameResolutionError a few levels deep (causes and args)."""
    pending: list[BaseException] = [exc]
    for _ in range(12):
        if not pending:
            return False
        seen = pending.pop()
        if type(seen).__name__ == "NameResolutionError":
            return True
        pending += [e for e in (seen.__cause__, seen.__context__) if e is not None]
        pending += [a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return False


TLS_FIX = (
    TlsVerificationError,
    "set ca_bundle to the PEM file of the CA that signed the server's certificate "
    "(verification is never turned off)",
)
"""The `run_cli` entry every REST tap lists for a certificate it cannot verify."""


def tls_error(exc: requests.exceptions.SSLError, url: str) -> TlsVerificationError:
    """One line: where, and what the TLS library said (requests wraps it several times)."""
    found = re.search(r"\[SSL[^\]]*\][^'\"(]*", str(exc))
    reason = found.group(0).strip() if found else type(exc).__name__
    parts = urlsplit(url)
    return TlsVerificationError(
        f"cannot verify the TLS certificate of {parts.hostname}:{parts.port or 443} ({reason})"
    )


_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


def json_body(
    response: requests.Response, decode: t.Callable[[bytes], t.Any] = _DECODER.decode
) -> t.Any:
    """The parsed body, once per response; fractions become exact Decimals. msgspec parses
    a page three times faster than the json module, which matters at 250 records a page.
    `decode` (bytes → body, ValueError when it cannot) replaces it for an API that writes
    something else than strict JSON."""
    cached = getattr(response, "suite_json_body", None)
    if cached is None:
        cached = decode(response.content)  # msgspec.DecodeError is a ValueError
        response.suite_json_body = cached  # type: ignore[attr-defined]
    return cached


class SuiteRESTStream(SchemaOverCatalog, LeanRecordMessages, StreamHooks, RESTStream):
    """Base of every REST stream of the suite; a tap's client sets the class attributes."""

    service = "the API"
    """Name used in messages, e.g. "CallRail"."""
    credentials_name = "the credentials"
    """What a 401 refused, e.g. "the API key"."""
    credentials_refused_codes: tuple[int, ...] = (401,)
    """Statuses that mean the credentials were refused (every stream would fail)."""
    error_fields: tuple[str, ...] = ("error",)
    """Keys of the API's error body that explain a failure."""
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    prefetch_pages = True
    """Request the next page while this one's records are processed."""
    body_decoder: t.Callable[[bytes], t.Any] = staticmethod(_DECODER.decode)
    """Bytes → parsed body (see `json_body`)."""
    default_page_size: int | None = None
    """Records per request when the `page_size` setting is not set."""
    max_page_size: int | None = None
    """The most records per request the API allows, if it says."""

    @property
    def page_size(self) -> int | None:
        """Records per request: the `page_size` setting (one name in every tap), else the
        stream's default, at most `max_page_size`."""
        size = self.config.get("page_size") or self.default_page_size
        if size is None:
            return self.max_page_size
        return min(int(size), self.max_page_size or int(size))

    def sync_child(self, child: Stream, context: Context) -> None:
        """A child that fails does not stop this stream and its other children when this
        stream keeps no bookmark (CallRail's accounts): the tap records the failure and
        asks that child no more. Under a bookmark the failure stops this stream too, so
        the bookmark never passes parent records whose children were not read."""
        tap = tap_of(self)
        if self.replication_key or not hasattr(tap, "isolated"):
            super().sync_child(child, context)
            return
        tap.isolated(child, lambda: super(SuiteRESTStream, self).sync_child(child, context))

    def page_totals(self, response: requests.Response) -> PageTotals:
        """What a page says about its list (a tap reads its API's totals here); by
        default only its size."""
        return PageTotals(records=len(list(self.parse_response(response))))

    def parsed_body(self, response: requests.Response) -> t.Any:
        """The response's body, parsed once with the stream's decoder."""
        return json_body(response, self.body_decoder)

    def rate_limit_key(self, context: Context | None) -> str:
        """Whose budget a request spends (the API's unit of rate limiting)."""
        return "default"

    @property
    def timeout(self) -> int:
        return int(self.config["timeout_seconds"])

    @property
    def schema(self) -> dict:
        """The bundled (or catalog's) schema, with `_sdc_extra` where new fields are kept."""
        return with_extra_property(super().schema, keeps_new_fields(self.config))

    @functools.cached_property
    def schema_properties(self) -> frozenset[str]:
        """Names the schema declares as columns."""
        return frozenset(self.schema["properties"]) - {EXTRA_FIELDS}

    @functools.cached_property
    def new_fields(self) -> NewFields:
        """The fields of this run the schema does not declare."""
        return NewFields(self.name, self.service, self.logger, keeps_new_fields(self.config))

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """The schema's properties; what else the API sends goes to `_sdc_extra` (or is
        left out when `keep_new_fields` is off)."""
        properties = self.schema_properties
        if row.keys() <= properties:
            return row
        return self.new_fields.set_aside(row, properties)

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Records of every page; when there is more than one page, the next is requested
        while this one's records are processed (see the module docstring)."""
        paginator = self.get_new_paginator() or SinglePagePaginator()
        pages = self.request_pages(context, paginator)
        first = next(pages, None)
        if first is None:
            return
        if self.prefetch_pages and not paginator.finished:
            pages = prefetched(pages, name=f"{self.name}-pages")
        yield from first
        for records in pages:
            yield from records

    def request_pages(
        self, context: Context | None, paginator: BaseAPIPaginator
    ) -> t.Iterator[list[dict]]:
        """The records of each page in turn: the SDK's request loop (retries, request
        metrics), a page at a time, the paginator advanced before the page is handed over so
        that the caller knows whether another page follows."""

        def send_page(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            response = self.send_request(prepared_request, context)
            self.check_not_cut_short(response, paginator)
            return response

        decorated_request = self.request_decorator(send_page)
        previous_page = b""
        with self.get_http_request_counter() as request_counter:
            request_counter.with_context(context)
            while not paginator.finished:
                prepared_request = self.page_request(context, paginator)
                try:
                    response = decorated_request(prepared_request, context)
                except requests.exceptions.ConnectionError as exc:
                    tries = self.backoff_max_tries()
                    raise unreachable(exc, str(prepared_request.url), tries) from None
                request_counter.increment()
                self.update_sync_costs(prepared_request, response, context)
                records = list(self.parse_response(response))
                if not records and not paginator.continue_if_empty(response):
                    self.log("Pagination stopped: a page came back without records")
                    return
                page = hashlib.blake2b(response.content, digest_size=16).digest()
                if records and page == previous_page:
                    self.logger.warning(
                        "%s: %s sent the same page twice, as if it ignored the page asked "
                        "for; the list ends here (set max_pages to read a fixed number)",
                        self.name,
                        self.service,
                    )
                    return
                previous_page = page
                paginator.advance(response)
                if records:
                    yield records

    def check_not_cut_short(self, response: requests.Response, paginator: t.Any) -> None:
        """An empty page that came too early is asked for again (see suite_common.paging):
        raised as retriable, so the SDK's backoff asks; a page still empty after the retries
        fails the run with the bookmark unmoved."""
        history = getattr(paginator, "history", None)
        if history is None:
            return
        page = self.page_totals(response)
        if page.records:
            return
        verdict = empty_page_verdict(page, history, self.page_size)
        path = urlsplit(response.url).path
        if verdict is Verdict.MORE:
            message = f"{self.service} sent an empty page on {path} with more to come"
            raise RetriableAPIError(message, response)
        if verdict is Verdict.ASK_AGAIN and response.url not in self.empty_pages_asked_again:
            self.empty_pages_asked_again.add(response.url)
            message = f"{self.service} sent an empty page on {path} after a full one"
            raise RetriableAPIError(f"{message}; asking once more", response)

    @functools.cached_property
    def empty_pages_asked_again(self) -> set[str]:
        """URLs of empty pages already asked for once more."""
        return set()

    @property
    def requests_session(self) -> requests.Session:
        """The SDK's session, verifying certificates against `ca_bundle` when it is set."""
        session = super().requests_session
        bundle = self.config.get("ca_bundle")
        if bundle:
            session.verify = str(bundle)
        return session

    def page_request(
        self, context: Context | None, paginator: BaseAPIPaginator
    ) -> requests.PreparedRequest:
        """The request for the paginator's current page, built from `get_http_request`
        (which the taps override) as the SDK builds it."""
        page = PageContext(stream_context=context, next_page_token=paginator.current_value)
        request = self.get_http_request(page=page)
        body = {"json" if self.payload_as_json else "data": request.data}
        return self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
            **body,
        )

    def send_request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One try of a request: after the rate limiter's wait, as the SDK sends it; a
        certificate or a host name that cannot work is said in one line, not retried."""
        tap_of(self).rate_limiter.wait(self.rate_limit_key(context))  # type: ignore[attr-defined]
        try:
            return sdk_request(self, prepared_request, context)
        except requests.exceptions.SSLError as exc:
            raise tls_error(exc, str(prepared_request.url)) from None
        except requests.exceptions.ConnectionError as exc:
            if name_not_resolved(exc):  # a name that does not resolve: no retry helps
                raise unreachable(exc, str(prepared_request.url), 1) from None
            raise

    def validate_response(self, response: requests.Response) -> None:
        path = urlsplit(response.url).path
        if response.status_code in self.credentials_refused_codes:
            raise CredentialsError(
                f"{self.service} refused {self.credentials_name} ({response.status_code} on {path})"
            )
        if response.status_code == 403:
            raise AccessDeniedError(
                f"{self.service} refused access to {path} (403): {self.credentials_name} may "
                "lack the permission for it"
            )
        if response.status_code == 429:
            raise RetriableAPIError(f"rate limited (429) on {path}", response)
        super().validate_response(response)
        try:
            self.parsed_body(response)
        except ValueError as exc:
            message = f"{self.service} sent a body that is not JSON on {path}: {exc}"
            raise RetriableAPIError(message, response) from None

    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and the API's own error text; no headers, so no credentials."""
        try:
            body = response.json()
            detail = " ".join(str(body.get(key, "")) for key in self.error_fields).strip()
        except (ValueError, AttributeError):
            detail = response.text[:200]
        path = urlsplit(response.url).path
        said = f": {detail}" if detail else ""
        return f"{response.status_code} from {self.service} on {path}{said}"

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Retry-After when the API sends it, else exponential waits (capped), plus jitter."""
        return retry_waits(float(self.config["backoff_base_seconds"]))

    def backoff_max_tries(self) -> int:
        return int(self.config["max_retries"])
