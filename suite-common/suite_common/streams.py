"""The REST stream behaviour every tap of the suite shares, written once.

- Each request first waits for the tap's shared `RateLimiter` (the key is per account or
  per credential, as the API counts), so the tap does not run into 429s.
- 401 raises `CredentialsError` (one line, naming the setting, never the secret), which
  stops the run; 403 (a key without the permission for one list) fails that stream; 429
  and bodies that are not JSON are retried like 5xx, timeouts and dropped connections,
  waiting for `Retry-After` when the answer carries one, else exponentially.
- Records keep the schema's properties as columns; a field the API adds that the schema does
  not declare lands in `_sdc_extra` (a JSON object, jsonb in the warehouse), named once per
  run in the log, unless `keep_new_fields` is off (`suite_common.new_fields`). The SDK's
  per-value type conformance, the costliest part of a tap's per-record work, is off because
  `post_process` normalises.
- JSON is parsed once per response (`suite_common.response_body`); a failed request is
  worded by `suite_common.request_errors`.
- Pages are read by the suite's page loop (`suite_common.page_loop`): one ahead, and a list
  ends when the server sends the same page twice.
- RECORD messages skip the SDK's per-record selection walk (`LeanRecordMessages`).
- A child stream that fails under a parent without a bookmark fails alone (`sync_child`).
"""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream, Stream

from suite_common.contracts import TapServices, services_of
from suite_common.http import retry_waits
from suite_common.messages import LeanRecordMessages
from suite_common.new_fields import EXTRA_FIELDS, NewFields, keeps_new_fields, with_extra_property
from suite_common.page_loop import PageLoop
from suite_common.request_errors import (
    AccessDeniedError,
    CredentialsError,
    name_not_resolved,
    tls_error,
    unreachable,
)
from suite_common.response_body import DECODER, json_body
from suite_common.schemas import SchemaOverCatalog
from suite_common.sdk_adapter import StreamHooks, sdk_request, tap_of

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class SuiteRESTStream(SchemaOverCatalog, LeanRecordMessages, PageLoop, StreamHooks, RESTStream):
    """Base of every REST stream of the suite; a tap's client sets the class attributes."""

    credentials_name = "the credentials"
    """What a 401 refused, e.g. "the API key"."""
    credentials_refused_codes: tuple[int, ...] = (401,)
    """Statuses that mean the credentials were refused (every stream would fail)."""
    error_fields: tuple[str, ...] = ("error",)
    """Keys of the API's error body that explain a failure."""
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    body_decoder: t.Callable[[bytes], t.Any] = staticmethod(DECODER.decode)
    """Bytes → parsed body (see `json_body`)."""

    @property
    def url_base(self) -> str:
        """The API's root: the `api_url` setting (one name in every REST tap)."""
        return str(self.config["api_url"]).rstrip("/")

    def sync_child(self, child: Stream, context: Context) -> None:
        """A child that fails does not stop this stream and its other children when this
        stream keeps no bookmark (CallRail's accounts): the tap records the failure and
        asks that child no more. Under a bookmark the failure stops this stream too, so
        the bookmark never passes parent records whose children were not read."""
        tap = tap_of(self)
        if self.replication_key or not isinstance(tap, TapServices):
            super().sync_child(child, context)
            return
        tap.isolated(child, lambda: super(SuiteRESTStream, self).sync_child(child, context))

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

    @property
    def requests_session(self) -> requests.Session:
        """The SDK's session, verifying certificates against `ca_bundle` when it is set."""
        session = super().requests_session
        bundle = self.config.get("ca_bundle")
        if bundle:
            session.verify = str(bundle)
        return session

    def send_request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One try of a request: after the rate limiter's wait, as the SDK sends it; a
        certificate or a host name that cannot work is said in one line, not retried."""
        services_of(tap_of(self)).rate_limiter.wait(self.rate_limit_key(context))
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
