"""What the suite's stream and tap classes need of the objects around them, as Protocols.

Each mixin of the suite derives from the SDK class it sits in front of (`Stream`, `Tap`,
or `sdk_adapter.StreamHooks` for the hooks it overrides), so Python places it before that
class in every stream that lists it, and the type checker reads every attribute and
`super()` call it uses against the SDK. What a mixin needs beyond the SDK is here:

- `TapServices`: what a suite stream asks of its tap (the shared rate limiter, and
  `isolated`, which records a child stream's failure and goes on); `suite_common.tap`'s
  `SuiteTap` provides both.
- `SampledStream`: what the schema drift check reads of a stream (a REST stream's pages,
  the records as the tap emits them).

The order the mixins need among a stream's other bases (a mixin before any class of the
stream that defines the same step without it) is checked by tests/suite_common/
test_contracts.py over every stream of every tap.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context

    from suite_common.http import RateLimiter


@t.runtime_checkable
class TapServices(t.Protocol):
    """What a suite stream needs of its tap beyond the SDK's `Tap`."""

    @property
    def rate_limiter(self) -> RateLimiter:
        """Shared by every stream: each request waits for its slot first."""
        ...

    def isolated(self, stream: Stream, read: t.Callable[[], None]) -> bool:
        """Run `read`; a failure that need not stop the run is recorded, False returned."""
        ...


@t.runtime_checkable
class SampledStream(t.Protocol):
    """What the schema drift check reads of a stream."""

    name: str

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """The raw records of the stream's pages."""
        ...

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """A raw record as the tap emits it."""
        ...


def services_of(tap: object) -> TapServices:
    """`tap` as the provider of the suite's services, or a TypeError naming what it lacks
    (a stream of the suite used under a tap that is not a `SuiteTap`)."""
    if not isinstance(tap, TapServices):
        raise TypeError(f"{type(tap).__name__} lacks rate_limiter or isolated: use SuiteTap")
    return tap
