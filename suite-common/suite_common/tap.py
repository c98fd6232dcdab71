"""The Tap base every tap of the suite extends: what each does alike when it starts.

- Records are written in buffered blocks (`suite_common.messages`).
- `--test=schema` compares the live source with the schemas (`suite_common.drift`).
- A refused setting that is secret is named without its value.
- A setting the tap does not know (`api_urll`) gets a warning naming the closest known one:
  the SDK ignores unknown settings silently, so a typo looked like a default.
- A setting's former name (`renamed_settings`) still works, with a warning; so does a
  setting's former meaning as a switch (`reconcile_days` alone turns `reconcile` on).
- METRIC lines, half of every log, are shown only at `LOGLEVEL=DEBUG` (or the plugin's own
  `<TAP_NAME>_LOGLEVEL=DEBUG`).
- After a sync, what the contact checks flagged per stream (`suite_common.contacts`).
- One `rate_limiter` for all streams, from `requests_per_hour` and `requests_per_minute`
  when the tap declares them (`suite_common.http.RateLimiter`).
"""

from __future__ import annotations

import functools
import typing as t

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from suite_common.drift import SchemaDriftCheck
from suite_common.http import RateLimiter
from suite_common.messages import BufferedRecordsWriter
from suite_common.reconcile import FORMER_SWITCHES
from suite_common.settings import check_at_start, without_secrets


class SuiteTap(SchemaDriftCheck, Tap):
    """A singer-sdk Tap with the suite's start-up behaviour (see the module docstring)."""

    message_writer_class = BufferedRecordsWriter
    renamed_settings: t.ClassVar[dict[str, str]] = {}
    """Former setting name → current name."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # The settings as given, before the SDK fills in the defaults (in the same dict).
        given = kwargs.get("config")
        given_names = set(given) if isinstance(given, dict) else None
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            raise without_secrets(exc) from None
        given_names = set(self.config) if given_names is None else given_names
        check_at_start(self, self.renamed_settings, FORMER_SWITCHES, given_names)

    def sync_all(self) -> None:
        """Sync, then report what the contact checks flagged, per stream."""
        super().sync_all()
        for stream in self.streams.values():
            contacts = getattr(stream, "contacts", None)
            if contacts is not None and (contacts.phones or contacts.emails):
                self.logger.info("Data quality, %s: %s", stream.name, contacts.summary())

    @functools.cached_property
    def rate_limiter(self) -> RateLimiter:
        """Shared by every stream: each request waits for its slot first."""
        per_hour = self.config.get("requests_per_hour")
        per_minute = self.config.get("requests_per_minute")
        return RateLimiter(int(per_hour) if per_hour else None, per_minute)
