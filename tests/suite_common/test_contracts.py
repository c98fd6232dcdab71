"""suite_common.contracts and the order of the suite's mixins in every stream of every tap.

Each mixin derives from the SDK class it sits in front of, so Python itself refuses a
stream that lists it after that class. What Python accepts but would still break a mixin is
a class of the stream's own that defines the same step and comes before the mixin (a
`GeniusTable` before `ReconciledStream` would read records the pass never notes): the
rule below finds it, in every stream class of the four taps.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.streams import RESTStream
from suite_common.contacts import ContactColumns
from suite_common.contracts import TapServices, services_of
from suite_common.messages import LeanRecordMessages
from suite_common.reconcile import ReconciledStream
from suite_common.schemas import BundledSchema, SchemaOverCatalog
from suite_common.sdk_adapter import StreamHooks
from suite_common.state import SkipNullBookmarks
from suite_common.streams import SuiteRESTStream

MIXINS = (
    ReconciledStream,
    BundledSchema,
    SchemaOverCatalog,
    ContactColumns,
    SkipNullBookmarks,
    LeanRecordMessages,
    StreamHooks,
)
TAP_MODULES = [
    f"{package}.{module}"
    for package in ("tap_arrivy", "tap_callrail", "tap_genius", "tap_legacy_erp")
    for module in ("client", "streams")
]


def stream_classes() -> list[type]:
    """Every stream class the four taps define."""
    found = {
        cls
        for name in TAP_MODULES
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass)
        if issubclass(cls, Stream) and cls.__module__.startswith("tap_")
    }
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def is_step(name: str, value: object) -> bool:
    """A method or property a mixin defines (not Python's or abc's bookkeeping)."""
    if name.startswith(("__", "_abc")):
        return False
    return callable(value) or isinstance(value, (property, functools.cached_property))


def order_problems(cls: type) -> list[str]:
    """Each class before a suite mixin in `cls`'s MRO that defines a step the mixin defines,
    without being built on the mixin: that class's step would hide the mixin's."""
    mro = cls.__mro__
    problems = []
    for mixin in (m for m in MIXINS if m in mro):
        steps = {name for name, value in vars(mixin).items() if is_step(name, value)}
        for earlier in mro[: mro.index(mixin)]:
            hidden = sorted(steps & set(vars(earlier)))
            if hidden and not issubclass(earlier, mixin):
                problems.append(f"{earlier.__name__} hides {mixin.__name__}.{', '.join(hidden)}")
    return problems


def test_the_rule_reads_every_tap_and_every_mixin_is_used():
    classes = stream_classes()
    assert len(classes) > 40
    used = {mixin for cls in classes for mixin in MIXINS if mixin in cls.__mro__}
    assert used == set(MIXINS)


@pytest.mark.parametrize("cls", stream_classes(), ids=lambda cls: cls.__qualname__)
def test_every_stream_lists_its_mixins_before_the_steps_they_wrap(cls):
    assert order_problems(cls) == []


def test_a_mixin_after_a_class_of_the_stream_that_hides_it_is_found():
    from tap_genius.client import GeniusTable

    class Reordered(GeniusTable, ReconciledStream):  # Python accepts this order
        pass

    assert any("GeniusTable hides ReconciledStream" in p for p in order_problems(Reordered))


def test_python_refuses_a_mixin_after_the_class_it_sits_in_front_of():
    with pytest.raises(TypeError, match="consistent method resolution"):
        type("Wrong", (StreamHooks, SkipNullBookmarks), {})
    with pytest.raises(TypeError, match="consistent method resolution"):
        type("Wrong", (StreamHooks, LeanRecordMessages, RESTStream), {})


def test_a_suite_stream_under_a_tap_without_the_suites_services_is_refused_by_name():
    assert issubclass(SuiteRESTStream, Stream)
    assert not isinstance(object(), TapServices)
    with pytest.raises(TypeError, match="lacks rate_limiter or isolated: use SuiteTap"):
        services_of(Tap.__new__(Tap))
